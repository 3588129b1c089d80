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

package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// AttemptOutcome says how one attempt (one pod of the Job) ended.
// +kubebuilder:validation:Enum=Pending;Running;Succeeded;Failed;Disrupted;DeadlineExceeded;Cancelled;Lost
type AttemptOutcome string

const (
	AttemptPending   AttemptOutcome = "Pending"
	AttemptRunning   AttemptOutcome = "Running"
	AttemptSucceeded AttemptOutcome = "Succeeded"
	// AttemptFailed: the work failed (a non-zero exit, OOMKilled, ...): it counts towards backoffLimit.
	AttemptFailed AttemptOutcome = "Failed"
	// AttemptDisrupted: the cluster stopped the pod (eviction, preemption, a
	// tainted or lost node); it does not count towards backoffLimit.
	AttemptDisrupted AttemptOutcome = "Disrupted"
	// AttemptDeadlineExceeded: the Job's activeDeadlineSeconds ended it.
	AttemptDeadlineExceeded AttemptOutcome = "DeadlineExceeded"
	// AttemptCancelled: the AsyncJob was cancelled while the attempt ran.
	AttemptCancelled AttemptOutcome = "Cancelled"
	// AttemptLost: the pod disappeared before it was seen to end.
	AttemptLost AttemptOutcome = "Lost"
)

// MaxAttemptHistory bounds status.attemptHistory; older attempts are dropped first.
const MaxAttemptHistory = 20

// AttemptRecord is what the controller saw of one attempt. Records outlive
// their pods: an evicted pod is deleted, its record stays.
type AttemptRecord struct {
	// pod that ran the attempt.
	// +kubebuilder:validation:MaxLength=253
	// +required
	Pod string `json:"pod"`

	// outcome of the attempt so far.
	// +required
	Outcome AttemptOutcome `json:"outcome"`

	// reason details the outcome: the DisruptionTarget condition's reason
	// (EvictionByEvictionAPI, PreemptionByScheduler, DeletionByTaintManager,
	// TerminationByKubelet, DeletionByPodGC), the pod's reason (DeadlineExceeded,
	// Evicted) or the container's (Error, OOMKilled, Completed).
	// +kubebuilder:validation:MaxLength=128
	// +optional
	Reason string `json:"reason,omitempty"`

	// exitCode of the work's container, once it terminated.
	// +optional
	ExitCode *int32 `json:"exitCode,omitempty"`

	// startTime is when the pod started.
	// +optional
	StartTime *metav1.Time `json:"startTime,omitempty"`

	// finishTime is when the attempt was seen to end.
	// +optional
	FinishTime *metav1.Time `json:"finishTime,omitempty"`
}
