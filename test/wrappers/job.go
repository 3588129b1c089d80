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

package wrappers

import (
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
)

// JobWrapper builds a batch Job in the state the Job controller would leave it.
type JobWrapper struct{ batchv1.Job }

// MakeJob is an empty Job: no template, no status.
func MakeJob(name, ns string) *JobWrapper {
	return &JobWrapper{batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}}
}

// Obj returns the Job.
func (w *JobWrapper) Obj() *batchv1.Job { return &w.Job }

// Label adds one label.
func (w *JobWrapper) Label(k, v string) *JobWrapper {
	put(&w.Labels, k, v)
	return w
}

// Annotation adds one annotation.
func (w *JobWrapper) Annotation(k, v string) *JobWrapper {
	put(&w.Annotations, k, v)
	return w
}

// UID sets metadata.uid.
func (w *JobWrapper) UID(uid string) *JobWrapper {
	w.ObjectMeta.UID = types.UID(uid)
	return w
}

// ControlledBy makes the AsyncJob the Job's controller, as the asyncjob
// controller does.
func (w *JobWrapper) ControlledBy(aj *asyncjobv1alpha1.AsyncJob) *JobWrapper {
	w.OwnerReferences = append(w.OwnerReferences,
		*metav1.NewControllerRef(aj, asyncjobv1alpha1.GroupVersion.WithKind("AsyncJob")))
	return w
}

// Deleting sets a deletionTimestamp.
func (w *JobWrapper) Deleting(at metav1.Time) *JobWrapper {
	w.DeletionTimestamp = &at
	return w
}

// Suspend sets spec.suspend.
func (w *JobWrapper) Suspend() *JobWrapper {
	w.Spec.Suspend = ptr.To(true)
	return w
}

// ActiveDeadline sets spec.activeDeadlineSeconds.
func (w *JobWrapper) ActiveDeadline(seconds int64) *JobWrapper {
	w.Spec.ActiveDeadlineSeconds = ptr.To(seconds)
	return w
}

// BackoffLimit sets spec.backoffLimit.
func (w *JobWrapper) BackoffLimit(n int32) *JobWrapper {
	w.Spec.BackoffLimit = ptr.To(n)
	return w
}

// PodTemplate sets the pod template.
func (w *JobWrapper) PodTemplate(t corev1.PodTemplateSpec) *JobWrapper {
	w.Spec.Template = t
	return w
}

// Counts sets the active, succeeded and failed pod counts.
func (w *JobWrapper) Counts(active, succeeded, failed int32) *JobWrapper {
	w.Status.Active, w.Status.Succeeded, w.Status.Failed = active, succeeded, failed
	return w
}

// Started sets status.startTime.
func (w *JobWrapper) Started(at metav1.Time) *JobWrapper {
	w.Status.StartTime = &at
	return w
}

// Completed gives the Job the conditions and completion time of a Job whose
// pod succeeded.
func (w *JobWrapper) Completed(at metav1.Time) *JobWrapper {
	w.Status.CompletionTime = &at
	w.Status.Conditions = append(w.Status.Conditions, CompleteConditions(at)...)
	return w
}

// Failed gives the Job the conditions of a Job that failed for reason.
func (w *JobWrapper) Failed(reason, message string, at metav1.Time) *JobWrapper {
	w.Status.Conditions = append(w.Status.Conditions, FailedConditions(reason, message, at)...)
	return w
}

// CompleteConditions are the conditions the Job controller adds when a Job's
// pod succeeds, for tests that write a stored Job's status.
func CompleteConditions(at metav1.Time) []batchv1.JobCondition {
	return []batchv1.JobCondition{
		JobCondition(batchv1.JobSuccessCriteriaMet, "CompletionsReached", "", at),
		JobCondition(batchv1.JobComplete, "CompletionsReached", "", at),
	}
}

// FailedConditions are the conditions the Job controller adds when a Job
// fails for reason.
func FailedConditions(reason, message string, at metav1.Time) []batchv1.JobCondition {
	return []batchv1.JobCondition{
		JobCondition(batchv1.JobFailureTarget, reason, message, at),
		JobCondition(batchv1.JobFailed, reason, message, at),
	}
}

// JobCondition is a true Job condition set at.
func JobCondition(t batchv1.JobConditionType, reason, message string, at metav1.Time) batchv1.JobCondition {
	return batchv1.JobCondition{Type: t, Status: corev1.ConditionTrue, Reason: reason, Message: message,
		LastTransitionTime: at}
}
