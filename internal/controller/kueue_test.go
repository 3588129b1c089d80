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
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/test/wrappers"
)

func TestBuildJobKueue(t *testing.T) {
	jt := builderType()
	jt.Spec.Kueue = &asyncjobv1alpha1.KueueQueue{LocalQueue: "batch"}
	job, err := buildJob(builderAsyncJob(`{"format":"csv"}`, nil), jt, defaultLimits, workerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if got := job.Labels[asyncjobv1alpha1.LabelKueueQueueName]; got != "batch" {
		t.Errorf("queue-name label = %q, want batch", got)
	}
	if job.Spec.Suspend == nil || !*job.Spec.Suspend {
		t.Error("a Kueue type's Job must be created suspended")
	}
	if _, ok := job.Spec.Template.Labels[asyncjobv1alpha1.LabelKueueQueueName]; ok {
		t.Error("the queue label belongs on the Job, not its pods")
	}

	plain, err := buildJob(builderAsyncJob(`{"format":"csv"}`, nil), builderType(), defaultLimits, workerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := plain.Labels[asyncjobv1alpha1.LabelKueueQueueName]; ok || plain.Spec.Suspend != nil {
		t.Error("a type without spec.kueue must not be labelled for Kueue nor suspended")
	}
}

func TestDeriveStatusKueue(t *testing.T) {
	kueueJob := func() *wrappers.JobWrapper {
		return statusJob().Label(asyncjobv1alpha1.LabelKueueQueueName, "batch").Suspend()
	}
	preempted := &metav1.Condition{Type: "Preempted", Status: metav1.ConditionTrue, Reason: "InClusterQueue",
		Message: "Preempted to accommodate a workload due to prioritization in the ClusterQueue"}
	evicted := &metav1.Condition{Type: "Evicted", Status: metav1.ConditionTrue, Reason: "PodsReadyTimeout", Message: "Exceeded the PodsReady timeout"}
	cases := []struct {
		name        string
		prev        asyncjobv1alpha1.AsyncJobStatus
		obs         observation
		wantState   asyncjobv1alpha1.AsyncJobState
		wantReason  string
		wantMessage string
	}{
		{
			name:        "suspended, never started: waiting for Kueue admission",
			obs:         observation{Accepted: acceptedJobCreated, Job: kueueJob().Obj()},
			wantState:   asyncjobv1alpha1.StatePending,
			wantReason:  asyncjobv1alpha1.ReasonWaitingForKueue,
			wantMessage: "waiting for Kueue admission",
		},
		{
			name:        "admitted, pod running: Running",
			obs:         observation{Accepted: acceptedJobCreated, Job: statusJob().Label(asyncjobv1alpha1.LabelKueueQueueName, "batch").Counts(1, 0, 0).Obj(), Pods: []corev1.Pod{*statusPod("report-1-a", corev1.PodRunning, ago(time.Minute)).Obj()}},
			wantState:   asyncjobv1alpha1.StateRunning,
			wantReason:  asyncjobv1alpha1.ReasonPodRunning,
			wantMessage: msgRunning,
		},
		{
			name:        "started, then preempted by Kueue: Pending again, saying why",
			prev:        runningPrev(),
			obs:         observation{Accepted: acceptedJobCreated, Job: kueueJob().Obj(), KueueEviction: preempted},
			wantState:   asyncjobv1alpha1.StatePending,
			wantReason:  asyncjobv1alpha1.ReasonPreemptedByKueue,
			wantMessage: "Kueue preempted the Job (InClusterQueue: Preempted to accommodate a workload due to prioritization in the ClusterQueue); waiting for Kueue admission again",
		},
		{
			name:        "started, then evicted by Kueue: Pending again, saying why",
			prev:        runningPrev(),
			obs:         observation{Accepted: acceptedJobCreated, Job: kueueJob().Obj(), KueueEviction: evicted},
			wantState:   asyncjobv1alpha1.StatePending,
			wantReason:  asyncjobv1alpha1.ReasonEvictedByKueue,
			wantMessage: "Kueue evicted the Job (PodsReadyTimeout: Exceeded the PodsReady timeout); waiting for Kueue admission again",
		},
		{
			name:        "started, then suspended, Workload unreadable: Pending, evicted without why",
			prev:        runningPrev(),
			obs:         observation{Accepted: acceptedJobCreated, Job: kueueJob().Obj()},
			wantState:   asyncjobv1alpha1.StatePending,
			wantReason:  asyncjobv1alpha1.ReasonEvictedByKueue,
			wantMessage: "Kueue suspended the Job after it started; waiting for Kueue admission again",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := deriveStatus(tc.prev, tc.obs, statusNow)
			if s.State != tc.wantState {
				t.Errorf("state = %s, want %s", s.State, tc.wantState)
			}
			c := meta.FindStatusCondition(s.Conditions, asyncjobv1alpha1.ConditionRunning)
			if c == nil || c.Reason != tc.wantReason || c.Message != tc.wantMessage {
				t.Errorf("Running condition = %+v, want reason %s message %q", c, tc.wantReason, tc.wantMessage)
			}
			if s.Failure != nil {
				t.Errorf("Kueue's suspension is not a failure: %+v", s.Failure)
			}
		})
	}
}

func TestAttemptHistoryKueueSuspension(t *testing.T) {
	// The pod that ran vanishes because Kueue suspended the Job: the attempt
	// was disrupted, not lost, and it says by what.
	prev := []asyncjobv1alpha1.AttemptRecord{{Pod: "report-1-a", Outcome: asyncjobv1alpha1.AttemptRunning, StartTime: new(ago(time.Minute))}}
	obs := observation{Job: statusJob().Label(asyncjobv1alpha1.LabelKueueQueueName, "batch").Suspend().Obj(),
		KueueEviction: &metav1.Condition{Type: "Preempted", Status: metav1.ConditionTrue, Reason: "InClusterQueue"}}
	got := attemptHistory(prev, obs, statusNow)
	if len(got) != 1 || got[0].Outcome != asyncjobv1alpha1.AttemptDisrupted || got[0].Reason != "InClusterQueue" {
		t.Fatalf("attempts = %+v, want one Disrupted by InClusterQueue", got)
	}
}
