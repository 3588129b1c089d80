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
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/test/wrappers"
)

func TestWithDisruptionRule(t *testing.T) {
	ignoreDisruptions := batchv1.PodFailurePolicyRule{
		Action: batchv1.PodFailurePolicyActionIgnore,
		OnPodConditions: []batchv1.PodFailurePolicyOnPodConditionsPattern{{
			Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue,
		}},
	}
	failOn42 := batchv1.PodFailurePolicyRule{
		Action:      batchv1.PodFailurePolicyActionFailJob,
		OnExitCodes: &batchv1.PodFailurePolicyOnExitCodesRequirement{Operator: batchv1.PodFailurePolicyOnExitCodesOpIn, Values: []int32{42}},
	}
	countDisruptions := batchv1.PodFailurePolicyRule{
		Action:          batchv1.PodFailurePolicyActionCount,
		OnPodConditions: []batchv1.PodFailurePolicyOnPodConditionsPattern{{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue}},
	}
	for _, tc := range []struct {
		name     string
		template *batchv1.PodFailurePolicy
		want     []batchv1.PodFailurePolicyRule
	}{
		{"no policy: disruptions are ignored", nil, []batchv1.PodFailurePolicyRule{ignoreDisruptions}},
		{"the type's rules come after ours", &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{failOn42}},
			[]batchv1.PodFailurePolicyRule{ignoreDisruptions, failOn42}},
		{"a type that decides about disruptions keeps its policy", &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{countDisruptions}},
			[]batchv1.PodFailurePolicyRule{countDisruptions}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := tc.template.DeepCopy()
			got := withDisruptionRule(tc.template)
			if diff := cmp.Diff(tc.want, got.Rules); diff != "" {
				t.Errorf("rules (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(before, tc.template); diff != "" {
				t.Errorf("the template's policy was mutated:\n%s", diff)
			}
		})
	}
}

func TestAttemptHistory(t *testing.T) {
	rec := func(pod string, o asyncjobv1alpha1.AttemptOutcome, reason string, exit *int32, start, finish time.Duration) asyncjobv1alpha1.AttemptRecord {
		r := asyncjobv1alpha1.AttemptRecord{Pod: pod, Outcome: o, Reason: reason, ExitCode: exit}
		if start != 0 {
			r.StartTime = new(ago(start))
		}
		if finish != 0 {
			r.FinishTime = new(ago(finish))
		}
		return r
	}
	running := func(name string, created time.Duration) *wrappers.PodWrapper {
		return statusPod(name, corev1.PodRunning, ago(created)).Created(ago(created)).Running("main")
	}
	job := statusJob().Obj()
	deadlineJob := statusJob().Failed(batchv1.JobReasonDeadlineExceeded, "Job was active longer than specified deadline", ago(time.Minute)).Obj()

	cases := []struct {
		name string
		prev []asyncjobv1alpha1.AttemptRecord
		obs  observation
		want []asyncjobv1alpha1.AttemptRecord
	}{
		{
			name: "no Job, no attempts",
			obs:  observation{},
			want: nil,
		},
		{
			name: "a pending and a running pod, in creation order",
			obs: observation{Job: job, ResultContainer: "main", Pods: []corev1.Pod{
				*statusPod("b", corev1.PodPending, metav1.Time{}).Created(ago(time.Minute)).Obj(),
				*running("a", 10*time.Minute).Obj(),
			}},
			want: []asyncjobv1alpha1.AttemptRecord{
				rec("a", asyncjobv1alpha1.AttemptRunning, "", nil, 10*time.Minute, 0),
				rec("b", asyncjobv1alpha1.AttemptPending, "", nil, 0, 0),
			},
		},
		{
			name: "an evicted pod is Disrupted with the condition's reason; its replacement runs",
			obs: observation{Job: job, ResultContainer: "main", Pods: []corev1.Pod{
				*statusPod("a", corev1.PodFailed, ago(10*time.Minute)).Created(ago(10*time.Minute)).
					Condition(corev1.DisruptionTarget, corev1.ConditionTrue, "EvictionByEvictionAPI").
					Terminated("main", 143, "", ago(5*time.Minute)).Obj(),
				*running("b", 4*time.Minute).Obj(),
			}},
			want: []asyncjobv1alpha1.AttemptRecord{
				rec("a", asyncjobv1alpha1.AttemptDisrupted, "EvictionByEvictionAPI", new(int32(143)), 10*time.Minute, 5*time.Minute),
				rec("b", asyncjobv1alpha1.AttemptRunning, "", nil, 4*time.Minute, 0),
			},
		},
		{
			name: "a failed container is Failed with its exit code and reason",
			obs: observation{Job: job, ResultContainer: "main", Pods: []corev1.Pod{
				*statusPod("a", corev1.PodFailed, ago(10*time.Minute)).Created(ago(10 * time.Minute)).
					ContainerStatus(corev1.ContainerStatus{Name: "main", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
						ExitCode: 137, Reason: "OOMKilled", FinishedAt: ago(8 * time.Minute),
					}}}).Obj(),
			}},
			want: []asyncjobv1alpha1.AttemptRecord{
				rec("a", asyncjobv1alpha1.AttemptFailed, "OOMKilled", new(int32(137)), 10*time.Minute, 8*time.Minute),
			},
		},
		{
			name: "a succeeded pod",
			obs: observation{Job: job, ResultContainer: "main", Pods: []corev1.Pod{
				*statusPod("a", corev1.PodSucceeded, ago(10*time.Minute)).Created(ago(10*time.Minute)).
					Terminated("main", 0, "{}", ago(2*time.Minute)).Obj(),
			}},
			want: []asyncjobv1alpha1.AttemptRecord{
				rec("a", asyncjobv1alpha1.AttemptSucceeded, "", new(int32(0)), 10*time.Minute, 2*time.Minute),
			},
		},
		{
			name: "an evicted pod already deleted keeps its record; a running one that vanished is Lost",
			prev: []asyncjobv1alpha1.AttemptRecord{
				rec("a", asyncjobv1alpha1.AttemptDisrupted, "EvictionByEvictionAPI", new(int32(143)), 10*time.Minute, 5*time.Minute),
				rec("b", asyncjobv1alpha1.AttemptRunning, "", nil, 4*time.Minute, 0),
			},
			obs: observation{Job: job, ResultContainer: "main"},
			want: []asyncjobv1alpha1.AttemptRecord{
				rec("a", asyncjobv1alpha1.AttemptDisrupted, "EvictionByEvictionAPI", new(int32(143)), 10*time.Minute, 5*time.Minute),
				{Pod: "b", Outcome: asyncjobv1alpha1.AttemptLost, Reason: "PodDeleted", StartTime: new(ago(4 * time.Minute)), FinishTime: new(statusNow)},
			},
		},
		{
			name: "the Job's deadline: the pod it deletes ended by DeadlineExceeded, not by its exit code",
			obs: observation{Job: deadlineJob, ResultContainer: "main", Pods: []corev1.Pod{
				*statusPod("a", corev1.PodFailed, ago(10*time.Minute)).Created(ago(10*time.Minute)).Deleting(ago(time.Minute)).
					Terminated("main", 143, "", ago(30*time.Second)).Obj(),
			}},
			want: []asyncjobv1alpha1.AttemptRecord{
				rec("a", asyncjobv1alpha1.AttemptDeadlineExceeded, batchv1.JobReasonDeadlineExceeded, new(int32(143)), 10*time.Minute, 30*time.Second),
			},
		},
		{
			name: "the kubelet's own deadline (activeDeadlineSeconds on the pod)",
			obs: observation{Job: job, ResultContainer: "main", Pods: []corev1.Pod{
				*statusPod("a", corev1.PodFailed, ago(10*time.Minute)).Created(ago(10 * time.Minute)).Reason("DeadlineExceeded").Obj(),
			}},
			want: []asyncjobv1alpha1.AttemptRecord{
				{Pod: "a", Outcome: asyncjobv1alpha1.AttemptDeadlineExceeded, Reason: "DeadlineExceeded", StartTime: new(ago(10 * time.Minute)), FinishTime: new(statusNow)},
			},
		},
		{
			name: "cancelled: the running attempt whose pod went with the Job",
			prev: []asyncjobv1alpha1.AttemptRecord{rec("a", asyncjobv1alpha1.AttemptRunning, "", nil, 10*time.Minute, 0)},
			obs:  observation{CancelRequested: true},
			want: []asyncjobv1alpha1.AttemptRecord{
				{Pod: "a", Outcome: asyncjobv1alpha1.AttemptCancelled, StartTime: new(ago(10 * time.Minute)), FinishTime: new(statusNow)},
			},
		},
		{
			name: "a finish time once recorded stays",
			prev: []asyncjobv1alpha1.AttemptRecord{rec("a", asyncjobv1alpha1.AttemptFailed, "Error", new(int32(1)), 10*time.Minute, 9*time.Minute)},
			obs: observation{Job: job, ResultContainer: "main", Pods: []corev1.Pod{
				*statusPod("a", corev1.PodFailed, ago(10*time.Minute)).Created(ago(10 * time.Minute)).Obj(),
			}},
			want: []asyncjobv1alpha1.AttemptRecord{rec("a", asyncjobv1alpha1.AttemptFailed, "", nil, 10*time.Minute, 9*time.Minute)},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := attemptHistory(tc.prev, tc.obs, statusNow)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("attemptHistory() (-want +got):\n%s", diff)
			}
		})
	}
}

// TestAttemptHistoryIsBounded: a job retried without end keeps its last
// MaxAttemptHistory attempts, the oldest dropped.
func TestAttemptHistoryIsBounded(t *testing.T) {
	var prev []asyncjobv1alpha1.AttemptRecord
	for i := range asyncjobv1alpha1.MaxAttemptHistory {
		prev = append(prev, asyncjobv1alpha1.AttemptRecord{Pod: fmt.Sprintf("p%02d", i), Outcome: asyncjobv1alpha1.AttemptDisrupted})
	}
	pod := statusPod("p99", corev1.PodRunning, ago(time.Minute)).Created(ago(time.Minute)).Obj()
	got := attemptHistory(prev, observation{Job: statusJob().Obj(), Pods: []corev1.Pod{*pod}}, statusNow)
	if len(got) != asyncjobv1alpha1.MaxAttemptHistory {
		t.Fatalf("%d records, want %d", len(got), asyncjobv1alpha1.MaxAttemptHistory)
	}
	if got[0].Pod != "p01" || got[len(got)-1].Pod != "p99" {
		t.Errorf("want p01 .. p99, got %s .. %s", got[0].Pod, got[len(got)-1].Pod)
	}
}

// TestDeriveStatusCountsDisruptedAttempts: the Job's counters leave out pods
// its pod failure policy ignored; attempts counts them.
func TestDeriveStatusCountsDisruptedAttempts(t *testing.T) {
	job := statusJob().Counts(1, 0, 0).Obj()
	pods := []corev1.Pod{
		*statusPod("a", corev1.PodFailed, ago(10*time.Minute)).Created(ago(10*time.Minute)).
			Condition(corev1.DisruptionTarget, corev1.ConditionTrue, "PreemptionByScheduler").Obj(),
		*statusPod("b", corev1.PodRunning, ago(time.Minute)).Created(ago(time.Minute)).Running("main").Obj(),
	}
	got := deriveStatus(runningPrev(), observation{Generation: statusGen, Job: job, Pods: pods, ResultContainer: "main"}, statusNow)
	if got.Attempts != 2 {
		t.Errorf("attempts = %d, want 2 (one disrupted, one running)", got.Attempts)
	}
	if len(got.AttemptHistory) != 2 || got.AttemptHistory[0].Outcome != asyncjobv1alpha1.AttemptDisrupted || got.AttemptHistory[0].Reason != "PreemptionByScheduler" {
		t.Errorf("history %+v", got.AttemptHistory)
	}
	if got.State != asyncjobv1alpha1.StateRunning {
		t.Errorf("state %s, want Running", got.State)
	}
}
