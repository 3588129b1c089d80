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
	"strings"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
)

func statusEqual(a, b asyncjobv1alpha1.AsyncJobStatus) bool {
	return equality.Semantic.DeepEqual(a, b)
}

// recordTransitions emits Events and updates metrics for what changed between
// two written statuses. Both are derived from the status diff, so a restarted
// controller neither repeats nor misses one.
func recordTransitions(rec eventRecorder, aj *asyncjobv1alpha1.AsyncJob, old, cur asyncjobv1alpha1.AsyncJobStatus) {
	jobType := aj.Spec.Type
	if old.JobName == "" && cur.JobName != "" {
		jobsCreated.WithLabelValues(jobType).Inc()
		rec.Normal(aj, asyncjobv1alpha1.ReasonJobCreated, "Create", fmt.Sprintf("created Job %s", cur.JobName))
	}
	if oc, nc := meta.FindStatusCondition(old.Conditions, asyncjobv1alpha1.ConditionAccepted),
		meta.FindStatusCondition(cur.Conditions, asyncjobv1alpha1.ConditionAccepted); nc != nil &&
		nc.Status != "True" && (oc == nil || oc.Reason != nc.Reason) {
		rec.Warning(aj, nc.Reason, "Accept", nc.Message)
	}
	if old.StartTime == nil && cur.StartTime != nil {
		timeToStart.WithLabelValues(jobType).Observe(cur.StartTime.Sub(aj.CreationTimestamp.Time).Seconds())
	}
	if c := meta.FindStatusCondition(cur.Conditions, asyncjobv1alpha1.ConditionCancelled); c != nil && c.Reason == asyncjobv1alpha1.ReasonStopping {
		if oc := meta.FindStatusCondition(old.Conditions, asyncjobv1alpha1.ConditionCancelled); oc == nil {
			rec.Normal(aj, asyncjobv1alpha1.ReasonStopping, "Cancel", "deleting the Job and its pods (foreground)")
		}
	}
	if oc, nc := meta.FindStatusCondition(old.Conditions, asyncjobv1alpha1.ConditionArtifactsRemoved),
		meta.FindStatusCondition(cur.Conditions, asyncjobv1alpha1.ConditionArtifactsRemoved); nc != nil &&
		nc.Status != "True" && (oc == nil || oc.Reason != nc.Reason) {
		rec.Warning(aj, nc.Reason, "RemoveArtifacts", nc.Message)
	}
	if old.State == cur.State {
		return
	}
	state := string(cur.State)
	switch cur.State {
	case asyncjobv1alpha1.StateRunning:
		rec.Normal(aj, state, "Run", "a pod of the Job is running")
	case asyncjobv1alpha1.StateCompleted:
		rec.Normal(aj, state, "Complete", "the Job completed")
	case asyncjobv1alpha1.StateCancelled:
		rec.Normal(aj, state, "Cancel", "the Job and its pods are gone")
	case asyncjobv1alpha1.StateFailed:
		msg := "the AsyncJob failed"
		if cur.Failure != nil {
			msg = strings.TrimSpace(cur.Failure.Reason + ": " + cur.Failure.Message)
		}
		rec.Warning(aj, state, "Fail", truncateMessage(msg))
	}
	if cur.State.IsFinished() {
		jobsFinished.WithLabelValues(jobType, strings.ToLower(state)).Inc()
		if cur.StartTime != nil && cur.CompletionTime != nil {
			runDuration.WithLabelValues(jobType, strings.ToLower(state)).Observe(cur.CompletionTime.Sub(cur.StartTime.Time).Seconds())
		}
	}
}
