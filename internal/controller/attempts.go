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
	"slices"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
)

// disruptionRule makes the Job controller retry a pod the cluster disrupted
// (evicted, preempted, deleted with its node, stopped by the kubelet) without
// counting it towards backoffLimit: the DisruptionTarget condition is set on
// exactly those pods. It goes first, so the type's own rules judge the rest.
var disruptionRule = batchv1.PodFailurePolicyRule{
	Action: batchv1.PodFailurePolicyActionIgnore,
	OnPodConditions: []batchv1.PodFailurePolicyOnPodConditionsPattern{{
		Type:   corev1.DisruptionTarget,
		Status: corev1.ConditionTrue,
	}},
}

// withDisruptionRule returns the pod failure policy of a Job: the type's, with
// disruptionRule in front unless the type already says what a disruption does.
func withDisruptionRule(p *batchv1.PodFailurePolicy) *batchv1.PodFailurePolicy {
	if p == nil {
		return &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{disruptionRule}}
	}
	for _, r := range p.Rules {
		for _, c := range r.OnPodConditions {
			if c.Type == corev1.DisruptionTarget {
				return p
			}
		}
	}
	out := p.DeepCopy()
	out.Rules = append([]batchv1.PodFailurePolicyRule{disruptionRule}, out.Rules...)
	return out
}

// attemptHistory merges what the pods show into the attempts already recorded.
// It is pure. A pod's own status is the truth while the pod exists; a record
// whose pod is gone keeps its last outcome, or, if it had not ended, gets the
// most likely reason: the cancellation, the Job's deadline, or Lost.
func attemptHistory(prev []asyncjobv1alpha1.AttemptRecord, obs observation, now metav1.Time) []asyncjobv1alpha1.AttemptRecord {
	out := slices.Clone(prev)
	index := make(map[string]int, len(out))
	for i := range out {
		index[out[i].Pod] = i
	}
	pods := slices.Clone(obs.Pods)
	slices.SortFunc(pods, func(a, b corev1.Pod) int {
		if c := a.CreationTimestamp.Compare(b.CreationTimestamp.Time); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	seen := make(map[string]bool, len(pods))
	for i := range pods {
		pod := &pods[i]
		seen[pod.Name] = true
		var known *asyncjobv1alpha1.AttemptRecord
		if j, ok := index[pod.Name]; ok {
			known = &out[j]
		}
		rec := podAttempt(pod, obs.ResultContainer, known, now)
		if pod.DeletionTimestamp != nil && (!attemptEnded(rec.Outcome) || rec.Outcome == asyncjobv1alpha1.AttemptFailed) {
			// A pod being deleted by the Job controller or the cancellation
			// ended for that reason, whatever its container did on SIGTERM.
			if o, reason := stoppedBy(obs); o != "" {
				rec.Outcome, rec.Reason = o, reason
				if rec.FinishTime == nil {
					rec.FinishTime = &now
				}
			}
		}
		if known != nil {
			*known = rec
			continue
		}
		index[pod.Name] = len(out)
		out = append(out, rec)
	}
	for i := range out {
		r := &out[i]
		if seen[r.Pod] || attemptEnded(r.Outcome) {
			continue
		}
		r.Outcome, r.Reason = vanished(obs)
		r.FinishTime = &now
	}
	if extra := len(out) - asyncjobv1alpha1.MaxAttemptHistory; extra > 0 {
		out = out[extra:]
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// podAttempt is the record of one observed pod.
func podAttempt(pod *corev1.Pod, container string, known *asyncjobv1alpha1.AttemptRecord, now metav1.Time) asyncjobv1alpha1.AttemptRecord {
	rec := asyncjobv1alpha1.AttemptRecord{Pod: pod.Name, StartTime: pod.Status.StartTime.DeepCopy()}
	if known != nil {
		rec.FinishTime = known.FinishTime
		if rec.StartTime == nil {
			rec.StartTime = known.StartTime
		}
	}
	term := workTermination(pod, container)
	if term != nil {
		rec.ExitCode = new(term.ExitCode)
	}
	disruption := podCondition(pod, corev1.DisruptionTarget)
	switch {
	case disruption != nil && disruption.Status == corev1.ConditionTrue && pod.Status.Phase != corev1.PodSucceeded:
		rec.Outcome, rec.Reason = asyncjobv1alpha1.AttemptDisrupted, disruption.Reason
	case pod.Status.Phase == corev1.PodSucceeded:
		rec.Outcome = asyncjobv1alpha1.AttemptSucceeded
	case pod.Status.Phase == corev1.PodFailed && pod.Status.Reason == "DeadlineExceeded":
		rec.Outcome, rec.Reason = asyncjobv1alpha1.AttemptDeadlineExceeded, pod.Status.Reason
	case pod.Status.Phase == corev1.PodFailed:
		rec.Outcome, rec.Reason = asyncjobv1alpha1.AttemptFailed, pod.Status.Reason
		if term != nil && term.Reason != "" {
			rec.Reason = term.Reason
		}
	case pod.Status.Phase == corev1.PodRunning:
		rec.Outcome = asyncjobv1alpha1.AttemptRunning
	default:
		rec.Outcome = asyncjobv1alpha1.AttemptPending
	}
	if len(rec.Reason) > 128 {
		rec.Reason = rec.Reason[:128]
	}
	switch {
	case !attemptEnded(rec.Outcome):
		rec.FinishTime = nil
	case rec.FinishTime != nil:
	case term != nil && !term.FinishedAt.IsZero():
		rec.FinishTime = term.FinishedAt.DeepCopy()
	default:
		rec.FinishTime = &now
	}
	return rec
}

// vanished explains an attempt whose pod disappeared before it was seen to end.
func vanished(obs observation) (asyncjobv1alpha1.AttemptOutcome, string) {
	if o, reason := stoppedBy(obs); o != "" {
		return o, reason
	}
	return asyncjobv1alpha1.AttemptLost, "PodDeleted"
}

// stoppedBy names what stops a job's pods on purpose: its cancellation, or the
// Job's deadline; "" when neither.
func stoppedBy(obs observation) (asyncjobv1alpha1.AttemptOutcome, string) {
	switch {
	case obs.CancelRequested:
		return asyncjobv1alpha1.AttemptCancelled, ""
	case obs.Job != nil:
		if c := jobCondition(obs.Job, batchv1.JobFailed); c != nil && c.Reason == batchv1.JobReasonDeadlineExceeded {
			return asyncjobv1alpha1.AttemptDeadlineExceeded, c.Reason
		}
		if kueueManaged(obs.Job) && isSuspended(obs.Job) {
			// Kueue took the slot back (preemption, eviction): the Job
			// controller deletes the pods of a suspended Job.
			if obs.KueueEviction != nil {
				return asyncjobv1alpha1.AttemptDisrupted, obs.KueueEviction.Reason
			}
			return asyncjobv1alpha1.AttemptDisrupted, "SuspendedByKueue"
		}
	}
	return "", ""
}

func attemptEnded(o asyncjobv1alpha1.AttemptOutcome) bool {
	return o != asyncjobv1alpha1.AttemptPending && o != asyncjobv1alpha1.AttemptRunning
}

// workTermination is the work's container termination: the result container's,
// else the first non-zero one (an init container failing fails the pod too).
func workTermination(pod *corev1.Pod, container string) *corev1.ContainerStateTerminated {
	if t := terminated(pod, container); t != nil {
		return t
	}
	for _, cs := range append(slices.Clone(pod.Status.InitContainerStatuses), pod.Status.ContainerStatuses...) {
		if t := cs.State.Terminated; t != nil && t.ExitCode != 0 {
			return t
		}
	}
	return nil
}

func podCondition(pod *corev1.Pod, t corev1.PodConditionType) *corev1.PodCondition {
	for i := range pod.Status.Conditions {
		if pod.Status.Conditions[i].Type == t {
			return &pod.Status.Conditions[i]
		}
	}
	return nil
}
