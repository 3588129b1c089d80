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
	"slices"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/internal/queue"
)

// jobTypeIndex indexes the API's cache of AsyncJobs by spec.type, so a queue
// read scans one type's jobs, not every job.
const jobTypeIndex = "spec.type"

// estimateRuns is how many of a type's most recently completed jobs the start
// estimate averages.
const estimateRuns = 20

// JobQueue is a waiting job's place in line: absent when unknown, never guessed.
type JobQueue struct {
	// Name is the queue: the job's type (built-in queue), or its Kueue LocalQueue.
	Name string `json:"name"`
	// Position is 1 for the job that starts next.
	Position int `json:"position"`
	// Ahead counts the jobs that start before it.
	Ahead int `json:"ahead"`
	// EstimatedStartAt is an estimate (docs/api.md); nil without history, and for Kueue.
	EstimatedStartAt *time.Time `json:"estimatedStartAt"`
}

// JobTimings are how long the job waited and ran, in whole seconds, for the
// phases that are over: a phase still going on is null, so that the
// representation (and its ETag) changes only when the job does.
type JobTimings struct {
	// Queued is creation to start (or to the end, for a job that never started).
	Queued *int64 `json:"queued"`
	// Running is start to completion.
	Running *int64 `json:"running"`
}

// indexJobsByType adds jobTypeIndex to the API's cache.
func indexJobsByType(c cache.Cache) error {
	return c.IndexField(context.Background(), &v1alpha1.AsyncJob{}, jobTypeIndex,
		func(o client.Object) []string { return []string{o.(*v1alpha1.AsyncJob).Spec.Type} })
}

// timingsOf derives the timings from the status alone.
func timingsOf(aj *v1alpha1.AsyncJob) JobTimings {
	st := aj.Status
	var t JobTimings
	seconds := func(from, to time.Time) *int64 {
		d := max(int64(to.Sub(from)/time.Second), 0)
		return &d
	}
	switch {
	case st.StartTime != nil:
		t.Queued = seconds(aj.CreationTimestamp.Time, st.StartTime.Time)
		if st.CompletionTime != nil {
			t.Running = seconds(st.StartTime.Time, st.CompletionTime.Time)
		}
	case st.CompletionTime != nil: // finished without starting: cancelled or rejected while it waited
		t.Queued = seconds(aj.CreationTimestamp.Time, st.CompletionTime.Time)
	}
	return t
}

// waitsInQueue reports an AsyncJob the built-in queue holds: of a type with a
// concurrency bound, not finished, cancelled or being deleted, never started,
// not refused (Accepted=False), and either not yet seen by the controller or
// held by it (Running=False, reason Queued).
func waitsInQueue(aj *v1alpha1.AsyncJob) bool {
	st := aj.Status
	if st.State.IsFinished() || st.State == v1alpha1.StateRunning || st.StartTime != nil || aj.Spec.Cancel || aj.DeletionTimestamp != nil {
		return false
	}
	if c := meta.FindStatusCondition(st.Conditions, v1alpha1.ConditionAccepted); c != nil && c.Status == "False" {
		return false
	}
	c := meta.FindStatusCondition(st.Conditions, v1alpha1.ConditionRunning)
	return c == nil || c.Reason == v1alpha1.ReasonQueued
}

func entryOf(aj *v1alpha1.AsyncJob) queue.Entry {
	tenant := aj.Labels[v1alpha1.LabelTenant]
	if tenant == "" {
		tenant = aj.Namespace
	}
	return queue.Entry{Namespace: aj.Namespace, Name: aj.Name, Tenant: tenant, Priority: aj.Spec.Priority, Created: queue.SubmittedAt(aj)}
}

// queueOf is a waiting job's place in line, from the informer cache only:
// position counts the type's waiting jobs that start before it (the
// controller's own order, internal/queue), so it is exact as of the cache. nil
// when the job does not wait in the built-in queue, or the cache cannot say.
func (s *store) queueOf(ctx context.Context, aj *v1alpha1.AsyncJob) *JobQueue {
	if !waitsInQueue(aj) {
		return nil
	}
	jt := s.cachedType(ctx, aj.Spec.Type)
	if jt == nil || jt.Spec.Concurrency == nil {
		return nil
	}
	var list v1alpha1.AsyncJobList
	// Read-only: no copy of every job of the type per read.
	if err := s.cache.List(ctx, &list, client.MatchingFields{jobTypeIndex: aj.Spec.Type}, client.UnsafeDisableDeepCopy); err != nil {
		return nil
	}
	return placeInLine(aj, jt, list.Items)
}

// placeInLine is queueOf's judgement over the type's jobs, pure: one pass,
// no sorting, so a read costs O(jobs of the type).
func placeInLine(aj *v1alpha1.AsyncJob, jt *v1alpha1.AsyncJobType, items []v1alpha1.AsyncJob) *JobQueue {
	list := v1alpha1.AsyncJobList{Items: items}
	self := entryOf(aj)
	ahead := 0
	var runs []run
	var moved time.Time // when the line last moved: the latest start or end
	for i := range list.Items {
		o := &list.Items[i]
		if o.Namespace == aj.Namespace && o.Name == aj.Name {
			continue
		}
		if waitsInQueue(o) {
			if queue.Compare(entryOf(o), self) < 0 {
				ahead++
			}
			continue
		}
		st := o.Status
		if st.StartTime != nil && st.StartTime.After(moved) {
			moved = st.StartTime.Time
		}
		if st.State.IsFinished() && st.CompletionTime != nil && st.CompletionTime.After(moved) {
			moved = st.CompletionTime.Time
		}
		if st.State == v1alpha1.StateCompleted && st.StartTime != nil && st.CompletionTime != nil {
			runs = append(runs, run{end: st.CompletionTime.Time, took: st.CompletionTime.Sub(st.StartTime.Time)})
		}
	}
	q := &JobQueue{Name: aj.Spec.Type, Position: ahead + 1, Ahead: ahead}
	if at, ok := queue.EstimateStart(moved, q.Position, int(jt.Spec.Concurrency.Max), meanOfRecent(runs, estimateRuns)); ok {
		at = at.UTC().Truncate(time.Second)
		q.EstimatedStartAt = &at
	}
	return q
}

type run struct {
	end  time.Time
	took time.Duration
}

// meanOfRecent is the mean duration of the n runs that ended last; 0 for none.
func meanOfRecent(runs []run, n int) time.Duration {
	if len(runs) == 0 {
		return 0
	}
	slices.SortFunc(runs, func(a, b run) int { return b.end.Compare(a.end) })
	runs = runs[:min(n, len(runs))]
	var sum time.Duration
	for _, r := range runs {
		sum += r.took
	}
	return sum / time.Duration(len(runs))
}

// jobView is the job's representation with what only the store knows: its
// place in line.
func (s *Server) jobView(ctx context.Context, aj *v1alpha1.AsyncJob) Job {
	j := toJob(aj)
	if j.Queue = s.store.queueOf(ctx, aj); j.Queue == nil {
		s.withQueue(ctx, aj, &j) // a type queued by Kueue
	}
	return j
}

// queuedETag is the ETag a GET answers for aj: the hub's (plain), unless the
// job waits in the built-in queue, whose place in line is not in the hub's
// events: then the ETag of the whole view, and queued is true, so a held
// GET wakes at the job's next event and the answer's own ETag decides
// between 200 and 304.
func (s *Server) queuedETag(ctx context.Context, aj *v1alpha1.AsyncJob, plain string) (etag string, queued bool, err error) {
	view := s.jobView(ctx, aj)
	if view.Queue == nil {
		return plain, false, nil
	}
	data, err := json.Marshal(view)
	if err != nil {
		return "", false, err
	}
	return etagOf(data), true, nil
}

// withQueue adds the job's place in line to its representation, when known.
func (s *Server) withQueue(ctx context.Context, aj *v1alpha1.AsyncJob, job *Job) {
	if aj.Status.State != v1alpha1.StatePending {
		return
	}
	jobType := s.store.cachedType(ctx, aj.Spec.Type)
	if name, position, ahead, ok := s.store.kueuePosition(ctx, aj, jobType); ok {
		job.Queue = &JobQueue{Name: name, Position: position, Ahead: ahead}
	}
}
