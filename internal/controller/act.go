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

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
)

// act performs a decision's action. Each is idempotent, so a pass repeated after
// a crash or a conflict does no harm: the Job's name is fixed (a second create
// is AlreadyExists), and deletes carry the UID they were decided for as a
// precondition and tolerate an object already gone.
func (r *AsyncJobReconciler) act(ctx context.Context, aj *asyncjobv1alpha1.AsyncJob, a action) (outcome, error) {
	logger := log.FromContext(ctx)
	switch a.Kind {
	case actNone, actWait:
		return outcome{}, nil

	case actCreateJob:
		if a.Secret != nil {
			ours, err := r.createWorkerSecret(ctx, aj, a.Secret)
			if err != nil {
				return outcome{}, err
			}
			if !ours {
				logger.Info("Not creating the Job: its worker Secret's name is taken", "secret", client.ObjectKeyFromObject(a.Secret))
				return outcome{SecretConflict: true}, nil
			}
		}
		if err := r.Client.Create(ctx, a.Job); err != nil {
			if apierrors.IsAlreadyExists(err) {
				return outcome{AlreadyExists: true}, nil
			}
			return outcome{}, err
		}
		logger.Info("Created Job", "job", client.ObjectKeyFromObject(a.Job))
		return outcome{Created: a.Job}, nil

	case actDeleteJob:
		logger.V(1).Info("Cancelling: deleting the Job in the foreground", "job", client.ObjectKeyFromObject(a.Job))
		err := r.Client.Delete(ctx, a.Job, client.PropagationPolicy(metav1.DeletePropagationForeground),
			client.Preconditions{UID: &a.Job.UID})
		if client.IgnoreNotFound(err) != nil && !apierrors.IsConflict(err) {
			return outcome{}, err
		}
		return outcome{}, nil

	case actExpire:
		// The tombstone first: a job the API cannot find must already answer
		// 410. If it cannot be written, nothing is deleted; the pass is retried.
		if err := r.recordTombstone(ctx, aj); err != nil {
			return outcome{}, fmt.Errorf("recording the tombstone of the expired AsyncJob: %w", err)
		}
		// Foreground, so that its Job and pods go first.
		logger.Info("Deleting finished AsyncJob after its TTL", "expireTime", aj.Status.ExpireTime)
		r.Recorder.Normal(aj, asyncjobv1alpha1.ReasonExpired, "Delete", "deleting the finished AsyncJob: its TTL has passed")
		err := r.Client.Delete(ctx, aj, client.PropagationPolicy(metav1.DeletePropagationForeground), client.Preconditions{UID: &aj.UID})
		return outcome{}, client.IgnoreNotFound(err)

	case actRemoveArtifacts:
		return r.removeArtifacts(ctx, aj)

	case actRemoveOutputs:
		return r.removeOutputs(ctx, aj), nil
	}
	return outcome{}, fmt.Errorf("unknown action %q", a.Kind)
}

// createWorkerSecret creates the worker's token Secret, or finds it there from
// an earlier pass: its content is deterministic, so one the AsyncJob controls
// is the one it would create. ours is false when the name is taken by a Secret
// it does not control, which is never mounted into its pod. Secrets are read
// from the API server, never cached: the controller does not watch Secrets.
func (r *AsyncJobReconciler) createWorkerSecret(ctx context.Context, aj *asyncjobv1alpha1.AsyncJob, secret *corev1.Secret) (ours bool, err error) {
	err = r.Client.Create(ctx, secret.DeepCopy())
	if err == nil {
		log.FromContext(ctx).V(1).Info("Created the worker Secret", "secret", client.ObjectKeyFromObject(secret))
		return true, nil
	}
	if !apierrors.IsAlreadyExists(err) {
		return false, err
	}
	existing := &corev1.Secret{}
	if err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(secret), existing); err != nil {
		// Gone again (its AsyncJob's predecessor being collected?): the next pass creates it.
		return false, err
	}
	return metav1.IsControlledBy(existing, aj), nil
}
