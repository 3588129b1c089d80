/*
Copyright 2026 The asyncjob Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package webhook

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestCheckURL(t *testing.T) {
	def := Policy{}
	for _, tc := range []struct {
		url string
		ok  bool
	}{
		{"https://hooks.example.com/asyncjob", true},
		{"http://203.0.113.7:8080/x", true},
		{"ftp://example.com/", false},
		{"https://user:pw@example.com/", false},
		{"/relative", false},
		{"https://127.0.0.1/", false},
		{"https://[::1]:8443/", false},
		{"https://169.254.169.254/latest/meta-data", false},
		{"https://10.2.3.4/", false},
		{"https://[::ffff:127.0.0.1]/", false},
		{"https://example.com/#frag", false},
	} {
		err := def.CheckURL(tc.url)
		if (err == nil) != tc.ok {
			t.Errorf("CheckURL(%q) = %v, want ok=%v", tc.url, err, tc.ok)
		}
	}
	allowLoopback, err := ParsePolicy([]string{"127.0.0.0/8"})
	if err != nil {
		t.Fatal(err)
	}
	if err := allowLoopback.CheckURL("http://127.0.0.1:9/"); err != nil {
		t.Errorf("an allowed range is refused: %v", err)
	}
}

// TestControlRefusesANameThatResolvesToLoopback dials through the policy: the
// URL's host is a name, accepted at submission, but the address it resolves
// to is refused when the connection is made.
func TestControlRefusesANameThatResolvesToLoopback(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())

	client := func(p Policy) *http.Client {
		d := &net.Dialer{Timeout: 2 * time.Second, Control: p.Control}
		return &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
	}
	url := "http://localhost:" + port + "/"
	if err := (Policy{}).CheckURL(url); err != nil {
		t.Fatalf("a host name must pass CheckURL (it is checked at dial time): %v", err)
	}
	_, err := client(Policy{}).Get(url)
	if !errors.Is(err, ErrRefusedDestination) {
		t.Fatalf("dialling localhost: want ErrRefusedDestination, got %v", err)
	}
	allow, _ := ParsePolicy([]string{"127.0.0.0/8", "::1/128"})
	resp, err := client(allow).Get(url)
	if err != nil {
		t.Fatalf("dialling an allowed loopback receiver: %v", err)
	}
	_ = resp.Body.Close()
}
