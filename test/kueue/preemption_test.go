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

package kueue

import (
	"context"
	"fmt"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/internal/httpapi"
	"github.com/asyncjob/asyncjob/test/localcluster"
	"github.com/asyncjob/asyncjob/test/restclient"
	"github.com/asyncjob/asyncjob/test/stack"
)

// TestKueuePreemption: a running job of a low priority is preempted by Kueue
// for a high-priority one in a ClusterQueue with room for one. That is not a
// failure: the low one goes back to PENDING saying Kueue preempted it, its
// attempt is recorded as disrupted (not counted towards retries), and once
// the high one is done it runs again and completes.
func TestKueuePreemption(t *testing.T) {
	s, api := sharedStack(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	ns := stack.Namespace(tenant)
	const lq = "preemptible"
	if err := s.Cluster.CreateKueueQueue(ctx, ns, lq, "one-cpu", "1"); err != nil {
		t.Fatal(err)
	}
	for name, value := range map[string]int64{"low": 10, "high": 1000} {
		if err := s.Cluster.CreateKueuePriorityClass(ctx, name, value); err != nil {
			t.Fatal(err)
		}
	}
	// The type template's labels are the Job's: Kueue reads the Job's priority class there.
	low := kueueType("kueue-low", lq, localcluster.PodBehavior{RunFor: 20 * time.Second, Quick: true})
	low.Spec.Template.Labels = map[string]string{"kueue.x-k8s.io/priority-class": "low"}
	high := kueueType("kueue-high", lq, localcluster.PodBehavior{RunFor: 5 * time.Second, Quick: true})
	high.Spec.Template.Labels = map[string]string{"kueue.x-k8s.io/priority-class": "high"}
	for _, jt := range []*asyncjobv1alpha1.AsyncJobType{low, high} {
		if err := s.Client.Create(ctx, jt); err != nil {
			t.Fatal(err)
		}
		waitSubmittable(ctx, t, api, jt.Name)
	}

	lowID := submit(ctx, t, api, low.Name)
	waitREST(ctx, t, api, lowID, "the low-priority job RUNNING", func(j httpapi.Job) bool { return j.Status == httpapi.StatusRunning })
	highID := submit(ctx, t, api, high.Name)

	// Preempted: PENDING again, saying so, not failed.
	var aj asyncjobv1alpha1.AsyncJob
	err := wait.PollUntilContextTimeout(ctx, 300*time.Millisecond, 3*time.Minute, true, func(ctx context.Context) (bool, error) {
		if err := s.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: lowID}, &aj); err != nil {
			return false, err
		}
		if aj.Status.State.IsFinished() {
			return false, fmt.Errorf("the preempted job finished: %s %+v", aj.Status.State, aj.Status.Failure)
		}
		c := meta.FindStatusCondition(aj.Status.Conditions, asyncjobv1alpha1.ConditionRunning)
		return aj.Status.State == asyncjobv1alpha1.StatePending && c != nil && c.Reason == asyncjobv1alpha1.ReasonPreemptedByKueue, nil
	})
	if err != nil {
		t.Fatalf("the low-priority job PENDING, PreemptedByKueue: %v; status %+v", err, aj.Status)
	}
	c := meta.FindStatusCondition(aj.Status.Conditions, asyncjobv1alpha1.ConditionRunning)
	t.Logf("preempted: %s: %s", c.Reason, c.Message)
	j, err := getJob(ctx, api, lowID)
	if err != nil {
		t.Fatal(err)
	}
	if j.Status != httpapi.StatusPending || j.Problem != nil {
		t.Errorf("REST: the preempted job is %s, problem %+v; want PENDING without a problem", j.Status, j.Problem)
	}

	// The high one runs and completes; then the low one runs again and completes.
	waitREST(ctx, t, api, highID, "the high-priority job COMPLETED", func(j httpapi.Job) bool { return j.Status == httpapi.StatusCompleted })
	done := waitREST(ctx, t, api, lowID, "the preempted job COMPLETED", func(j httpapi.Job) bool { return j.Status == httpapi.StatusCompleted })
	if len(done.AttemptHistory) < 2 {
		t.Fatalf("attempts %d, history %+v: want the preempted attempt and the one that completed", done.Attempts, done.AttemptHistory)
	}
	first := done.AttemptHistory[0]
	if first.Outcome != "DISRUPTED" || first.CountsTowardsRetries {
		t.Errorf("the preempted attempt: %+v, want DISRUPTED, not counted towards retries", first)
	}
	if last := done.AttemptHistory[len(done.AttemptHistory)-1]; last.Outcome != "SUCCEEDED" {
		t.Errorf("the last attempt: %+v, want SUCCEEDED", last)
	}
}

// waitREST polls the job through REST until cond holds; a job that ends
// otherwise fails the test.
func waitREST(ctx context.Context, t *testing.T, api restclient.Client, id, what string, cond func(httpapi.Job) bool) httpapi.Job {
	t.Helper()
	var j httpapi.Job
	err := wait.PollUntilContextTimeout(ctx, 300*time.Millisecond, 3*time.Minute, true, func(ctx context.Context) (bool, error) {
		var err error
		if j, err = getJob(ctx, api, id); err != nil {
			return false, err
		}
		if cond(j) {
			return true, nil
		}
		if j.Status != httpapi.StatusPending && j.Status != httpapi.StatusRunning {
			return false, fmt.Errorf("job %s is %s", id, j.Status)
		}
		return false, nil
	})
	if err != nil {
		t.Fatalf("%s: %v; last %+v", what, err, j)
	}
	return j
}
