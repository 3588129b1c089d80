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
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/test/wrappers"
)

func TestToJob(t *testing.T) {
	created := metav1.NewTime(time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC))
	started := metav1.NewTime(created.Add(time.Minute))
	done := metav1.NewTime(created.Add(time.Hour))
	exit := int32(2)
	aj := wrappers.MakeAsyncJob("id1", "").Created(created).Tenant("acme").Label(labelPrefix+"project", "x").
		Type("convert").Params(`{"a":1}`).
		Status(v1alpha1.AsyncJobStatus{
			State: v1alpha1.StateFailed, Attempts: 3, StartTime: &started, CompletionTime: &done,
			Result:  &apiextensionsv1.JSON{Raw: []byte(`{"ignored":true}`)},
			Failure: &v1alpha1.Failure{Reason: "DeadlineExceeded", Message: "too slow", ExitCode: &exit},
			AttemptHistory: []v1alpha1.AttemptRecord{
				{Pod: "id1-a", Outcome: v1alpha1.AttemptDisrupted, Reason: "EvictionByEvictionAPI", StartTime: &started, FinishTime: &started},
				{Pod: "id1-b", Outcome: v1alpha1.AttemptFailed, Reason: "Error", ExitCode: &exit, StartTime: &started, FinishTime: &done},
				{Pod: "id1-c", Outcome: v1alpha1.AttemptDeadlineExceeded, Reason: "DeadlineExceeded", StartTime: &done, FinishTime: &done},
			},
		}).Obj()
	got := toJob(aj)
	want := Job{
		ID: "id1", Type: "convert", Status: StatusFailed, Parameters: json.RawMessage(`{"a":1}`),
		Labels: map[string]string{"project": "x"}, Attempts: 3,
		AttemptHistory: []JobAttempt{
			{Outcome: "DISRUPTED", Reason: "EvictionByEvictionAPI", StartedAt: &started.Time, EndedAt: &started.Time},
			{Outcome: "FAILED", Reason: "Error", ExitCode: &exit, StartedAt: &started.Time, EndedAt: &done.Time, CountsTowardsRetries: true},
			{Outcome: "DEADLINE_EXCEEDED", Reason: "DeadlineExceeded", StartedAt: &done.Time, EndedAt: &done.Time},
		},
		CreatedAt: created.Time, UpdatedAt: done.Time, StartedAt: &started.Time, CompletedAt: &done.Time,
		Problem: &JobProblem{Type: "https://asyncjob.io/problems/job-failed", Title: "Job failed", Detail: "too slow",
			Code: "DEADLINE_EXCEEDED", Reason: "DeadlineExceeded", ExitCode: &exit},
		Timings: JobTimings{Queued: new(int64(60)), Running: new(int64(3540))},
		Inputs:  []JobArtifact{},
		Outputs: []JobArtifact{},
		Links:   JobLinks{Self: "/v1/jobs/id1", Cancel: "/v1/jobs/id1/cancel", Result: "/v1/jobs/id1/result", Artifacts: "/v1/jobs/id1/artifacts"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("toJob (-want +got):\n%s", diff)
	}
}

func TestStatusMapping(t *testing.T) {
	for state, want := range map[v1alpha1.AsyncJobState]Status{
		"": StatusPending, v1alpha1.StatePending: StatusPending, v1alpha1.StateRunning: StatusRunning,
		v1alpha1.StateCompleted: StatusCompleted, v1alpha1.StateFailed: StatusFailed, v1alpha1.StateCancelled: StatusCancelled,
	} {
		if got := statusOf(state); got != want {
			t.Errorf("statusOf(%q) = %s", state, got)
		}
		if back, ok := stateOf(want); !ok || (state != "" && back != state) {
			t.Errorf("stateOf(%s) = %q", want, back)
		}
	}
}

func TestUpperSnake(t *testing.T) {
	for in, want := range map[string]string{"BackoffLimitExceeded": "BACKOFF_LIMIT_EXCEEDED", "DeadlineExceeded": "DEADLINE_EXCEEDED",
		"PodFailurePolicy": "POD_FAILURE_POLICY", "OOMKilled": "OOMKILLED", "x": "X"} {
		if got := upperSnake(in); got != want {
			t.Errorf("upperSnake(%s) = %s", in, got)
		}
	}
}
