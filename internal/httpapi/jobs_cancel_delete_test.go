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
	"testing"
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/asyncjob/asyncjob/api/v1alpha1"
)

func TestCancel(t *testing.T) {
	h := newHarness(t)
	j := h.submit(h.tenantA, nil)
	path := "/v1/jobs/" + j.ID + "/cancel"
	r := h.request(http.MethodPost, path, h.tenantA, nil).expect(t, http.StatusAccepted)
	if got := r.job(t); !got.CancelRequested || got.Status != StatusPending {
		t.Errorf("after cancel: %+v", got)
	}
	if r.Header.Get("Location") != "/v1/jobs/"+j.ID || r.Header.Get("Retry-After") == "" {
		t.Errorf("headers %v", r.Header)
	}
	var aj v1alpha1.AsyncJob
	h.must(h.env.Client.Get(context.Background(), types.NamespacedName{Namespace: h.tenantA, Name: j.ID}, &aj))
	if !aj.Spec.Cancel {
		t.Fatal("spec.cancel was not set")
	}
	// Repeating while it stops: still 202.
	h.request(http.MethodPost, path, h.tenantA, nil).expect(t, http.StatusAccepted)
	h.setStatus(h.tenantA, j.ID, func(s *v1alpha1.AsyncJobStatus) {
		apimeta.SetStatusCondition(&s.Conditions, metav1.Condition{Type: v1alpha1.ConditionCancelled, Status: metav1.ConditionFalse, Reason: v1alpha1.ReasonStopping, Message: "deleting the Job"})
	})
	h.request(http.MethodPost, path, h.tenantA, nil).expect(t, http.StatusAccepted)
	// The controller finished the cancellation: CANCELLED, readable, and cancel is 200.
	now := metav1.NewTime(time.Now().Truncate(time.Second))
	h.setStatus(h.tenantA, j.ID, func(s *v1alpha1.AsyncJobStatus) {
		s.State = v1alpha1.StateCancelled
		s.CompletionTime = &now
		apimeta.SetStatusCondition(&s.Conditions, metav1.Condition{Type: v1alpha1.ConditionCancelled, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonCancelled, Message: "cancelled"})
	})
	r = h.request(http.MethodPost, path, h.tenantA, nil).expect(t, http.StatusOK)
	if got := r.job(t); got.Status != StatusCancelled || got.Problem != nil {
		t.Errorf("cancelled job %+v", got)
	}
	h.request(http.MethodGet, "/v1/jobs/"+j.ID, h.tenantA, nil).expect(t, http.StatusOK)
	res := h.request(http.MethodGet, "/v1/jobs/"+j.ID+"/result", h.tenantA, nil).expect(t, http.StatusConflict)
	if res.problem(t).Code != problemNoResult.Code {
		t.Errorf("result of a cancelled job: %s", res.body)
	}
}

// TestDelete: envtest has no garbage collector, so a foreground deletion stays
// pending (the foregroundDeletion finalizer) exactly as it does while a real
// cluster tears the Job down; the test then plays the collector's part.
func TestDelete(t *testing.T) {
	h := newHarness(t)
	j := h.submit(h.tenantA, nil)
	path := "/v1/jobs/" + j.ID
	r := h.request(http.MethodDelete, path, h.tenantA, nil).expect(t, http.StatusAccepted)
	if !r.job(t).Deleting {
		t.Errorf("DELETE answer lacks the deleting mark: %s", r.body)
	}
	ctx := context.Background()
	key := types.NamespacedName{Namespace: h.tenantA, Name: j.ID}
	var aj v1alpha1.AsyncJob
	h.must(h.env.Client.Get(ctx, key, &aj))
	if aj.DeletionTimestamp == nil || !hasFinalizer(aj.Finalizers, metav1.FinalizerDeleteDependents) {
		t.Fatalf("not deleted in the foreground: deletionTimestamp %v, finalizers %v", aj.DeletionTimestamp, aj.Finalizers)
	}
	// While teardown runs: readable with the mark, DELETE again is 202.
	h.eventually("the cache sees the deletion", func() bool {
		got := h.request(http.MethodGet, path, h.tenantA, nil)
		return got.StatusCode == http.StatusOK && got.job(t).Deleting
	})
	h.request(http.MethodDelete, path, h.tenantA, nil).expect(t, http.StatusAccepted)
	h.request(http.MethodPost, path+"/cancel", h.tenantA, nil).expect(t, http.StatusAccepted)

	// The garbage collector finishes: the AsyncJob is gone, and so is the job.
	aj.Finalizers = nil
	h.must(h.env.Client.Update(ctx, &aj))
	h.eventually("the job is gone", func() bool {
		return h.request(http.MethodGet, path, h.tenantA, nil).StatusCode == http.StatusNotFound
	})
	r = h.request(http.MethodDelete, path, h.tenantA, nil).expect(t, http.StatusNotFound)
	if r.problem(t).Code != problemJobNotFound.Code {
		t.Errorf("DELETE of a gone job: %s", r.body)
	}
	// A DELETE with a body is refused before anything happens.
	other := h.submit(h.tenantA, nil)
	b := h.request(http.MethodDelete, "/v1/jobs/"+other.ID, h.tenantA, `{"force":true}`).expect(t, http.StatusBadRequest)
	if b.problem(t).Code != problemUnexpectedBody.Code {
		t.Errorf("DELETE with a body: %s", b.body)
	}
	h.must(h.env.Client.Get(ctx, types.NamespacedName{Namespace: h.tenantA, Name: other.ID}, &aj))
	if aj.DeletionTimestamp != nil {
		t.Error("a DELETE with a body deleted the job")
	}
}

func hasFinalizer(fs []string, f string) bool {
	for _, x := range fs {
		if x == f {
			return true
		}
	}
	return false
}
