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
	"fmt"
	"slices"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/internal/httpapi"
	"github.com/asyncjob/asyncjob/test/localcluster"
	"github.com/asyncjob/asyncjob/test/stack"
)

// TestQueueRunsInOrder: twenty submissions to a type with max 2 (the issue's
// "done means"), with the real Job controller and kwok's nodes: two run, the
// other eighteen wait PENDING with positions 1 to 18 in submission order, once
// runs have finished every waiting job has an estimated start, at no poll do
// more than two Jobs run, and they start in the order submitted (Jobs first
// seen unsuspended in the same poll were admitted together and count as in
// order) and all complete.
func TestQueueRunsInOrder(t *testing.T) {
	ctx := context.Background()
	jt := stack.SimulatedType("e2e-queue", localcluster.PodBehavior{RunFor: 2 * time.Second, TerminationMessage: `{"ok":true}`}, asyncjobv1alpha1.JobLimits{})
	jt.Spec.Concurrency = &asyncjobv1alpha1.Concurrency{Max: 2}
	if err := s.Client.Create(ctx, jt); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Client.Delete(context.Background(), jt) })
	if err := waitSubmittable(ctx, jt.Name); err != nil {
		t.Fatal(err)
	}
	var ids []string
	const submissions = 20
	for range submissions {
		ids = append(ids, api.submit(t, jt.Name, map[string]any{}))
	}

	var started []string
	sawLine, sawEstimates := false, false
	deadline := time.Now().Add(4 * time.Minute)
	for {
		if time.Now().After(deadline) {
			t.Fatalf("not all done in time; started %v", started)
		}
		var jobs batchv1.JobList
		if err := s.Client.List(ctx, &jobs, client.MatchingLabels{asyncjobv1alpha1.LabelType: jt.Name}); err != nil {
			t.Fatal(err)
		}
		running := 0
		var seen []string // first seen unsuspended in this poll: admitted together
		for _, j := range jobs.Items {
			if ptr.Deref(j.Spec.Suspend, false) {
				continue
			}
			if !slices.Contains(started, j.Name) {
				seen = append(seen, j.Name)
			}
			if !finished(&j) && (j.DeletionTimestamp == nil || j.Status.Active > 0) {
				running++
			}
		}
		slices.SortFunc(seen, func(a, b string) int { return slices.Index(ids, a) - slices.Index(ids, b) })
		started = append(started, seen...)
		if running > 2 {
			t.Fatalf("%d Jobs of a type with max 2 run at once", running)
		}
		var views []httpapi.Job
		done := 0
		for _, id := range ids {
			j, ok, err := api.get(ctx, id)
			if err != nil || !ok {
				t.Fatalf("GET %s: found %v, %v", id, ok, err)
			}
			views = append(views, j)
			if j.Status == httpapi.StatusCompleted {
				done++
			}
		}
		if !sawLine && len(started) == 2 && slices.Equal(started, ids[:2]) {
			if err := lineIs(views[2:], jt.Name); err == nil {
				sawLine = true
			} else {
				t.Logf("line not settled yet: %v", err)
			}
		}
		if done >= 2 && !sawEstimates {
			// With finished runs to go by, every waiting job says when it should start.
			sawEstimates = allWaitingEstimated(views)
		}
		if done == len(ids) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !sawLine {
		t.Errorf("never saw two running and %d waiting with positions 1..%d", submissions-2, submissions-2)
	}
	if !sawEstimates {
		t.Error("never saw every waiting job with an estimatedStartAt once runs had finished")
	}
	if !slices.Equal(started, ids) {
		t.Errorf("started in order %v, want the submission order %v", started, ids)
	}
}

// allWaitingEstimated: some jobs wait in the line, and each has an estimated start.
func allWaitingEstimated(views []httpapi.Job) bool {
	waiting, estimated := 0, 0
	for _, v := range views {
		if v.Status == httpapi.StatusPending && v.Queue != nil {
			waiting++
			if v.Queue.EstimatedStartAt != nil {
				estimated++
			}
		}
	}
	return waiting > 0 && estimated == waiting
}

// lineIs checks that the jobs wait PENDING at positions 1, 2, ... in order.
func lineIs(line []httpapi.Job, queue string) error {
	for i, j := range line {
		if j.Status != httpapi.StatusPending || j.Queue == nil || j.Queue.Name != queue || j.Queue.Position != i+1 || j.Queue.Ahead != i {
			return fmt.Errorf("%s: status %s, queue %+v; want PENDING at position %d", j.ID, j.Status, j.Queue, i+1)
		}
	}
	return nil
}

func finished(j *batchv1.Job) bool {
	for _, c := range j.Status.Conditions {
		if (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) && c.Status == "True" {
			return true
		}
	}
	return false
}
