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
)

// PodWrapper builds a pod in the state a kubelet would report.
type PodWrapper struct{ corev1.Pod }

// MakePod is a pod with no spec and no status.
func MakePod(name, ns string) *PodWrapper {
	return &PodWrapper{corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}}
}

// MakeJobPod is a pod of job as the Job controller creates it: the Job's pod
// template, its labels, and the Job as controller.
func MakeJobPod(job *batchv1.Job, suffix string) *PodWrapper {
	w := MakePod(job.Name+"-"+suffix, job.Namespace)
	w.Labels = job.Spec.Template.Labels
	w.OwnerReferences = []metav1.OwnerReference{*metav1.NewControllerRef(job, batchv1.SchemeGroupVersion.WithKind("Job"))}
	w.Spec = *job.Spec.Template.Spec.DeepCopy()
	return w
}

// Obj returns the pod.
func (w *PodWrapper) Obj() *corev1.Pod { return &w.Pod }

// Label adds one label.
func (w *PodWrapper) Label(k, v string) *PodWrapper {
	put(&w.Labels, k, v)
	return w
}

// Phase sets status.phase and, when at is not zero, status.startTime.
func (w *PodWrapper) Phase(p corev1.PodPhase, at metav1.Time) *PodWrapper {
	w.Status.Phase = p
	if !at.IsZero() {
		w.Status.StartTime = &at
	}
	return w
}

// Running adds a running container status, started when the pod started.
func (w *PodWrapper) Running(container string) *PodWrapper {
	var started metav1.Time
	if w.Status.StartTime != nil {
		started = *w.Status.StartTime
	}
	w.Status.ContainerStatuses = append(w.Status.ContainerStatuses, corev1.ContainerStatus{
		Name: container, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: started}},
	})
	return w
}

// Terminated adds a terminated container status with its exit code and
// termination message.
func (w *PodWrapper) Terminated(container string, exitCode int32, message string, finished metav1.Time) *PodWrapper {
	w.Status.ContainerStatuses = append(w.Status.ContainerStatuses, corev1.ContainerStatus{
		Name: container,
		State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
			ExitCode: exitCode, Message: message, FinishedAt: finished,
		}},
	})
	return w
}

// ContainerStatus adds a container status as given, for states no setter covers.
func (w *PodWrapper) ContainerStatus(s corev1.ContainerStatus) *PodWrapper {
	w.Status.ContainerStatuses = append(w.Status.ContainerStatuses, s)
	return w
}

// Containers replaces the pod's containers.
func (w *PodWrapper) Containers(cs ...corev1.Container) *PodWrapper {
	w.Spec.Containers = cs
	return w
}

// Created sets metadata.creationTimestamp: attempts are ordered by it.
func (w *PodWrapper) Created(at metav1.Time) *PodWrapper {
	w.CreationTimestamp = at
	return w
}

// Condition adds a pod condition, e.g. DisruptionTarget as the eviction API,
// the scheduler or the taint manager sets it.
func (w *PodWrapper) Condition(t corev1.PodConditionType, status corev1.ConditionStatus, reason string) *PodWrapper {
	w.Status.Conditions = append(w.Status.Conditions, corev1.PodCondition{Type: t, Status: status, Reason: reason})
	return w
}

// Reason sets status.reason (DeadlineExceeded, Evicted, ...).
func (w *PodWrapper) Reason(r string) *PodWrapper {
	w.Status.Reason = r
	return w
}

// Deleting sets metadata.deletionTimestamp: the pod is being deleted.
func (w *PodWrapper) Deleting(at metav1.Time) *PodWrapper {
	w.DeletionTimestamp = &at
	return w
}
