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
	"context"
	"errors"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/asyncjob/asyncjob/api/v1alpha1"
)

// maxStatusAttempts bounds the optimistic-concurrency retries of one worker
// write: each conflict means someone else (the controller, another replica)
// wrote the job in between, which happens seldom, never in a loop.
const maxStatusAttempts = 5

// workerJob reads the AsyncJob a worker callback names, from the cache only:
// a worker calls back long after its job was created, and an unauthenticated
// caller must not be able to make the API server read for it. nil: no such
// job (in the cache).
func (s *store) workerJob(ctx context.Context, ns, name string) (*v1alpha1.AsyncJob, error) {
	var aj v1alpha1.AsyncJob
	err := s.cache.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, &aj)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fromKube(err, kubeAnswers{})
	}
	return &aj, nil
}

// progressOutcome is what became of one attempt to store a progress report.
type progressOutcome int

const (
	// progressWritten: the report is the job's status.progress now.
	progressWritten progressOutcome = iota
	// progressSuperseded: a report received later is stored already.
	progressSuperseded
	// progressDeferred: a report was stored less than the interval ago (by
	// this replica or another); try again at the time returned.
	progressDeferred
	// progressJobGone: the job is gone, or its name now belongs to another job.
	progressJobGone
)

// writeProgress stores r as status.progress of the job key with the given
// UID, unless a newer report is stored (never replace a newer one) or one was
// stored less than interval ago (at most one write per interval; 0 writes
// regardless, when a replica stops). The write
// is a JSON merge patch of status.progress alone, with the resourceVersion it
// was decided on as a precondition: a concurrent write (the controller's,
// another replica's) makes it fail, and it is decided again on a fresh read,
// so two replicas never both write in one interval and the controller's
// fields are never touched. It writes even once the job is finished: the
// report was accepted while it ran.
func (s *store) writeProgress(ctx context.Context, key types.NamespacedName, uid types.UID, r progressReport, interval time.Duration) (progressOutcome, time.Time, error) {
	read := s.cache.Get // the cache first; after a conflict, the API server
	for range maxStatusAttempts {
		var aj v1alpha1.AsyncJob
		err := read(ctx, key, &aj)
		if apierrors.IsNotFound(err) {
			return progressJobGone, time.Time{}, nil
		}
		if err != nil {
			return 0, time.Time{}, fromKube(err, kubeAnswers{})
		}
		if aj.UID != uid {
			return progressJobGone, time.Time{}, nil
		}
		if p := aj.Status.Progress; p != nil && p.UpdateTime != nil {
			stored := p.UpdateTime.Time
			if !stored.Before(r.ReceivedAt) {
				return progressSuperseded, time.Time{}, nil
			}
			if next := stored.Add(interval); interval > 0 && time.Now().Before(next) {
				return progressDeferred, next, nil
			}
		}
		patch := client.MergeFromWithOptions(aj.DeepCopy(), client.MergeFromWithOptimisticLock{})
		aj.Status.Progress = r.toProgress()
		err = s.writer.Status().Patch(ctx, &aj, patch)
		switch {
		case err == nil:
			return progressWritten, time.Time{}, nil
		case apierrors.IsConflict(err):
			read = s.api.Get
			continue
		case apierrors.IsNotFound(err):
			return progressJobGone, time.Time{}, nil
		}
		return 0, time.Time{}, fromKube(err, kubeAnswers{})
	}
	return 0, time.Time{}, busy()
}

// writeResult stores result as status.result of aj (as workerAuth read it),
// replacing any result PUT before. It updates the whole status with aj's
// resourceVersion as the precondition, so nothing the controller wrote is
// overwritten (a conflict re-reads and tries again), and result is kept
// byte for byte (a merge patch would drop members whose value is null).
func (s *store) writeResult(ctx context.Context, aj *v1alpha1.AsyncJob, result []byte) error {
	uid := aj.UID
	aj = aj.DeepCopy()
	for range maxStatusAttempts {
		switch {
		case aj.UID != uid:
			return newError(problemJobGone, "job %s was deleted; its worker can no longer report", aj.Name)
		case aj.DeletionTimestamp != nil:
			return newError(problemJobGone, "job %s is being deleted; its worker can no longer report", aj.Name)
		case aj.Status.State.IsFinished():
			return newError(problemJobFinished, "job %s is already %s; its result can no longer change", aj.Name, statusOf(aj.Status.State))
		}
		aj.Status.Result = &apiextensionsv1.JSON{Raw: result}
		err := s.writer.Status().Update(ctx, aj)
		if err == nil {
			return nil
		}
		gone := newError(problemJobGone, "job %s was deleted; its worker can no longer report", aj.Name)
		if !apierrors.IsConflict(err) {
			return fromKube(err, kubeAnswers{notFound: gone})
		}
		fresh := &v1alpha1.AsyncJob{}
		if err := s.api.Get(ctx, client.ObjectKeyFromObject(aj), fresh); err != nil {
			return fromKube(err, kubeAnswers{notFound: gone})
		}
		aj = fresh
	}
	return busy()
}

// busy answers a write that lost every optimistic-concurrency race.
func busy() error {
	return newError(problemUnavailable, "the job is being written by others; retry").
		withRetryAfter(1).withCause(errors.New("optimistic concurrency retries exhausted"))
}

// progressReport is one accepted progress report and when it was received.
type progressReport struct {
	Percent    int32
	Step       string
	Message    string
	ReceivedAt time.Time
}

func (r progressReport) toProgress() *v1alpha1.Progress {
	at := metav1.NewMicroTime(r.ReceivedAt)
	return &v1alpha1.Progress{Percent: r.Percent, Step: r.Step, Message: r.Message, UpdateTime: &at}
}
