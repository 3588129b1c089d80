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
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"

	"github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/internal/paramschema"
)

func TestSubmitAccepted(t *testing.T) {
	h := newHarness(t)
	r := h.request(http.MethodPost, "/v1/jobs", h.tenantA, map[string]any{
		"type":       h.typ,
		"parameters": map[string]any{"input": "https://example.com/a.mov", "format": "webm", "crf": 30},
		"labels":     map[string]string{"project": "x"},
	}).expect(t, http.StatusAccepted)
	j := r.job(t)
	if _, err := uuid.Parse(j.ID); err != nil || j.ID != strings.ToLower(j.ID) {
		t.Errorf("id %q is not a lowercase UUID", j.ID)
	}
	if got := r.Header.Get("Location"); got != "/v1/jobs/"+j.ID {
		t.Errorf("Location = %q", got)
	}
	if got := r.Header.Get("Retry-After"); got != "7" {
		t.Errorf("Retry-After = %q, want the type's pollIntervalSeconds 7", got)
	}
	if j.Status != StatusPending || j.Type != h.typ || j.Labels["project"] != "x" || j.Links.Self != "/v1/jobs/"+j.ID {
		t.Errorf("job %+v", j)
	}
	// What was created is what the controller contract expects.
	var aj v1alpha1.AsyncJob
	h.must(h.env.Client.Get(context.Background(), types.NamespacedName{Namespace: h.tenantA, Name: j.ID}, &aj))
	if aj.Labels[v1alpha1.LabelTenant] != h.tenantA || aj.Labels[labelPrefix+"project"] != "x" || aj.Spec.Type != h.typ || aj.Spec.Cancel {
		t.Errorf("AsyncJob %+v", aj.ObjectMeta)
	}
	if !strings.Contains(string(aj.Spec.Parameters.Raw), "webm") {
		t.Errorf("parameters %s", aj.Spec.Parameters.Raw)
	}
	// Read-your-writes: GET right after POST finds it, whatever the cache says.
	h.request(http.MethodGet, "/v1/jobs/"+j.ID, h.tenantA, nil).expect(t, http.StatusOK)
}

// TestSubmitReportsEveryFieldError: schema failures, unknown fields and bad
// labels come back together in one 422, each with a pointer, and nothing is created.
func TestSubmitReportsEveryFieldError(t *testing.T) {
	h := newHarness(t)
	r := h.request(http.MethodPost, "/v1/jobs", h.tenantA, map[string]any{
		"type":       h.typ,
		"parameters": map[string]any{"input": "not a uri", "crf": 99, "extra": true},
		"labels":     map[string]string{"bad key!": "v"},
		"webhook":    "https://example.com",
	}).expect(t, http.StatusUnprocessableEntity)
	p := r.problem(t)
	if p.Code != problemValidationFailed.Code {
		t.Fatalf("code %s", p.Code)
	}
	// paramschema reports a disallowed additional property at its parent object.
	want := []string{"/labels/bad key!", "/parameters", "/parameters/crf", "/parameters/format", "/parameters/input", "/webhook"}
	if got := pointers(p.Errors); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("pointers %v, want %v (errors %+v)", got, want, p.Errors)
	}
	if !strings.Contains(p.Errors[1].Detail, "extra") {
		t.Errorf("the additional property is not named: %q", p.Errors[1].Detail)
	}
	h.expectNoJobs(h.tenantA)
}

func TestSubmitUnknownOrUnreadyType(t *testing.T) {
	h := newHarness(t)
	notReady := h.typ + "-pending"
	h.createType(notReady, `{"type":"object"}`, false)
	for _, typ := range []string{"no-such-type", notReady} {
		r := h.request(http.MethodPost, "/v1/jobs", h.tenantA, map[string]any{"type": typ}).expect(t, http.StatusUnprocessableEntity)
		p := r.problem(t)
		if got := pointers(p.Errors); len(got) != 1 || got[0] != "/type" {
			t.Errorf("%s: errors %+v", typ, p.Errors)
		}
	}
	h.expectNoJobs(h.tenantA)
}

func TestSubmitRejectsBadBodies(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.MaxBodyBytes = 1024 })
	cases := []struct {
		name        string
		body        string
		contentType string
		status      int
		code        string
	}{
		{"malformed", `{"type":`, "application/json", 400, problemMalformedJSON.Code},
		{"not an object", `["x"]`, "application/json", 400, problemMalformedJSON.Code},
		{"two values", `{"type":"a"} {}`, "application/json", 400, problemMalformedJSON.Code},
		{"wrong media type", `type=x`, "application/x-www-form-urlencoded", 415, problemUnsupportedMediaType.Code},
		{"too large", `{"type":"` + strings.Repeat("a", 2000) + `"}`, "application/json", 413, problemPayloadTooLarge.Code},
		{"parameters not an object", `{"type":"` + h.typ + `","parameters":[1]}`, "application/json", 422, problemValidationFailed.Code},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := h.request(http.MethodPost, "/v1/jobs", h.tenantA, tc.body, "Content-Type", tc.contentType).expect(t, tc.status)
			if p := r.problem(t); p.Code != tc.code || p.Detail == "" || p.Instance != "/v1/jobs" {
				t.Errorf("problem %+v", p)
			}
			if tc.status == 415 && r.Header.Get("Accept-Post") != acceptPost {
				t.Errorf("415 without Accept-Post: %v", r.Header)
			}
		})
	}
	h.expectNoJobs(h.tenantA)
}

func TestIdempotencyKey(t *testing.T) {
	h := newHarness(t)
	body := map[string]any{"type": h.typ, "parameters": map[string]any{"input": "https://example.com/a", "format": "mp4"}}
	first := h.request(http.MethodPost, "/v1/jobs", h.tenantA, body, "Idempotency-Key", "order-1").expect(t, http.StatusAccepted)
	if first.Header.Get("Idempotent-Replayed") != "" {
		t.Error("first submission marked as replayed")
	}
	// Same body, members reordered and re-spaced: the same request.
	same := `{ "parameters": {"format":"mp4", "input":"https://example.com/a"}, "type": "` + h.typ + `" }`
	again := h.request(http.MethodPost, "/v1/jobs", h.tenantA, same, "Idempotency-Key", "order-1").expect(t, http.StatusAccepted)
	if again.Header.Get("Idempotent-Replayed") != "true" || again.job(t).ID != first.job(t).ID {
		t.Errorf("replay: header %q, id %s vs %s", again.Header.Get("Idempotent-Replayed"), again.job(t).ID, first.job(t).ID)
	}
	if again.Header.Get("Location") != "/v1/jobs/"+first.job(t).ID {
		t.Errorf("replay Location %q", again.Header.Get("Location"))
	}
	// Same key, different body: refused, and nothing new is created.
	body["parameters"] = map[string]any{"input": "https://example.com/b", "format": "mp4"}
	r := h.request(http.MethodPost, "/v1/jobs", h.tenantA, body, "Idempotency-Key", "order-1").expect(t, http.StatusUnprocessableEntity)
	if p := r.problem(t); p.Code != problemIdempotencyMismatch.Code {
		t.Errorf("code %s", p.Code)
	}
	// Keys are per tenant: tenant B's "order-1" is its own job.
	other := h.request(http.MethodPost, "/v1/jobs", h.tenantB, body, "Idempotency-Key", "order-1").expect(t, http.StatusAccepted)
	if other.job(t).ID == first.job(t).ID || other.Header.Get("Idempotent-Replayed") != "" {
		t.Error("tenant B's key collided with tenant A's")
	}
	var list v1alpha1.AsyncJobList
	h.must(h.env.Client.List(context.Background(), &list, clientInNamespace(h.tenantA)))
	if len(list.Items) != 1 {
		t.Errorf("tenant A has %d AsyncJobs, want 1", len(list.Items))
	}
	// A fresh server (a restart, or another replica) agrees: the state is in the cluster.
	h2, cutCache := h.sibling(t)
	r = h2.request(http.MethodPost, "/v1/jobs", h.tenantA, same, "Idempotency-Key", "order-1").expect(t, http.StatusAccepted)
	if r.Header.Get("Idempotent-Replayed") != "true" || r.job(t).ID != first.job(t).ID {
		t.Error("another server instance did not replay the key")
	}
	// Read-your-writes across replicas: a job submitted to one is found by the
	// other at once, whatever its cache has seen. With the other's cache cut
	// off, it has seen nothing: only the read from the API server can find it.
	cutCache()
	fresh := h.submit(h.tenantA, nil)
	h2.request(http.MethodGet, "/v1/jobs/"+fresh.ID, h.tenantA, nil).expect(t, http.StatusOK)
	var cached v1alpha1.AsyncJob
	if err := h2.server.store.cache.Get(context.Background(), types.NamespacedName{Namespace: h.tenantA, Name: fresh.ID}, &cached); !apierrors.IsNotFound(err) {
		t.Fatalf("the cut-off cache has the fresh job (err %v): the fallback was not needed", err)
	}

	bad := h.request(http.MethodPost, "/v1/jobs", h.tenantA, body, "Idempotency-Key", strings.Repeat("k", 300)).expect(t, http.StatusBadRequest)
	if p := bad.problem(t); p.Code != problemInvalidIdempotency.Code {
		t.Errorf("code %s", p.Code)
	}
}

// TestIdempotencyKeyLivesAsLongAsItsJob: a key is remembered while the job it
// created exists (deleting included) and is free once that job is gone: then
// it creates a new job, even for a different request.
func TestIdempotencyKeyLivesAsLongAsItsJob(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	params := func(input string) map[string]any {
		return map[string]any{"type": h.typ, "parameters": map[string]any{"input": input, "format": "webm"}}
	}
	first := h.request(http.MethodPost, "/v1/jobs", h.tenantA, params("https://example.com/a"), "Idempotency-Key", "reuse").
		expect(t, http.StatusAccepted).job(t)
	key := types.NamespacedName{Namespace: h.tenantA, Name: first.ID}
	var old v1alpha1.AsyncJob
	h.must(h.env.Client.Get(ctx, key, &old))

	// Being deleted (envtest has no garbage collector, so the foreground
	// finalizer holds it): still remembered.
	h.request(http.MethodDelete, "/v1/jobs/"+first.ID, h.tenantA, nil).expect(t, http.StatusAccepted)
	r := h.request(http.MethodPost, "/v1/jobs", h.tenantA, params("https://example.com/b"), "Idempotency-Key", "reuse").
		expect(t, http.StatusUnprocessableEntity)
	if p := r.problem(t); p.Code != problemIdempotencyMismatch.Code {
		t.Errorf("key reused while its job is being deleted: code %s", p.Code)
	}

	// The collector finishes: the job is gone from the cluster.
	h.must(h.env.Client.Get(ctx, key, &old))
	old.Finalizers = nil
	h.must(h.env.Client.Update(ctx, &old))
	h.eventually("the AsyncJob is gone", func() bool {
		return apierrors.IsNotFound(h.env.Client.Get(ctx, key, &v1alpha1.AsyncJob{}))
	})

	again := h.request(http.MethodPost, "/v1/jobs", h.tenantA, params("https://example.com/b"), "Idempotency-Key", "reuse").
		expect(t, http.StatusAccepted)
	if again.Header.Get("Idempotent-Replayed") != "" {
		t.Error("a key whose job is gone was replayed")
	}
	var fresh v1alpha1.AsyncJob
	h.must(h.env.Client.Get(ctx, types.NamespacedName{Namespace: h.tenantA, Name: again.job(t).ID}, &fresh))
	if fresh.UID == old.UID || !strings.Contains(string(fresh.Spec.Parameters.Raw), "example.com/b") {
		t.Errorf("not a new job of the new request: uid %s (old %s), parameters %s", fresh.UID, old.UID, fresh.Spec.Parameters.Raw)
	}
}

func pointers(errs []paramschema.FieldError) []string {
	out := make([]string, 0, len(errs))
	for _, e := range errs {
		out = append(out, e.Pointer)
	}
	return out
}

// expectNoJobs asserts through the API server (not a cache) that tenant has no AsyncJobs.
func (h *harness) expectNoJobs(tenant string) {
	h.t.Helper()
	var list v1alpha1.AsyncJobList
	h.must(h.env.Client.List(context.Background(), &list, clientInNamespace(tenant)))
	if len(list.Items) != 0 {
		h.t.Errorf("%d AsyncJobs were created in %s, want none", len(list.Items), tenant)
	}
}

// TestIdempotencyUnderConcurrency: simultaneous submissions with one key make
// one job; every request answers 202 with it, all but one as replays.
func TestIdempotencyUnderConcurrency(t *testing.T) {
	h := newHarness(t)
	body := map[string]any{"type": h.typ, "parameters": map[string]any{"input": "https://example.com/a", "format": "webm"}}
	const n = 8
	results := make([]response, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = h.request(http.MethodPost, "/v1/jobs", h.tenantA, body, "Idempotency-Key", "race")
		}()
	}
	wg.Wait()
	replayed := 0
	for _, r := range results {
		r.expect(t, http.StatusAccepted)
		if r.job(t).ID != results[0].job(t).ID {
			t.Errorf("different jobs: %s vs %s", r.job(t).ID, results[0].job(t).ID)
		}
		if r.Header.Get("Idempotent-Replayed") == "true" {
			replayed++
		}
	}
	if replayed != n-1 {
		t.Errorf("%d replays, want %d", replayed, n-1)
	}
	var list v1alpha1.AsyncJobList
	h.must(h.env.Client.List(context.Background(), &list, clientInNamespace(h.tenantA)))
	if len(list.Items) != 1 {
		t.Errorf("%d AsyncJobs, want 1", len(list.Items))
	}
}

// An object holding the id a key maps to that is not the tenant's (here: the
// tenant label removed by an operator) is never replayed to the client.
func TestIdempotencyKeyNeverReplaysAnotherOwnersJob(t *testing.T) {
	h := newHarness(t)
	body := map[string]any{"type": h.typ, "parameters": map[string]any{"input": "https://example.com/a", "format": "mp4"}}
	first := h.request(http.MethodPost, "/v1/jobs", h.tenantA, body, "Idempotency-Key", "order-7").expect(t, http.StatusAccepted).job(t)
	var aj v1alpha1.AsyncJob
	h.must(h.env.Client.Get(context.Background(), types.NamespacedName{Namespace: h.tenantA, Name: first.ID}, &aj))
	delete(aj.Labels, v1alpha1.LabelTenant)
	h.must(h.env.Client.Update(context.Background(), &aj))

	r := h.request(http.MethodPost, "/v1/jobs", h.tenantA, body, "Idempotency-Key", "order-7").expect(t, http.StatusUnprocessableEntity)
	if p := r.problem(t); p.Code != problemIdempotencyMismatch.Code {
		t.Errorf("code %s, want %s", p.Code, problemIdempotencyMismatch.Code)
	}
	if strings.Contains(string(r.body), first.ID) || r.Header.Get("Location") != "" {
		t.Errorf("the answer reveals the object: Location %q, body %s", r.Header.Get("Location"), r.body)
	}
}
