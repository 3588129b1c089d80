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

package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/apimachinery/pkg/types"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/internal/httpapi"
	"github.com/asyncjob/asyncjob/test/restclient"
	"github.com/asyncjob/asyncjob/test/stack"
)

// Another tenant cannot tell a job of the first tenant from one that never
// existed, on any route that takes a job id, and can change nothing about it.
func TestOtherTenantCannotReachAJob(t *testing.T) {
	ctx := context.Background()
	other := &restClient{restclient.Client{Base: s.APIURL, Key: s.APIKeys[otherTenant], HTTP: &http.Client{Timeout: 30 * time.Second}}}
	mark := uuid.NewString()[:8]
	body := map[string]any{"type": typeSlow, "parameters": map[string]any{}, "labels": map[string]string{"isolation": mark}}
	idemKey := "isolation-" + mark

	resp, raw, err := api.withHeader("Idempotency-Key", idemKey).Do(ctx, http.MethodPost, "/v1/jobs", body)
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST /v1/jobs: %v %s", err, raw)
	}
	var job httpapi.Job
	if err := json.Unmarshal(raw, &job); err != nil {
		t.Fatal(err)
	}
	id := job.ID
	t.Cleanup(func() { _, _, _ = api.Do(context.Background(), http.MethodDelete, "/v1/jobs/"+id, nil) })
	api.waitStatus(t, id, httpapi.StatusRunning, 2*time.Minute)
	ajBefore, jobBefore := clusterObjects(t, id)

	// Every operation the OpenAPI document lists on a job id, so a new one
	// joins by construction; reads first, so a leak is seen before a change.
	never := uuid.NewString()
	for _, op := range jobIDOperations(t) {
		requireLikeNeverExisted(t, other, op, id, never)
	}

	// Lists: the other tenant's, even filtered to match the job exactly, do
	// not show it; the owner's does (so the filter is right).
	for _, q := range []string{"", "?label=" + url.QueryEscape("isolation="+mark), "?type=" + typeSlow + "&status=RUNNING"} {
		if ids := listIDs(t, other, q); slices.Contains(ids, id) {
			t.Errorf("GET /v1/jobs%s by the other tenant lists the job %s", q, id)
		}
	}
	if ids := listIDs(t, api, "?label="+url.QueryEscape("isolation="+mark)); !slices.Equal(ids, []string{id}) {
		t.Errorf("GET /v1/jobs?label=isolation=%s by its tenant: %v, want [%s]", mark, ids, id)
	}

	// The same Idempotency-Key and request from the other tenant make the
	// other tenant's own job, not a replay of this one.
	requireOwnJob(t, other.withHeader("Idempotency-Key", idemKey), body)

	requireUntouched(t, id, ajBefore, jobBefore)
}

// requireLikeNeverExisted fails t unless the other tenant's op on the job id
// answers as it does for a job that never existed: 404, the same
// Content-Type and the same problem, ids written as {id}, instance left out.
func requireLikeNeverExisted(t *testing.T, other *restClient, op operation, id, never string) {
	t.Helper()
	ctx := context.Background()
	gotResp, got, err := other.Do(ctx, op.method, strings.ReplaceAll(op.path, "{id}", id), nil)
	if err != nil {
		t.Fatalf("%s %s: %v", op.method, op.path, err)
	}
	wantResp, want, err := other.Do(ctx, op.method, strings.ReplaceAll(op.path, "{id}", never), nil)
	if err != nil {
		t.Fatalf("%s %s: %v", op.method, op.path, err)
	}
	// A client route answers 404 JOB_NOT_FOUND; a worker route refuses a
	// client's key alike for every job, existing or not.
	wantStatus, wantCode := http.StatusNotFound, "JOB_NOT_FOUND"
	if op.worker {
		wantStatus, wantCode = http.StatusUnauthorized, "UNAUTHENTICATED"
	}
	if gotResp.StatusCode != wantStatus || wantResp.StatusCode != wantStatus {
		t.Errorf("%s %s by the other tenant: %d %s (a job that never existed: %d), want %d for both",
			op.method, op.path, gotResp.StatusCode, got, wantResp.StatusCode, wantStatus)
		return
	}
	if g, w := gotResp.Header.Get("Content-Type"), wantResp.Header.Get("Content-Type"); g != w {
		t.Errorf("%s %s: Content-Type %q, a job that never existed %q", op.method, op.path, g, w)
	}
	if op.method == http.MethodHead {
		return // no body to compare
	}
	gotProblem, wantProblem := problemWithout(t, got, id), problemWithout(t, want, never)
	if wantProblem["code"] != wantCode {
		t.Errorf("%s %s of a job that never existed: %s, want a %s problem", op.method, op.path, want, wantCode)
	}
	if diff := cmp.Diff(wantProblem, gotProblem); diff != "" {
		t.Errorf("%s %s: the other tenant can tell the job from one that never existed (-never existed +the job, ids as {id}, instance left out):\n%s",
			op.method, op.path, diff)
	}
}

// requireOwnJob fails t unless the other tenant's submission (with the first
// tenant's Idempotency-Key) is a new job of the other tenant, not a replay.
func requireOwnJob(t *testing.T, other *restClient, body map[string]any) {
	t.Helper()
	ctx := context.Background()
	resp, raw, err := other.Do(ctx, http.MethodPost, "/v1/jobs", body)
	var theirs httpapi.Job
	if err != nil || resp.StatusCode != http.StatusAccepted || json.Unmarshal(raw, &theirs) != nil {
		t.Fatalf("POST /v1/jobs by the other tenant with the same Idempotency-Key: %v %d %s, want 202 and a job", err, resp.StatusCode, raw)
	}
	aj := &asyncjobv1alpha1.AsyncJob{}
	getErr := s.Client.Get(ctx, types.NamespacedName{Namespace: stack.Namespace(otherTenant), Name: theirs.ID}, aj)
	_, _, _ = other.Do(ctx, http.MethodDelete, "/v1/jobs/"+theirs.ID, nil)
	if replayed := resp.Header.Get("Idempotent-Replayed"); replayed != "" || getErr != nil || aj.Labels[asyncjobv1alpha1.LabelTenant] != otherTenant {
		t.Errorf("the other tenant's submission with the same Idempotency-Key: job %s, replayed %q, in its namespace: %v (tenant label %q); want its own new job",
			theirs.ID, replayed, getErr, aj.Labels[asyncjobv1alpha1.LabelTenant])
	}
}

// requireUntouched fails t unless the job's AsyncJob and Job are the same
// objects as before, neither marked deleted nor cancelled, still RUNNING.
func requireUntouched(t *testing.T, id string, ajBefore *asyncjobv1alpha1.AsyncJob, jobBefore *batchv1.Job) {
	t.Helper()
	ajAfter, jobAfter := clusterObjects(t, id)
	if ajAfter.UID != ajBefore.UID || ajAfter.DeletionTimestamp != nil || ajAfter.Generation != ajBefore.Generation {
		t.Errorf("the AsyncJob: uid %s -> %s, deletionTimestamp %v, generation %d -> %d: want it untouched",
			ajBefore.UID, ajAfter.UID, ajAfter.DeletionTimestamp, ajBefore.Generation, ajAfter.Generation)
	}
	if diff := cmp.Diff(ajBefore.Spec, ajAfter.Spec); diff != "" {
		t.Errorf("the AsyncJob's spec changed (-before +after):\n%s", diff)
	}
	if jobAfter.UID != jobBefore.UID || jobAfter.DeletionTimestamp != nil {
		t.Errorf("the Job: uid %s -> %s, deletionTimestamp %v: want it untouched", jobBefore.UID, jobAfter.UID, jobAfter.DeletionTimestamp)
	}
	if got, found, err := api.get(context.Background(), id); err != nil || !found || got.Status != httpapi.StatusRunning || got.CancelRequested || got.Deleting {
		t.Errorf("the job as its tenant sees it: %+v (found %v, err %v), want RUNNING, neither cancelled nor deleting", got, found, err)
	}
}

// operation is one OpenAPI operation; worker ones take only a job's worker
// token (security workerToken), so a client's credential is refused there.
type operation struct {
	method, path string
	worker       bool
}

// jobIDOperations lists the operations of the served OpenAPI document whose
// path takes a job id, reads (GET, HEAD) first.
func jobIDOperations(t *testing.T) []operation {
	t.Helper()
	resp, raw, err := api.Do(context.Background(), http.MethodGet, "/openapi.json", nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /openapi.json: %v %s", err, raw)
	}
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	order := []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}
	var ops []operation
	for path, item := range doc.Paths {
		if !strings.Contains(path, "{id}") {
			continue
		}
		for m, raw := range item {
			if method := strings.ToUpper(m); slices.Contains(order, method) {
				var o struct {
					Security []map[string]json.RawMessage `json:"security"`
				}
				if err := json.Unmarshal(raw, &o); err != nil {
					t.Fatal(err)
				}
				worker := len(o.Security) == 1 && o.Security[0]["workerToken"] != nil
				ops = append(ops, operation{method, path, worker})
			}
		}
	}
	sort.Slice(ops, func(i, j int) bool {
		if a, b := slices.Index(order, ops[i].method), slices.Index(order, ops[j].method); a != b {
			return a < b
		}
		return ops[i].path < ops[j].path
	})
	// GET, HEAD and DELETE /v1/jobs/{id}, GET .../result, POST .../cancel at least.
	if len(ops) < 5 {
		t.Fatalf("the OpenAPI document lists %d operations on a job id: %v", len(ops), ops)
	}
	return ops
}

// problemWithout decodes a problem body with the job id written as {id} and
// without instance (the request path).
func problemWithout(t *testing.T, raw []byte, id string) map[string]any {
	t.Helper()
	var p map[string]any
	if err := json.Unmarshal([]byte(strings.ReplaceAll(string(raw), id, "{id}")), &p); err != nil {
		t.Fatalf("a problem body that is not JSON: %s", raw)
	}
	delete(p, "instance")
	return p
}

func listIDs(t *testing.T, c *restClient, query string) []string {
	t.Helper()
	resp, raw, err := c.Do(context.Background(), http.MethodGet, "/v1/jobs"+query, nil)
	var page struct {
		Items []httpapi.Job `json:"items"`
	}
	if err != nil || resp.StatusCode != http.StatusOK || json.Unmarshal(raw, &page) != nil {
		t.Fatalf("GET /v1/jobs%s: %v %s", query, err, raw)
	}
	ids := make([]string, len(page.Items))
	for i, j := range page.Items {
		ids[i] = j.ID
	}
	return ids
}

// clusterObjects reads a job's AsyncJob and Job from the API server.
func clusterObjects(t *testing.T, id string) (*asyncjobv1alpha1.AsyncJob, *batchv1.Job) {
	t.Helper()
	key := types.NamespacedName{Namespace: stack.Namespace(tenant), Name: id}
	aj, job := &asyncjobv1alpha1.AsyncJob{}, &batchv1.Job{}
	if err := s.Client.Get(context.Background(), key, aj); err != nil {
		t.Fatalf("the AsyncJob %s: %v", id, err)
	}
	if err := s.Client.Get(context.Background(), key, job); err != nil {
		t.Fatalf("the Job %s: %v", id, err)
	}
	return aj, job
}
