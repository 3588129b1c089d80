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

package controller

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/test/wrappers"
)

// queuedPair is an AsyncJob created at second sec and its Job, as the
// controller builds it for a type with a concurrency bound: suspended.
func queuedPair(name string, sec int) (*asyncjobv1alpha1.AsyncJob, *batchv1.Job) {
	aj := wrappers.MakeAsyncJob(name, "ns").Type("convert").Tenant("acme").Obj()
	aj.UID = types.UID("uid-" + name)
	aj.CreationTimestamp = metav1.NewTime(time.Date(2026, 12, 2, 6, 0, sec, 0, time.UTC))
	job := wrappers.MakeJob(name, "ns").ControlledBy(aj).Suspend().
		Label(asyncjobv1alpha1.LabelName, name).Label(asyncjobv1alpha1.LabelTenant, "acme").
		Annotation(asyncjobv1alpha1.AnnotationQueue, asyncjobv1alpha1.QueueConcurrency).Obj()
	return aj, job
}

func TestPlanAdmission(t *testing.T) {
	now := metav1.NewTime(time.Date(2026, 12, 2, 7, 0, 0, 0, time.UTC))
	cases := []struct {
		name string
		// edit changes the pairs (index i is job "jI", created at second i).
		edit          func(ajs []*asyncjobv1alpha1.AsyncJob, jobs []*batchv1.Job)
		wantStart     []string
		wantPositions map[string]int32
	}{{
		name:          "two free slots: the two oldest start, the rest get positions",
		wantStart:     []string{"j0", "j1"},
		wantPositions: map[string]int32{"j2": 1, "j3": 2},
	}, {
		name: "a running Job holds a slot",
		edit: func(_ []*asyncjobv1alpha1.AsyncJob, jobs []*batchv1.Job) {
			jobs[3].Spec.Suspend = new(false)
		},
		wantStart:     []string{"j0"},
		wantPositions: map[string]int32{"j1": 1, "j2": 2},
	}, {
		name: "a finished Job frees its slot",
		edit: func(_ []*asyncjobv1alpha1.AsyncJob, jobs []*batchv1.Job) {
			jobs[3].Spec.Suspend = new(false)
			jobs[3].Status.Conditions = wrappers.CompleteConditions(now)
		},
		wantStart:     []string{"j0", "j1"},
		wantPositions: map[string]int32{"j2": 1},
	}, {
		name: "a Job being deleted holds its slot while it has pods, not after",
		edit: func(_ []*asyncjobv1alpha1.AsyncJob, jobs []*batchv1.Job) {
			for _, j := range jobs[2:] {
				j.Spec.Suspend = new(false)
				j.DeletionTimestamp = &now
			}
			jobs[2].Status.Active = 1
		},
		wantStart:     []string{"j0"},
		wantPositions: map[string]int32{"j1": 1},
	}, {
		name: "cancelled and deleted waiting jobs leave the line and lose their position",
		edit: func(ajs []*asyncjobv1alpha1.AsyncJob, _ []*batchv1.Job) {
			ajs[0].Spec.Cancel = true
			ajs[0].Status.Queue = &asyncjobv1alpha1.QueueStatus{Position: 1}
			ajs[1].DeletionTimestamp = &now
			ajs[1].Status.Queue = &asyncjobv1alpha1.QueueStatus{Position: 2}
		},
		wantStart:     []string{"j2", "j3"},
		wantPositions: map[string]int32{"j0": 0, "j1": 0},
	}, {
		name: "an unchanged position is not written again",
		edit: func(ajs []*asyncjobv1alpha1.AsyncJob, _ []*batchv1.Job) {
			ajs[2].Status.Queue = &asyncjobv1alpha1.QueueStatus{Position: 1}
			ajs[3].Status.Queue = &asyncjobv1alpha1.QueueStatus{Position: 1}
		},
		wantStart:     []string{"j0", "j1"},
		wantPositions: map[string]int32{"j3": 2},
	}, {
		name: "a Job another AsyncJob of that name does not control is not admitted",
		edit: func(ajs []*asyncjobv1alpha1.AsyncJob, _ []*batchv1.Job) {
			ajs[0].UID = "someone-else"
		},
		wantStart:     []string{"j1", "j2"},
		wantPositions: map[string]int32{"j3": 1},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var ajs []*asyncjobv1alpha1.AsyncJob
			var jobs []*batchv1.Job
			for i := range 4 {
				aj, job := queuedPair(fmt.Sprintf("j%d", i), i)
				ajs, jobs = append(ajs, aj), append(jobs, job)
			}
			if tc.edit != nil {
				tc.edit(ajs, jobs)
			}
			jt := convertType("convert").Concurrency(2, 0).Obj()
			var ajItems []asyncjobv1alpha1.AsyncJob
			var jobItems []batchv1.Job
			for i := range ajs {
				ajItems, jobItems = append(ajItems, *ajs[i]), append(jobItems, *jobs[i])
			}
			p := planAdmission(jt, jobItems, ajItems)
			gotStart := []string{}
			for _, j := range p.Start {
				gotStart = append(gotStart, j.Name)
			}
			gotPositions := map[string]int32{}
			for _, w := range p.Positions {
				gotPositions[w.aj.Name] = w.position
			}
			if diff := cmp.Diff(tc.wantStart, gotStart); diff != "" {
				t.Errorf("started (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantPositions, gotPositions); diff != "" {
				t.Errorf("position writes (-want +got):\n%s", diff)
			}
		})
	}
}

// TestPlanAdmissionWritesAtMostTheFirstPositions: a long line costs at most
// MaxQueuePositionsWritten position writes.
func TestPlanAdmissionWritesAtMostTheFirstPositions(t *testing.T) {
	var ajs []asyncjobv1alpha1.AsyncJob
	var jobs []batchv1.Job
	for i := range 300 {
		aj, job := queuedPair(fmt.Sprintf("j%03d", i), i)
		ajs, jobs = append(ajs, *aj), append(jobs, *job)
	}
	p := planAdmission(convertType("convert").Concurrency(2, 0).Obj(), jobs, ajs)
	if len(p.Start) != 2 || len(p.Positions) != MaxQueuePositionsWritten {
		t.Fatalf("%d started, %d position writes; want 2 and %d", len(p.Start), len(p.Positions), MaxQueuePositionsWritten)
	}
}

// TestBuildJobQueued: a type with a concurrency bound gets its Jobs created
// suspended and marked for the queue; others are unchanged.
func TestBuildJobQueued(t *testing.T) {
	aj := builderAsyncJob(`{}`, nil)
	plain, err := buildJob(aj, builderType(), effectiveLimits{}, testWorker)
	if err != nil {
		t.Fatal(err)
	}
	if plain.Spec.Suspend != nil || queuedByConcurrency(plain) {
		t.Errorf("unbounded type: suspend %v, annotations %v", plain.Spec.Suspend, plain.Annotations)
	}
	jt := builderType()
	jt.Spec.Concurrency = &asyncjobv1alpha1.Concurrency{Max: 2}
	queued, err := buildJob(aj, jt, effectiveLimits{}, testWorker)
	if err != nil {
		t.Fatal(err)
	}
	if !isSuspended(queued) || !queuedByConcurrency(queued) {
		t.Errorf("bounded type: suspend %v, annotations %v; want suspended and %s=%s", queued.Spec.Suspend, queued.Annotations,
			asyncjobv1alpha1.AnnotationQueue, asyncjobv1alpha1.QueueConcurrency)
	}
}

// TestDeriveStatusQueued: a queued Job's AsyncJob is Pending with Running=False
// reason Queued and keeps its position; once admitted, or cancelled, the
// position goes.
func TestDeriveStatusQueued(t *testing.T) {
	now := metav1.NewTime(time.Date(2026, 12, 2, 7, 0, 0, 0, time.UTC))
	_, job := queuedPair("j0", 0)
	prev := asyncjobv1alpha1.AsyncJobStatus{Queue: &asyncjobv1alpha1.QueueStatus{Position: 3}}
	s := deriveStatus(prev, observation{Accepted: jobCreated(), Job: job}, now)
	c := meta.FindStatusCondition(s.Conditions, asyncjobv1alpha1.ConditionRunning)
	if s.State != asyncjobv1alpha1.StatePending || c == nil || c.Reason != asyncjobv1alpha1.ReasonQueued || c.Message != queuedMessage {
		t.Errorf("queued: state %s, Running %+v", s.State, c)
	}
	if s.Queue == nil || s.Queue.Position != 3 {
		t.Errorf("queued: queue %+v, want the position kept", s.Queue)
	}
	if s := deriveStatus(prev, observation{Accepted: jobCreated(), Job: job, CancelRequested: true}, now); s.Queue != nil {
		t.Errorf("cancelled: queue %+v, want none", s.Queue)
	}
	admitted := job.DeepCopy()
	admitted.Spec.Suspend = new(false)
	s = deriveStatus(prev, observation{Accepted: jobCreated(), Job: admitted}, now)
	if c := meta.FindStatusCondition(s.Conditions, asyncjobv1alpha1.ConditionRunning); s.Queue != nil || c == nil || c.Reason != asyncjobv1alpha1.ReasonWaiting {
		t.Errorf("admitted: queue %+v, Running %+v; want no queue, reason Waiting", s.Queue, c)
	}
}
