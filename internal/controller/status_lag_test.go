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

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
)

func TestPodsLag(t *testing.T) {
	completedJob := statusJob().Counts(0, 1, 0).Completed(ago(5 * time.Second)).Obj()
	succeeded := *statusPod("report-1-a", corev1.PodSucceeded, ago(time.Minute)).Obj()
	running := *statusPod("report-1-a", corev1.PodRunning, ago(time.Minute)).Obj()
	cases := []struct {
		name string
		pods []corev1.Pod
		at   time.Time
		want bool
	}{
		{name: "complete, the succeeded pod is seen", pods: []corev1.Pod{succeeded}, at: statusNow.Time, want: false},
		{name: "complete, the pod still looks Running", pods: []corev1.Pod{running}, at: statusNow.Time, want: true},
		{name: "complete, no pod seen yet", at: statusNow.Time, want: true},
		{name: "complete long ago, the pod is gone: stop waiting", at: statusNow.Add(time.Minute), want: false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := podsLag(completedJob, tc.pods, tc.at); got != tc.want {
				t.Errorf("podsLag() = %v, want %v", got, tc.want)
			}
		})
	}
	if podsLag(statusJob().Counts(1, 0, 0).Obj(), nil, statusNow.Time) {
		t.Errorf("a Job that is not complete never lags")
	}
}

func TestDeriveStatusWaitsForLaggingPods(t *testing.T) {
	prev := asyncjobv1alpha1.AsyncJobStatus{State: asyncjobv1alpha1.StateRunning, StartTime: agoPtr(time.Minute)}
	obs := observation{
		Generation: 1, TTL: time.Hour, ResultContainer: resultName, PodsLagging: true,
		Job:  statusJob().Counts(0, 1, 0).Completed(ago(time.Second)).Obj(),
		Pods: []corev1.Pod{*statusPod("report-1-a", corev1.PodRunning, ago(time.Minute)).Obj()},
	}
	got := deriveStatus(prev, obs, statusNow)
	if got.State != asyncjobv1alpha1.StateRunning || got.CompletionTime != nil || got.Result != nil {
		t.Errorf("with the pods lagging: state %q completion %v result %v, want still Running", got.State, got.CompletionTime, got.Result)
	}
	obs.PodsLagging = false
	obs.Pods = []corev1.Pod{*statusPod("report-1-a", corev1.PodSucceeded, ago(time.Minute)).Terminated(resultName, 0, `{"ok":true}`, ago(time.Second)).Obj()}
	got = deriveStatus(prev, obs, statusNow)
	if got.State != asyncjobv1alpha1.StateCompleted || got.Result == nil || string(got.Result.Raw) != `{"ok":true}` {
		t.Errorf("once the pod is seen: state %q result %v, want Completed with the result", got.State, got.Result)
	}
}
