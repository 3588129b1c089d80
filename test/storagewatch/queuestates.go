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

package storagewatch

import (
	"bytes"
	"slices"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
)

// QueueState is one change of a built-in-queue Job (one with the annotation
// asyncjob.io/queue) as etcd wrote it: its creation, and each write that
// flipped spec.suspend, finished it (a Complete or Failed condition) or
// deleted it. Rev orders the changes of every Job on one timeline.
type QueueState struct {
	Rev       int64
	Job       types.UID
	Owner     types.UID // the controlling AsyncJob's UID, if any
	Type      string    // the asyncjob.io/type label
	Created   bool      // this write created the Job
	Suspended bool
	Finished  bool
	Deleted   bool
}

// queueMarker is looked for in a stored Job's bytes before decoding a write
// that is not a creation: only queued Jobs' later writes are decoded.
var queueMarker = []byte(asyncjobv1alpha1.AnnotationQueue)

// queueTracker keeps the last state of each queued Job, by etcd key, and the
// changes seen so far.
type queueTracker struct {
	last    map[string]QueueState
	changes []QueueState
}

// put records a write of key at rev if it changed what the queue counts.
func (q *queueTracker) put(key string, rev int64, created bool, job *batchv1.Job) {
	if _, queued := job.Annotations[asyncjobv1alpha1.AnnotationQueue]; !queued {
		return
	}
	s := QueueState{Rev: rev, Job: job.UID, Type: job.Labels[asyncjobv1alpha1.LabelType], Created: created,
		Suspended: job.Spec.Suspend != nil && *job.Spec.Suspend, Finished: jobFinished(job)}
	if owner := metav1.GetControllerOf(job); owner != nil {
		s.Owner = owner.UID
	}
	prev, known := q.last[key]
	q.last[key] = s
	if known && !created && prev.Job == s.Job && prev.Suspended == s.Suspended && prev.Finished == s.Finished {
		return
	}
	q.changes = append(q.changes, s)
}

// remove records the deletion of key at rev, if it was a queued Job.
func (q *queueTracker) remove(key string, rev int64) {
	prev, known := q.last[key]
	if !known {
		return
	}
	delete(q.last, key)
	prev.Rev, prev.Created, prev.Deleted = rev, false, true
	q.changes = append(q.changes, prev)
}

// mayBeQueued says whether a stored Job could carry the queue annotation,
// without decoding it.
func mayBeQueued(value []byte) bool { return bytes.Contains(value, queueMarker) }

func jobFinished(job *batchv1.Job) bool {
	for _, c := range job.Status.Conditions {
		if (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}

// QueueStates returns every change of a queued Job seen since Start, in
// revision order.
func (j *JobCreations) QueueStates() []QueueState {
	j.mu.Lock()
	defer j.mu.Unlock()
	return slices.Clone(j.queue.changes)
}
