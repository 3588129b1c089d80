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
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

func TestScheduleNext(t *testing.T) {
	s := DefaultSchedule
	for i, want := range []time.Duration{5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 14 * time.Hour, 20 * time.Hour, 24 * time.Hour} {
		got, ok := s.Next(i+1, 0, 0)
		if !ok || got != want {
			t.Errorf("Next(%d) = %v, %v; want %v", i+1, got, ok, want)
		}
		lo, _ := s.Next(i+1, -1, 0)
		hi, _ := s.Next(i+1, 0.999, 0)
		if lo != want-want/10 || hi <= want || hi > want+want/10 {
			t.Errorf("Next(%d) jitter range [%v, %v], want within ±10%% of %v", i+1, lo, hi, want)
		}
	}
	if _, ok := s.Next(len(s)+1, 0, 0); ok {
		t.Error("the schedule does not end")
	}
	if _, ok := s.Next(0, 0, 0); ok {
		t.Error("Next(0) must not be a retry")
	}
	if got, _ := s.Next(1, 0, time.Minute); got != time.Minute {
		t.Errorf("Retry-After of a minute over a 5 s step: got %v", got)
	}
	if got, _ := s.Next(3, 0, time.Minute); got != 30*time.Minute {
		t.Errorf("a shorter Retry-After must not hasten the schedule: got %v", got)
	}
	if got, _ := s.Next(1, 0, 72*time.Hour); got != MaxRetryAfter {
		t.Errorf("Retry-After is bounded: got %v", got)
	}
}

func TestParseSchedule(t *testing.T) {
	s, err := ParseSchedule("1s, 2s,3s")
	if err != nil || len(s) != 3 || s[2] != 3*time.Second {
		t.Fatalf("ParseSchedule = %v, %v", s, err)
	}
	for _, bad := range []string{"", "1s,,2s", "0s", "-1s", "soon"} {
		if _, err := ParseSchedule(bad); err == nil {
			t.Errorf("ParseSchedule(%q) accepted", bad)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"":                              0,
		"120":                           2 * time.Minute,
		"0":                             0,
		"-5":                            0,
		"soon":                          0,
		"999999999":                     MaxRetryAfter,
		"Wed, 02 Dec 2026 10:01:30 GMT": 90 * time.Second,
		"Wed, 02 Dec 2026 09:00:00 GMT": 0,
	} {
		if got := ParseRetryAfter(v, now); got != want {
			t.Errorf("ParseRetryAfter(%q) = %v, want %v", v, got, want)
		}
	}
}

// TestHeadersSignPerTheSpecification recomputes the signature by hand from
// the specification (HMAC-SHA256 over "id.timestamp.body", base64) and checks
// the library's Verify accepts it with either active secret.
func TestHeadersSignPerTheSpecification(t *testing.T) {
	cur, _ := NewSecret()
	prev, _ := NewSecret()
	at := time.Unix(1764669600, 0)
	body, err := Body("job.completed", at, map[string]string{"id": "j1"})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"type":"job.completed","timestamp":"2025-12-02T10:00:00Z","data":{"id":"j1"}}`; string(body) != want {
		t.Fatalf("body %s, want %s", body, want)
	}
	h, err := Headers("msg_1", at, body, []string{cur, prev})
	if err != nil {
		t.Fatal(err)
	}
	if h.Get("webhook-timestamp") != "1764669600" || h.Get("webhook-id") != "msg_1" || h.Get("Content-Type") != "application/json" {
		t.Fatalf("headers %v", h)
	}
	if strings.ContainsAny(h.Get("User-Agent"), "0123456789") {
		t.Errorf("the User-Agent %q carries a version", h.Get("User-Agent"))
	}
	sigs := strings.Split(h.Get("webhook-signature"), " ")
	if len(sigs) != 2 {
		t.Fatalf("want one signature per active secret, got %q", h.Get("webhook-signature"))
	}
	for i, secret := range []string{cur, prev} {
		key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, SecretPrefix))
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte("msg_1.1764669600." + string(body)))
		if want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)); sigs[i] != want {
			t.Errorf("signature %d = %s, want %s", i, sigs[i], want)
		}
		wh, _ := standardwebhooks.NewWebhook(secret)
		if err := wh.VerifyIgnoringTimestamp(body, h); err != nil {
			t.Errorf("the library does not verify with secret %d: %v", i, err)
		}
	}
}

func TestSendDoesNotFollowRedirectsAndReadsRetryAfter(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		switch r.URL.Path {
		case "/redirect":
			http.Redirect(w, r, "/ok", http.StatusFound)
		case "/busy":
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(strings.Repeat("x", 1<<20)))
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	}))
	defer srv.Close()
	allow, _ := ParsePolicy([]string{"127.0.0.0/8", "::1/128"})
	s := NewSender(allow, 2*time.Second)

	o := s.Send(t.Context(), srv.URL+"/redirect", http.Header{}, []byte("{}"))
	if o.StatusCode != http.StatusFound || o.Error == "" || hits.Load() != 1 {
		t.Fatalf("redirect: %+v, %d requests (a 3xx is a failed attempt, not followed)", o, hits.Load())
	}
	o = s.Send(t.Context(), srv.URL+"/busy", http.Header{}, []byte("{}"))
	if o.StatusCode != 503 || o.RetryAfter != 7*time.Second || strings.Contains(o.Error, "x") {
		t.Fatalf("busy: %+v", o)
	}
	o = s.Send(t.Context(), srv.URL+"/ok", http.Header{}, []byte("{}"))
	if o.StatusCode != 204 || o.Error != "" {
		t.Fatalf("ok: %+v", o)
	}
	for _, url := range []string{srv.URL + "/ok", "ftp://example.com/", "http://user:pw@example.com/"} {
		o = NewSender(Policy{}, 2*time.Second).Send(t.Context(), url, http.Header{}, []byte("{}"))
		if !o.Refused || o.Error != "destination refused" {
			t.Errorf("%s under the default policy: %+v", url, o)
		}
	}
	if n := hits.Load(); n != 3 {
		t.Errorf("the receiver got %d requests, want 3", n)
	}
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer tlsSrv.Close()
	if o := s.Send(t.Context(), tlsSrv.URL, http.Header{}, nil); o.Error != "the server's TLS certificate does not verify" || o.Refused {
		t.Errorf("a self-signed receiver: %+v", o)
	}
}
