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
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
)

// maxResultBytes caps the result taken from a termination message; the kubelet
// already caps the message at 4 KiB, this guards against other runtimes.
const maxResultBytes = 4096

// observation is what deriveStatus derives an AsyncJob's status from: what one
// pass observed, and what decide made of it.
type observation struct {
	Generation int64
	// Accepted is the Accepted condition: whether the type exists, is ready, and
	// the spec is valid for it.
	Accepted metav1.Condition
	// Rejected is set when the AsyncJob can never run (its spec is immutable).
	Rejected *asyncjobv1alpha1.Failure
	// Job is the AsyncJob's own Job; nil when there is none.
	Job *batchv1.Job
	// JobLost is true when the AsyncJob had a Job, the API server confirms it is
	// gone, and nobody asked for that.
	JobLost bool
	// Pods are the pods of Job.
	Pods []corev1.Pod
	// CancelRequested mirrors spec.cancel.
	CancelRequested bool
	// TTL is how long a finished AsyncJob is kept when it has no recorded
	// limits (it never had a Job, or its Job predates the TTL annotation):
	// from its type as it is now, else the default.
	TTL time.Duration
	// ResultContainer is the container whose termination message is the result.
	ResultContainer string
	// PodsLagging is true when the Job reports completion but the pods that
	// prove it (and carry the result) are not observed yet: the Job and pod
	// informers deliver independently.
	PodsLagging bool
	// KueueEviction says why Kueue suspended the Job after it started.
	KueueEviction *metav1.Condition
	// Deleting is true for an AsyncJob being deleted: only ArtifactsRemoved
	// changes.
	Deleting bool
	// ArtifactsRemoved, when set, is the ArtifactsRemoved condition this
	// pass sets: the store removed the files, failed, or is not configured.
	ArtifactsRemoved *metav1.Condition
	// OutputsRemoved is true when this pass removed the outputs from the
	// store (a cancellation): their records go too.
	OutputsRemoved bool
}

// deriveStatus computes an AsyncJob's status from what was observed. It is pure.
// The previous status only contributes what cannot be observed again: the
// worker's progress, first-seen timestamps, and a terminal state once the Job
// that proved it is gone.
func deriveStatus(prev asyncjobv1alpha1.AsyncJobStatus, obs observation, now metav1.Time) asyncjobv1alpha1.AsyncJobStatus {
	s := *prev.DeepCopy()
	s.ObservedGeneration = obs.Generation
	// status.outputs is the REST API's record of the worker's uploads: kept
	// as it is unless this pass removed the files themselves.
	if obs.OutputsRemoved {
		s.Outputs = nil
	}
	if obs.ArtifactsRemoved != nil {
		setCondition(&s, *obs.ArtifactsRemoved, obs.Generation, now)
	}
	if obs.Deleting {
		return s
	}

	if prev.State.IsFinished() && obs.Job == nil {
		return s // the evidence is gone (cancelled, or the Job was removed later)
	}
	s.AttemptHistory = attemptHistory(prev.AttemptHistory, obs, now)
	if obs.Job != nil {
		s.JobName = obs.Job.Name
		// Disrupted pods are not in the Job's failed count: count the records too.
		s.Attempts = max(attempts(obs.Job), int32(len(s.AttemptHistory)), prev.Attempts)
		if s.Limits == nil {
			// Recorded once, from the Job: from then on the limits are the
			// AsyncJob's own, whatever happens to its type.
			s.Limits = appliedLimits(obs.Job)
		}
	}
	s.Queue = queueStatus(prev.Queue, obs)
	setCondition(&s, obs.Accepted, obs.Generation, now)

	switch {
	case obs.Rejected != nil:
		finish(&s, asyncjobv1alpha1.StateFailed, now, obs)
		s.Failure = obs.Rejected
		setCondition(&s, cond(asyncjobv1alpha1.ConditionFailed, true, obs.Rejected.Reason, obs.Rejected.Message), obs.Generation, now)

	case obs.Job != nil && jobCondition(obs.Job, batchv1.JobComplete) != nil && !obs.PodsLagging:
		s.StartTime = firstStart(s.StartTime, obs.Pods, obs.Job)
		finish(&s, asyncjobv1alpha1.StateCompleted, completionTime(obs.Job, now), obs)
		if r := result(obs.Pods, obs.ResultContainer); r != nil {
			s.Result = r
		} // else keep the one the worker PUT to the result callback, if any
		s.Failure = nil
		setCondition(&s, cond(asyncjobv1alpha1.ConditionComplete, true, asyncjobv1alpha1.ReasonJobComplete, "the Job completed"), obs.Generation, now)

	case obs.Job != nil && jobCondition(obs.Job, batchv1.JobFailed) != nil:
		c := jobCondition(obs.Job, batchv1.JobFailed)
		s.StartTime = firstStart(s.StartTime, obs.Pods, obs.Job)
		failedAt := c.LastTransitionTime
		if failedAt.IsZero() {
			failedAt = now
		}
		finish(&s, asyncjobv1alpha1.StateFailed, failedAt, obs)
		s.Failure = jobFailure(c, obs.Pods)
		setCondition(&s, cond(asyncjobv1alpha1.ConditionFailed, true, s.Failure.Reason, s.Failure.Message), obs.Generation, now)

	case obs.CancelRequested && obs.Job == nil:
		finish(&s, asyncjobv1alpha1.StateCancelled, now, obs)
		setCondition(&s, cond(asyncjobv1alpha1.ConditionCancelled, true, asyncjobv1alpha1.ReasonCancelled, "the Job and its pods are gone"), obs.Generation, now)

	case obs.JobLost:
		s.Failure = &asyncjobv1alpha1.Failure{Reason: asyncjobv1alpha1.ReasonJobLost, Message: "the Job was deleted by someone other than asyncjob"}
		finish(&s, asyncjobv1alpha1.StateFailed, now, obs)
		setCondition(&s, cond(asyncjobv1alpha1.ConditionFailed, true, s.Failure.Reason, s.Failure.Message), obs.Generation, now)

	default: // not finished: Pending or Running
		s.State = asyncjobv1alpha1.StatePending
		running := cond(asyncjobv1alpha1.ConditionRunning, false, asyncjobv1alpha1.ReasonWaiting, "no pod of the Job is running yet")
		if obs.Job != nil {
			if anyPodRunning(obs.Pods) || (prev.StartTime != nil && !isSuspended(obs.Job)) {
				// Once started, a job between retries is still Running.
				s.State = asyncjobv1alpha1.StateRunning
				s.StartTime = firstStart(s.StartTime, obs.Pods, obs.Job)
				running = cond(asyncjobv1alpha1.ConditionRunning, true, asyncjobv1alpha1.ReasonPodRunning, "a pod of the Job is running")
			} else if isSuspended(obs.Job) && queuedByConcurrency(obs.Job) {
				running = cond(asyncjobv1alpha1.ConditionRunning, false, asyncjobv1alpha1.ReasonQueued, queuedMessage)
			} else if isSuspended(obs.Job) && kueueManaged(obs.Job) {
				running = kueueSuspended(prev.StartTime != nil, obs.KueueEviction)
			} else if isSuspended(obs.Job) {
				running = cond(asyncjobv1alpha1.ConditionRunning, false, asyncjobv1alpha1.ReasonSuspended, "the Job is suspended")
			}
		}
		setCondition(&s, running, obs.Generation, now)
		if obs.CancelRequested {
			setCondition(&s, cond(asyncjobv1alpha1.ConditionCancelled, false, asyncjobv1alpha1.ReasonStopping, "waiting for the Job and its pods to be deleted"), obs.Generation, now)
		}
	}
	return s
}

// finish records a terminal state.
func finish(s *asyncjobv1alpha1.AsyncJobStatus, state asyncjobv1alpha1.AsyncJobState, at metav1.Time, obs observation) {
	s.State = state
	if s.CompletionTime == nil {
		s.CompletionTime = &at
	}
	ttl := obs.TTL
	if s.Limits != nil && s.Limits.TTLSecondsAfterFinished != nil {
		ttl = time.Duration(*s.Limits.TTLSecondsAfterFinished) * time.Second
	}
	expire := metav1.NewTime(s.CompletionTime.Add(ttl))
	s.ExpireTime = &expire
	setCondition(s, cond(asyncjobv1alpha1.ConditionRunning, false, asyncjobv1alpha1.ReasonFinished, "the AsyncJob finished"), obs.Generation, at)
}

func cond(t string, status bool, reason, message string) metav1.Condition {
	c := metav1.Condition{Type: t, Status: metav1.ConditionFalse, Reason: reason, Message: message}
	if status {
		c.Status = metav1.ConditionTrue
	}
	return c
}

// setCondition sets a condition; meta.SetStatusCondition keeps lastTransitionTime
// unless the status really changes.
func setCondition(s *asyncjobv1alpha1.AsyncJobStatus, c metav1.Condition, generation int64, now metav1.Time) {
	if c.Type == "" {
		return
	}
	c.ObservedGeneration = generation
	c.LastTransitionTime = now
	meta.SetStatusCondition(&s.Conditions, c)
}

func jobCondition(job *batchv1.Job, t batchv1.JobConditionType) *batchv1.JobCondition {
	for i := range job.Status.Conditions {
		if c := &job.Status.Conditions[i]; c.Type == t && c.Status == corev1.ConditionTrue {
			return c
		}
	}
	return nil
}

func isSuspended(job *batchv1.Job) bool {
	return job.Spec.Suspend != nil && *job.Spec.Suspend
}

// attempts counts the pods the Job has started: each retry is a new pod.
func attempts(job *batchv1.Job) int32 {
	return job.Status.Active + job.Status.Succeeded + job.Status.Failed
}

func anyPodRunning(pods []corev1.Pod) bool {
	for i := range pods {
		if pods[i].Status.Phase == corev1.PodRunning {
			return true
		}
	}
	return false
}

// firstStart keeps a known start time, else takes the earliest pod start, else
// the Job's start time.
func firstStart(known *metav1.Time, pods []corev1.Pod, job *batchv1.Job) *metav1.Time {
	if known != nil {
		return known
	}
	var first *metav1.Time
	for i := range pods {
		if t := pods[i].Status.StartTime; t != nil && (first == nil || t.Before(first)) {
			first = t.DeepCopy()
		}
	}
	if first == nil && job.Status.StartTime != nil {
		first = job.Status.StartTime.DeepCopy()
	}
	return first
}

func completionTime(job *batchv1.Job, now metav1.Time) metav1.Time {
	if job.Status.CompletionTime != nil {
		return *job.Status.CompletionTime
	}
	return now
}

// result reads the succeeded pod's termination message. JSON becomes the result
// as is; anything else is kept as a JSON string, never dropped.
func result(pods []corev1.Pod, container string) *apiextensionsv1.JSON {
	for i := range pods {
		if pods[i].Status.Phase != corev1.PodSucceeded {
			continue
		}
		if t := terminated(&pods[i], container); t != nil && t.Message != "" {
			msg := t.Message
			if len(msg) > maxResultBytes {
				msg = msg[:maxResultBytes]
			}
			if json.Valid([]byte(msg)) {
				return &apiextensionsv1.JSON{Raw: []byte(msg)}
			}
			raw, _ := json.Marshal(msg)
			return &apiextensionsv1.JSON{Raw: raw}
		}
	}
	return nil
}

// jobFailure explains a failed Job: its reason, and the most recent failed
// container's termination message or exit code.
func jobFailure(c *batchv1.JobCondition, pods []corev1.Pod) *asyncjobv1alpha1.Failure {
	f := &asyncjobv1alpha1.Failure{Reason: c.Reason, Message: c.Message}
	if f.Reason == "" {
		f.Reason = asyncjobv1alpha1.ReasonJobFailed
	}
	var latest *corev1.ContainerStateTerminated
	for i := range pods {
		// An init container that fails fails the pod just as well.
		statuses := append(slices.Clone(pods[i].Status.InitContainerStatuses), pods[i].Status.ContainerStatuses...)
		for _, cs := range statuses {
			t := cs.State.Terminated
			if t == nil || t.ExitCode == 0 {
				continue
			}
			if latest == nil || latest.FinishedAt.Before(&t.FinishedAt) {
				latest = t
			}
		}
	}
	if latest != nil {
		f.ExitCode = new(latest.ExitCode)
		exited := fmt.Sprintf("the container exited with code %d", latest.ExitCode)
		switch {
		case latest.Message != "":
			f.Message = truncateTerminationMessage(latest.Message)
		case f.Message == "":
			f.Message = exited
		default: // keep the Job's explanation, and say what the container did
			f.Message = truncateMessage(f.Message + "; " + exited)
		}
	}
	return f
}

func terminated(pod *corev1.Pod, container string) *corev1.ContainerStateTerminated {
	for _, cs := range pod.Status.ContainerStatuses {
		if cs.Name == container && cs.State.Terminated != nil {
			return cs.State.Terminated
		}
	}
	return nil
}

// maxMessageBytes bounds messages copied into conditions, failures and events.
const maxMessageBytes = 1024

// maxHeadLineBytes is the longest first line truncateTerminationMessage keeps.
const maxHeadLineBytes = 256

// ellipsis marks where a message was cut.
const ellipsis = "…"

// truncateMessage keeps the start of a message, at most maxMessageBytes,
// never cutting a UTF-8 character.
func truncateMessage(s string) string {
	if len(s) <= maxMessageBytes {
		return s
	}
	return s[:runeStart(s, maxMessageBytes)]
}

// truncateTerminationMessage keeps at most maxMessageBytes of a failed
// container's termination message: its first line (how it ended, in the
// entrypoint's format) when that is short, then its end, where the newest
// lines of stderr are, never cutting a UTF-8 character. An ellipsis marks
// what was left out.
func truncateTerminationMessage(s string) string {
	if len(s) <= maxMessageBytes {
		return s
	}
	head := ""
	if i := strings.IndexByte(s, '\n'); i >= 0 && i <= maxHeadLineBytes {
		head = s[:i+1]
	}
	budget := maxMessageBytes - len(head) - len(ellipsis)
	return head + ellipsis + s[nextRuneStart(s, len(s)-budget):]
}

// runeStart is the largest index <= i at which a UTF-8 character starts, so
// s[:runeStart(s, i)] ends with a whole character. Invalid bytes count as
// characters; only the continuation bytes of one character are skipped.
func runeStart(s string, i int) int {
	if i >= len(s) {
		return len(s)
	}
	for j := i; j >= 0 && j > i-utf8.UTFMax; j-- {
		if utf8.RuneStart(s[j]) {
			return j
		}
	}
	return i
}

// nextRuneStart is the smallest index >= i at which a UTF-8 character starts,
// so s[nextRuneStart(s, i):] starts with a whole character.
func nextRuneStart(s string, i int) int {
	for j := i; j < len(s) && j < i+utf8.UTFMax; j++ {
		if utf8.RuneStart(s[j]) {
			return j
		}
	}
	return min(i, len(s))
}
