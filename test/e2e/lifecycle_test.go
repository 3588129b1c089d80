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
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/internal/httpapi"
	"github.com/asyncjob/asyncjob/test/restclient"
	"github.com/asyncjob/asyncjob/test/stack"
)

func TestLifecycleToCompleted(t *testing.T) {
	id := api.submit(t, typeQuick, map[string]any{"input": "https://example.com/in.mov"})
	// PENDING is the first state; a 2 s pod may already be past it when we
	// look again, so RUNNING is waited for only if COMPLETED has not come yet.
	first, _, err := api.get(context.Background(), id)
	if err != nil || (first.Status != httpapi.StatusPending && first.Status != httpapi.StatusRunning) {
		t.Fatalf("first read: status %q err %v, want PENDING (or RUNNING)", first.Status, err)
	}
	seen := map[httpapi.Status]bool{}
	done := api.waitFor(t, id, 2*time.Minute, "COMPLETED", func(j httpapi.Job, found bool) bool {
		seen[j.Status] = true
		return found && j.Status == httpapi.StatusCompleted
	})
	if !seen[httpapi.StatusRunning] {
		t.Logf("RUNNING was not observed between polls (the pod runs 2 s); seen %v", seen)
	}

	var result map[string]any
	if err := json.Unmarshal(done.Result, &result); err != nil || result["output"] != "https://example.com/out.webm" || result["frames"] != float64(2600) {
		t.Errorf("result %s (err %v), want the pod's termination message %s", done.Result, err, quickResult)
	}
	if done.StartedAt == nil || done.CompletedAt == nil || done.ExpiresAt == nil {
		t.Fatalf("timestamps missing: started %v completed %v expires %v", done.StartedAt, done.CompletedAt, done.ExpiresAt)
	}
	if done.StartedAt.Before(done.CreatedAt.Truncate(time.Second)) || done.CompletedAt.Before(*done.StartedAt) || !done.ExpiresAt.After(*done.CompletedAt) {
		t.Errorf("timestamps out of order: created %v started %v completed %v expires %v", done.CreatedAt, done.StartedAt, done.CompletedAt, done.ExpiresAt)
	}
	if done.Attempts != 1 {
		t.Errorf("attempts %d, want 1", done.Attempts)
	}

	// The real Job controller, not a test, completed the Job.
	job := &batchv1.Job{}
	if err := s.Client.Get(context.Background(), types.NamespacedName{Namespace: stack.Namespace(tenant), Name: id}, job); err != nil {
		t.Fatal(err)
	}
	if !hasJobCondition(job, batchv1.JobComplete) || job.Status.Succeeded != 1 || job.Status.CompletionTime == nil {
		t.Errorf("Job status %+v: want Complete, succeeded 1, a completion time", job.Status)
	}

	resp, raw, err := api.Do(context.Background(), http.MethodGet, "/v1/jobs/"+id+"/result", nil)
	if err != nil || resp.StatusCode != http.StatusOK || !json.Valid(raw) {
		t.Errorf("GET result: %v %d %s", err, resp.StatusCode, raw)
	}
	if resp, _, _ := api.Do(context.Background(), http.MethodGet, "/v1/jobs/"+id, nil); resp.Header.Get("Sunset") == "" {
		t.Errorf("a finished job's response has no Sunset header")
	}
}

func TestRetriesExhaustedFailsWithBackoffLimitExceeded(t *testing.T) {
	id := api.submit(t, typeFail, map[string]any{})
	failed := api.waitStatus(t, id, httpapi.StatusFailed, 3*time.Minute)
	p := failed.Problem
	if p == nil || p.Reason != "BackoffLimitExceeded" || p.Code != "BACKOFF_LIMIT_EXCEEDED" {
		t.Fatalf("problem %+v, want reason BackoffLimitExceeded", p)
	}
	if p.Detail != "input file is corrupt" {
		t.Errorf("problem detail %q, want the failed container's termination message", p.Detail)
	}
	if failed.Attempts != 2 {
		t.Errorf("attempts %d, want 2 (backoffLimit 1: one try and one retry)", failed.Attempts)
	}
}

func TestDeadlineFailsWithDeadlineExceeded(t *testing.T) {
	id := api.submit(t, typeDeadline, map[string]any{})
	failed := api.waitStatus(t, id, httpapi.StatusFailed, 3*time.Minute)
	if failed.Problem == nil || failed.Problem.Reason != "DeadlineExceeded" {
		t.Fatalf("problem %+v, want reason DeadlineExceeded", failed.Problem)
	}
}

func TestFinishedJobIsRemovedAfterItsTTL(t *testing.T) {
	id := api.submit(t, typeShortTTL, map[string]any{})
	// Watched from before the TTL can pass (it counts from completion).
	deletion := watchDeletion(t, id)
	api.waitStatus(t, id, httpapi.StatusCompleted, 2*time.Minute)
	// Removed, and still known: 410 Gone with the JOB_EXPIRED problem for the
	// tombstone retention (the stack's controller keeps the default 24 h).
	ctx := context.Background()
	var resp *http.Response
	var raw []byte
	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		var err error
		resp, raw, err = api.Do(ctx, http.MethodGet, "/v1/jobs/"+id, nil)
		return err == nil && resp.StatusCode != http.StatusOK, nil
	})
	if err != nil || resp.StatusCode != http.StatusGone {
		t.Fatalf("after the TTL: %v, last answer %v %s; want 410", err, resp, raw)
	}
	var p struct{ Type, Code string }
	if err := json.Unmarshal(raw, &p); err != nil || p.Code != "JOB_EXPIRED" || p.Type != "https://asyncjob.io/problems/job-expired" ||
		resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("after the TTL: %s (%s), want the job-expired problem", raw, resp.Header.Get("Content-Type"))
	}
	// Another tenant cannot tell it from a job that never existed.
	other := &restClient{restclient.Client{Base: s.APIURL, Key: s.APIKeys[otherTenant], HTTP: &http.Client{Timeout: 30 * time.Second}}}
	if resp, raw, err := other.Do(ctx, http.MethodGet, "/v1/jobs/"+id, nil); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("another tenant, after the TTL: %v %v %s, want 404", err, resp, raw)
	}
	// The controller deletes it in the foreground, through the real garbage
	// collector: the Job and pods go first, then the AsyncJob.
	deletion.requireForeground(t)
}

func hasJobCondition(job *batchv1.Job, c batchv1.JobConditionType) bool {
	for _, jc := range job.Status.Conditions {
		if jc.Type == c && jc.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}

// objectsOf counts what exists of a job in the cluster: its AsyncJob, Jobs and pods.
func objectsOf(ctx context.Context, id string) (asyncJobs, jobs, pods int, err error) {
	ns := stack.Namespace(tenant)
	aj := &asyncjobv1alpha1.AsyncJob{}
	switch err = s.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: id}, aj); {
	case err == nil:
		asyncJobs = 1
	case client404(err):
	default:
		return 0, 0, 0, err
	}
	jl := &batchv1.JobList{}
	if err = s.Client.List(ctx, jl, inNamespace(ns), byAsyncJob(id)); err != nil {
		return 0, 0, 0, err
	}
	pl := &corev1.PodList{}
	if err = s.Client.List(ctx, pl, inNamespace(ns), byAsyncJob(id)); err != nil {
		return 0, 0, 0, err
	}
	return asyncJobs, len(jl.Items), len(pl.Items), nil
}
