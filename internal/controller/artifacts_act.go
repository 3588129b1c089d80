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

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/log"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/internal/artifact"
)

// removeArtifacts removes every file of a deleted AsyncJob, then its
// artifacts finalizer. Both steps are idempotent: DeleteAll removes what is
// left, and the finalizer's removal is a patch under the resourceVersion it
// was read at, so that it cannot drop a finalizer someone else added since.
func (r *AsyncJobReconciler) removeArtifacts(ctx context.Context, aj *asyncjobv1alpha1.AsyncJob) (outcome, error) {
	logger := log.FromContext(ctx)
	n, err := r.Artifacts.DeleteAll(ctx, aj.Namespace, aj.Name, "")
	if err != nil {
		return outcome{StoreErr: fmt.Errorf("removing the files of the deleted AsyncJob: %w", err)}, nil
	}
	logger.Info("Removed the deleted AsyncJob's files", "files", n)
	patch := client.MergeFromWithOptions(aj.DeepCopy(), client.MergeFromWithOptimisticLock{})
	if !controllerutil.RemoveFinalizer(aj, asyncjobv1alpha1.FinalizerArtifacts) {
		return outcome{FinalizerRemoved: true}, nil
	}
	if err := r.Client.Patch(ctx, aj, patch); err != nil {
		switch {
		case apierrors.IsNotFound(err):
			return outcome{FinalizerRemoved: true}, nil
		case apierrors.IsConflict(err):
			return outcome{FinalizerConflict: true}, nil
		}
		return outcome{}, err
	}
	return outcome{FinalizerRemoved: true}, nil
}

// removeOutputs removes a cancelled AsyncJob's outputs: what the worker
// uploaded before it was stopped. Its inputs stay until it is deleted.
func (r *AsyncJobReconciler) removeOutputs(ctx context.Context, aj *asyncjobv1alpha1.AsyncJob) outcome {
	n, err := r.Artifacts.DeleteAll(ctx, aj.Namespace, aj.Name, artifact.Output)
	if err != nil {
		return outcome{StoreErr: fmt.Errorf("removing the outputs of the cancelled AsyncJob: %w", err)}
	}
	log.FromContext(ctx).Info("Removed the cancelled AsyncJob's outputs", "files", n)
	return outcome{}
}
