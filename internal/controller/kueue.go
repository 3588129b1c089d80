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
	"context"
	"fmt"

	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	kueuev1beta2 "sigs.k8s.io/kueue/apis/kueue/v1beta2"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
)

// Kueue admission (spec.kueue of a type): the Job is created suspended and
// labelled with the LocalQueue; Kueue admits it by unsuspending it, and may
// suspend it again (preemption, eviction), which is not a failure: the job is
// Pending again until Kueue readmits it. Quotas, borrowing and preemption are
// Kueue's; the controller only labels and reports.

// +kubebuilder:rbac:groups=kueue.x-k8s.io,resources=workloads,verbs=list

// withKueue labels job for the type's LocalQueue and creates it suspended, so
// that no pod starts before Kueue admits it (Kueue's webhook would suspend it
// too; this does not depend on the webhook).
func withKueue(job *batchv1.Job, jobType *asyncjobv1alpha1.AsyncJobType) {
	q := jobType.Spec.Kueue
	if q == nil {
		return
	}
	job.Labels[asyncjobv1alpha1.LabelKueueQueueName] = q.LocalQueue
	job.Spec.Suspend = new(true)
}

// kueueManaged reports a Job labelled for Kueue.
func kueueManaged(job *batchv1.Job) bool {
	return job != nil && job.Labels[asyncjobv1alpha1.LabelKueueQueueName] != ""
}

// kueueEviction reads why Kueue suspended a Job that had run: the Preempted,
// else the Evicted condition of the Job's Workload (the Workload the Job
// controls). nil when there is none, or Kueue's API cannot be read: the status
// then says that Kueue suspended it, without why. Only called for a Job that
// was suspended after it started, which is rare, so it reads the API server
// directly instead of watching Workloads (which may not exist as a kind).
func kueueEviction(ctx context.Context, reader client.Reader, job *batchv1.Job) *metav1.Condition {
	list := &kueuev1beta2.WorkloadList{}
	if err := reader.List(ctx, list, client.InNamespace(job.Namespace)); err != nil {
		return nil
	}
	for i := range list.Items {
		wl := &list.Items[i]
		if !metav1.IsControlledBy(wl, job) {
			continue
		}
		for _, t := range []string{kueuev1beta2.WorkloadPreempted, kueuev1beta2.WorkloadEvicted} {
			if c := meta.FindStatusCondition(wl.Status.Conditions, t); c != nil && c.Status == metav1.ConditionTrue {
				return c.DeepCopy()
			}
		}
	}
	return nil
}

// kueueSuspended is the Running condition of a Kueue Job that is suspended:
// waiting for admission, or, when it had started (the job has a start time),
// waiting again after Kueue preempted or evicted it, saying why.
func kueueSuspended(started bool, eviction *metav1.Condition) metav1.Condition {
	if !started {
		return cond(asyncjobv1alpha1.ConditionRunning, false, asyncjobv1alpha1.ReasonWaitingForKueue, asyncjobv1alpha1.MessageWaitingForKueue)
	}
	reason, why := asyncjobv1alpha1.ReasonEvictedByKueue, "Kueue suspended the Job after it started"
	switch {
	case eviction != nil && eviction.Type == kueuev1beta2.WorkloadPreempted:
		reason, why = asyncjobv1alpha1.ReasonPreemptedByKueue, fmt.Sprintf("Kueue preempted the Job (%s: %s)", eviction.Reason, eviction.Message)
	case eviction != nil:
		why = fmt.Sprintf("Kueue evicted the Job (%s: %s)", eviction.Reason, eviction.Message)
	}
	return cond(asyncjobv1alpha1.ConditionRunning, false, reason, truncateMessage(why+"; "+asyncjobv1alpha1.MessageWaitingForKueue+" again"))
}
