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
	"encoding/json"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/rest"
	visibilityv1beta2 "sigs.k8s.io/kueue/apis/visibility/v1beta2"

	"github.com/asyncjob/asyncjob/api/v1alpha1"
)

// A waiting job of a type with spec.kueue learns its place in line from
// Kueue's visibility API (an aggregated API of kube-apiserver):
// GET /apis/visibility.kueue.x-k8s.io/v1beta2/namespaces/NS/localqueues/LQ/pendingworkloads
// lists the LocalQueue's pending Workloads in order, each owned by its Job.

// The visibility API is read by the API's identity; aggregated APIs are
// authorized by kube-apiserver like any other.
// +kubebuilder:rbac:groups=visibility.kueue.x-k8s.io,resources=localqueues/pendingworkloads,verbs=get

// kueueQueueTTL is how long one answer of the visibility API serves: a burst
// of reads of one LocalQueue's jobs costs one call.
const kueueQueueTTL = time.Second

// kueueCallTimeout bounds one call: the position is a hint, and a slow
// aggregated API must not hold a job's GET.
const kueueCallTimeout = 2 * time.Second

// kueueQueues caches the visibility API's answers per LocalQueue.
type kueueQueues struct {
	mu      sync.Mutex
	entries map[string]*kueueQueueEntry // by namespace/localQueue
}

type kueueQueueEntry struct {
	mu   sync.Mutex // held during the call: concurrent readers wait for it
	at   time.Time
	ok   bool
	jobs map[string]int32 // the Job's name -> its 0-based position in the LocalQueue
}

// kueueWaiting reports a job whose Job waits for Kueue: pending, with the
// Running reason the controller gives it then.
func kueueWaiting(aj *v1alpha1.AsyncJob) bool {
	if aj.Status.State != v1alpha1.StatePending || aj.Status.JobName == "" {
		return false
	}
	c := meta.FindStatusCondition(aj.Status.Conditions, v1alpha1.ConditionRunning)
	if c == nil {
		return false
	}
	switch c.Reason {
	case v1alpha1.ReasonWaitingForKueue, v1alpha1.ReasonPreemptedByKueue, v1alpha1.ReasonEvictedByKueue:
		return true
	}
	return false
}

// kueuePosition is a waiting Kueue job's place in its LocalQueue: the queue's
// name, its 1-based position and how many wait ahead of it. ok is false
// (the place is absent, never guessed) when the job does not wait for Kueue,
// the visibility API cannot be reached, or it does not list the job's Workload.
func (s *store) kueuePosition(ctx context.Context, aj *v1alpha1.AsyncJob, jobType *v1alpha1.AsyncJobType) (name string, position, ahead int, ok bool) {
	if jobType == nil || jobType.Spec.Kueue == nil || !kueueWaiting(aj) {
		return "", 0, 0, false
	}
	lq := jobType.Spec.Kueue.LocalQueue
	jobs, ok := s.kueue.pending(ctx, s, aj.Namespace, lq)
	if !ok {
		return "", 0, 0, false
	}
	pos, ok := jobs[aj.Status.JobName]
	if !ok {
		return "", 0, 0, false
	}
	return lq, int(pos) + 1, int(pos), true
}

// pending returns the LocalQueue's pending Jobs by name, at most
// kueueQueueTTL old; ok is false when the visibility API did not answer.
func (q *kueueQueues) pending(ctx context.Context, s *store, ns, lq string) (map[string]int32, bool) {
	q.mu.Lock()
	if q.entries == nil {
		q.entries = map[string]*kueueQueueEntry{}
	}
	e := q.entries[ns+"/"+lq]
	if e == nil {
		e = &kueueQueueEntry{}
		q.entries[ns+"/"+lq] = e
	}
	q.mu.Unlock()

	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.at.IsZero() && time.Since(e.at) < kueueQueueTTL {
		return e.jobs, e.ok
	}
	e.jobs, e.ok = s.readPendingWorkloads(ctx, ns, lq)
	e.at = time.Now()
	return e.jobs, e.ok
}

// restClienter is what the logs client (a clientset's CoreV1, NewLogClient)
// also is: its REST client reaches any path of the API server.
type restClienter interface{ RESTClient() rest.Interface }

// readPendingWorkloads calls the visibility API once, by path: it serves only
// the pendingworkloads subresource, so discovery maps no kind to it and a
// controller-runtime client cannot name it.
func (s *store) readPendingWorkloads(ctx context.Context, ns, lq string) (map[string]int32, bool) {
	rc, ok := s.logs.(restClienter)
	if !ok {
		return nil, false
	}
	ctx, cancel := context.WithTimeout(ctx, kueueCallTimeout)
	defer cancel()
	raw, err := rc.RESTClient().Get().AbsPath("/apis", visibilityv1beta2.GroupVersion.Group, visibilityv1beta2.GroupVersion.Version,
		"namespaces", ns, "localqueues", lq, "pendingworkloads").DoRaw(ctx)
	if err != nil {
		return nil, false
	}
	summary := &visibilityv1beta2.PendingWorkloadsSummary{}
	if err := json.Unmarshal(raw, summary); err != nil {
		return nil, false
	}
	jobs := make(map[string]int32, len(summary.Items))
	for _, w := range summary.Items {
		for _, ref := range w.OwnerReferences {
			if ref.Kind == "Job" && ref.APIVersion == "batch/v1" {
				jobs[ref.Name] = w.PositionInLocalQueue
			}
		}
	}
	return jobs, true
}
