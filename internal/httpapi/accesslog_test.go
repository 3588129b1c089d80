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

package httpapi

import (
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/go-logr/logr/funcr"
)

// TestAccessLogHasNoSecrets: the access log names the tenant and the route but
// never the credential, even when the request fails authentication.
func TestAccessLogHasNoSecrets(t *testing.T) {
	var mu sync.Mutex
	var lines []string
	logger := funcr.New(func(prefix, args string) {
		mu.Lock()
		defer mu.Unlock()
		lines = append(lines, args)
	}, funcr.Options{Verbosity: 1})
	h := newHarness(t, func(c *Config) { c.Log = logger })
	j := h.submit(h.tenantA, nil)
	h.request(http.MethodGet, "/v1/jobs/"+j.ID+"?pageToken=x", h.tenantA, nil)
	h.request(http.MethodGet, "/v1/types", "", nil, "Authorization", "Bearer wrong-secret-key")

	mu.Lock()
	defer mu.Unlock()
	all := strings.Join(lines, "\n")
	// The query is left out too: it may carry tokens (pageToken) or data.
	for _, secret := range []string{h.keys[h.tenantA], "wrong-secret-key", "Bearer", "pageToken"} {
		if strings.Contains(all, secret) {
			t.Errorf("the log contains %q", secret)
		}
	}
	for _, want := range []string{`"tenant"="` + h.tenantA + `"`, `"route"="/v1/jobs/:id"`, `"path"="/v1/jobs/` + j.ID + `"`, `"status"=401`} {
		if !strings.Contains(all, want) {
			t.Errorf("the log lacks %s:\n%s", want, all)
		}
	}
}
