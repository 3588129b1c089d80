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
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	"github.com/asyncjob/asyncjob/api/v1alpha1"
)

// pendingWorkloads is an answer in the shape of Kueue's visibility API
// (apis/visibility/v1beta2): three Workloads, each owned by its Job.
const pendingWorkloads = `{"kind":"PendingWorkloadsSummary","apiVersion":"visibility.kueue.x-k8s.io/v1beta2","metadata":{},"items":[
{"metadata":{"name":"job-c-1","namespace":"acme","ownerReferences":[{"apiVersion":"batch/v1","kind":"Job","name":"c","uid":"u3"}]},"priority":0,"localQueueName":"conversions","positionInClusterQueue":0,"positionInLocalQueue":0},
{"metadata":{"name":"job-d-1","namespace":"acme","ownerReferences":[{"apiVersion":"batch/v1","kind":"Job","name":"d","uid":"u4"}]},"priority":0,"localQueueName":"conversions","positionInClusterQueue":1,"positionInLocalQueue":1},
{"metadata":{"name":"job-e-1","namespace":"acme","ownerReferences":[{"apiVersion":"batch/v1","kind":"Job","name":"e","uid":"u5"}]},"priority":0,"localQueueName":"conversions","positionInClusterQueue":2,"positionInLocalQueue":2}]}`

// TestKueuePositionFromVisibilityAPI reads positions over real HTTP from a
// server answering the visibility API's path as Kueue does: a burst of reads
// of one LocalQueue costs one call, positions are 1-based with ahead, and a
// job the answer does not list, or an API that fails, gives no position.
func TestKueuePositionFromVisibilityAPI(t *testing.T) {
	var calls atomic.Int32
	fail := atomic.Bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/apis/visibility.kueue.x-k8s.io/v1beta2/namespaces/acme/localqueues/conversions/pendingworkloads" {
			http.NotFound(w, r)
			return
		}
		calls.Add(1)
		if fail.Load() {
			http.Error(w, `{"kind":"Status","status":"Failure","code":503}`, http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(pendingWorkloads))
	}))
	defer srv.Close()
	logs, err := NewLogClient(&rest.Config{Host: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	s := &store{logs: logs}
	jt := &v1alpha1.AsyncJobType{Spec: v1alpha1.AsyncJobTypeSpec{Kueue: &v1alpha1.KueueQueue{LocalQueue: "conversions"}}}
	waiting := func(name string) *v1alpha1.AsyncJob {
		return &v1alpha1.AsyncJob{
			ObjectMeta: metav1.ObjectMeta{Namespace: "acme", Name: name},
			Status: v1alpha1.AsyncJobStatus{State: v1alpha1.StatePending, JobName: name, Conditions: []metav1.Condition{{
				Type: v1alpha1.ConditionRunning, Status: metav1.ConditionFalse, Reason: v1alpha1.ReasonWaitingForKueue}}},
		}
	}

	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			name, pos, ahead, ok := s.kueuePosition(context.Background(), waiting("d"), jt)
			if !ok || name != "conversions" || pos != 2 || ahead != 1 {
				t.Errorf("d: %q %d %d %v, want conversions 2 1 true", name, pos, ahead, ok)
			}
		})
	}
	wg.Wait()
	if n := calls.Load(); n != 1 {
		t.Errorf("%d calls for a burst of 20 reads, want 1", n)
	}
	if _, pos, ahead, ok := s.kueuePosition(context.Background(), waiting("c"), jt); !ok || pos != 1 || ahead != 0 {
		t.Errorf("c: %d %d %v, want 1 0 true", pos, ahead, ok)
	}
	if _, _, _, ok := s.kueuePosition(context.Background(), waiting("a"), jt); ok {
		t.Error("a job the visibility API does not list has a position")
	}
	running := waiting("d")
	running.Status.State = v1alpha1.StateRunning
	if _, _, _, ok := s.kueuePosition(context.Background(), running, jt); ok {
		t.Error("a running job has a position")
	}

	// A failing visibility API: no position (a fresh store, so no cached answer).
	fail.Store(true)
	s = &store{logs: logs}
	if _, _, _, ok := s.kueuePosition(context.Background(), waiting("d"), jt); ok {
		t.Error("a position although the visibility API failed")
	}
}
