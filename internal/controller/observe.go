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

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/internal/paramschema"
)

// world is what one pass observed of an AsyncJob and everything it depends on:
// a plain value, the only input of decide.
type world struct {
	AsyncJob *asyncjobv1alpha1.AsyncJob
	// Type is the AsyncJob's type; nil when it does not exist.
	Type *asyncjobv1alpha1.AsyncJobType
	// Schema is the type's compiled parametersSchema, or SchemaErr says why it
	// does not compile; both unset without a Type.
	Schema    *paramschema.Schema
	SchemaErr error
	// Job is the AsyncJob's own Job; nil when there is none.
	Job *batchv1.Job
	// ForeignJob is true when a Job with the AsyncJob's Job name exists that the
	// AsyncJob does not control.
	ForeignJob bool
	// Pods are the pods of Job.
	Pods []corev1.Pod
	// KueueEviction is the Workload condition saying why Kueue suspended a
	// Job that had started (kueueEviction); nil otherwise or when unknown.
	KueueEviction *metav1.Condition
	// ArtifactStore is true when the controller has an artifact store to
	// remove a job's files from (--artifact-store-url).
	ArtifactStore bool
}

// observe reads the AsyncJob, its Job and that Job's pods, and its type. It
// returns nil when the AsyncJob does not exist. It changes nothing.
func (r *AsyncJobReconciler) observe(ctx context.Context, key types.NamespacedName) (*world, error) {
	aj := &asyncjobv1alpha1.AsyncJob{}
	if err := r.Client.Get(ctx, key, aj); err != nil {
		return nil, client.IgnoreNotFound(err)
	}
	w := &world{AsyncJob: aj, ArtifactStore: r.Artifacts != nil}
	if !aj.DeletionTimestamp.IsZero() {
		if hasArtifactsFinalizer(aj) {
			// Its files are removed once its Job, whose worker may still
			// upload, is gone.
			var err error
			if w.Job, w.ForeignJob, err = r.ownedJob(ctx, aj); err != nil {
				return nil, err
			}
		}
		return w, nil // nothing else can change what happens to it
	}

	job, foreign, err := r.ownedJob(ctx, aj)
	if err != nil {
		return nil, err
	}
	w.Job, w.ForeignJob = job, foreign
	if job != nil {
		pods := &corev1.PodList{}
		if err := r.Client.List(ctx, pods, client.InNamespace(aj.Namespace), client.MatchingLabels{asyncjobv1alpha1.LabelName: aj.Name}); err != nil {
			return nil, err
		}
		w.Pods = pods.Items
		if kueueManaged(job) && isSuspended(job) && aj.Status.StartTime != nil {
			w.KueueEviction = kueueEviction(ctx, r.APIReader, job)
		}
	}

	jobType := &asyncjobv1alpha1.AsyncJobType{}
	if err := r.Client.Get(ctx, types.NamespacedName{Name: aj.Spec.Type}, jobType); err != nil {
		if !apierrors.IsNotFound(err) {
			return nil, err
		}
		return w, nil
	}
	w.Type = jobType
	w.Schema, w.SchemaErr = r.Schemas.ForType(jobType) // cached per generation
	return w, nil
}

// ownedJob returns the AsyncJob's Job. foreign is true when a Job with that name
// exists but is not controlled by this AsyncJob: it is never adopted or changed.
// A cache miss is confirmed against the API server, so a stale cache can neither
// cause a second create nor a false "lost".
func (r *AsyncJobReconciler) ownedJob(ctx context.Context, aj *asyncjobv1alpha1.AsyncJob) (job *batchv1.Job, foreign bool, err error) {
	key := types.NamespacedName{Namespace: aj.Namespace, Name: jobName(aj)}
	job = &batchv1.Job{}
	err = r.Client.Get(ctx, key, job)
	if apierrors.IsNotFound(err) {
		// The cache only holds Jobs labelled as ours; a foreign Job is only
		// visible to a direct read.
		err = r.APIReader.Get(ctx, key, job)
	}
	if apierrors.IsNotFound(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	if !metav1.IsControlledBy(job, aj) {
		return nil, true, nil
	}
	return job, false, nil
}
