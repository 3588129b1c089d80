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
	"strconv"
	"testing"

	"github.com/asyncjob/asyncjob/api/v1alpha1"
)

// TestRateLimit: a tenant's burst is spent, then 429 with Retry-After; other
// tenants are unaffected. The refill rate is so low that no refill can happen
// during the test, so nothing depends on timing.
func TestRateLimit(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.RateLimit, c.RateBurst = 0.001, 2 })
	h.request(http.MethodGet, "/v1/types", h.tenantA, nil).expect(t, http.StatusOK)
	h.request(http.MethodGet, "/v1/types", h.tenantA, nil).expect(t, http.StatusOK)
	r := h.request(http.MethodGet, "/v1/types", h.tenantA, nil).expect(t, http.StatusTooManyRequests)
	if p := r.problem(t); p.Code != problemRateLimited.Code {
		t.Errorf("code %s", p.Code)
	}
	if s, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || s < 1 {
		t.Errorf("Retry-After %q", r.Header.Get("Retry-After"))
	}
	h.request(http.MethodGet, "/v1/types", h.tenantB, nil).expect(t, http.StatusOK)
}

func TestMaxUnfinishedJobs(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.MaxUnfinishedJobs = 1 })
	first := h.submit(h.tenantA, nil)
	h.waitListed(h.tenantA, 1)
	body := map[string]any{"type": h.typ, "parameters": map[string]any{"input": "https://example.com/a", "format": "webm"}}
	r := h.request(http.MethodPost, "/v1/jobs", h.tenantA, body).expect(t, http.StatusTooManyRequests)
	if p := r.problem(t); p.Code != problemTooManyUnfinished.Code || r.Header.Get("Retry-After") == "" {
		t.Errorf("problem %+v, Retry-After %q", p, r.Header.Get("Retry-After"))
	}
	h.request(http.MethodPost, "/v1/jobs", h.tenantB, body).expect(t, http.StatusAccepted)
	h.setStatus(h.tenantA, first.ID, func(s *v1alpha1.AsyncJobStatus) { s.State = v1alpha1.StateCompleted })
	h.request(http.MethodPost, "/v1/jobs", h.tenantA, body).expect(t, http.StatusAccepted)
}
