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
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
)

// What the ArtifactsRemoved condition says. No store error text: it is in
// the controller's log.
const (
	msgStoreUnavailableDelete = "the artifact store is unavailable: the AsyncJob is deleted once its files are removed, which the controller retries"
	msgStoreUnavailableCancel = "the artifact store is unavailable: the cancelled job's outputs are removed when it answers again, which the controller retries"
	msgStoreNotConfigured     = "the controller runs without --artifact-store-url and cannot remove the job's files: remove them from the store, then the finalizer " +
		asyncjobv1alpha1.FinalizerArtifacts + ", by hand"
	msgOutputsRemoved = "the cancelled job's outputs were removed; its inputs stay until the AsyncJob is deleted"
)

// hasArtifactsFinalizer reports whether the REST API marked the AsyncJob as
// having files in the store (inputs, or a type with outputs).
func hasArtifactsFinalizer(aj *asyncjobv1alpha1.AsyncJob) bool {
	return controllerutil.ContainsFinalizer(aj, asyncjobv1alpha1.FinalizerArtifacts)
}

// decideDeletion is decide for an AsyncJob being deleted. Without the
// artifacts finalizer nothing is left to do: the garbage collector tears it
// down. With it, the Job is stopped first (in the foreground, so its pods go
// before it), since a running worker may still upload outputs; once the Job
// is gone, the files are removed and then the finalizer. Nothing here ever
// creates a Job.
func decideDeletion(w *world) decision {
	aj := w.AsyncJob
	none := decision{Action: action{Kind: actNone}}
	switch {
	case !hasArtifactsFinalizer(aj):
		return none
	case w.Job != nil && w.Job.DeletionTimestamp.IsZero():
		// With a background deletion of the AsyncJob, the garbage collector
		// leaves the Job alone until the AsyncJob is gone, which waits for us.
		return decision{Action: action{Kind: actDeleteJob, Job: w.Job}}
	case w.Job != nil:
		return none // being deleted: its removal wakes this AsyncJob
	case !w.ArtifactStore:
		c := cond(asyncjobv1alpha1.ConditionArtifactsRemoved, false, asyncjobv1alpha1.ReasonStoreNotConfigured, msgStoreNotConfigured)
		return decision{Action: action{Kind: actNone}, Status: &observation{Deleting: true, Generation: aj.Generation, ArtifactsRemoved: &c}}
	}
	return decision{Action: action{Kind: actRemoveArtifacts}, Status: &observation{Deleting: true, Generation: aj.Generation}}
}

// cancelledOutputs decides, for an AsyncJob without a Job, whether this pass
// removes its outputs: it is (or is becoming) Cancelled, it may have files,
// and they were not removed yet. A Completed or Failed AsyncJob keeps them.
// Without a store it says so in obs.
func cancelledOutputs(w *world, obs *observation) (remove bool) {
	aj := w.AsyncJob
	cancelled := aj.Spec.Cancel && (!aj.Status.State.IsFinished() || aj.Status.State == asyncjobv1alpha1.StateCancelled)
	if !cancelled || (!hasArtifactsFinalizer(aj) && len(aj.Status.Outputs) == 0) ||
		meta.IsStatusConditionTrue(aj.Status.Conditions, asyncjobv1alpha1.ConditionArtifactsRemoved) {
		return false
	}
	if !w.ArtifactStore {
		c := cond(asyncjobv1alpha1.ConditionArtifactsRemoved, false, asyncjobv1alpha1.ReasonStoreNotConfigured, msgStoreNotConfigured)
		obs.ArtifactsRemoved = &c
		return false
	}
	return true
}

// settleArtifacts records in obs what the store did: the outputs are gone
// (and so are their records), or the store failed and the condition says so.
func settleArtifacts(kind actionKind, out outcome, obs *observation) {
	switch {
	case out.StoreErr != nil && kind == actRemoveArtifacts:
		c := cond(asyncjobv1alpha1.ConditionArtifactsRemoved, false, asyncjobv1alpha1.ReasonStoreUnavailable, msgStoreUnavailableDelete)
		obs.ArtifactsRemoved = &c
	case out.StoreErr != nil:
		c := cond(asyncjobv1alpha1.ConditionArtifactsRemoved, false, asyncjobv1alpha1.ReasonStoreUnavailable, msgStoreUnavailableCancel)
		obs.ArtifactsRemoved = &c
	case kind == actRemoveOutputs:
		c := cond(asyncjobv1alpha1.ConditionArtifactsRemoved, true, asyncjobv1alpha1.ReasonArtifactsRemoved, msgOutputsRemoved)
		obs.ArtifactsRemoved = &c
		obs.OutputsRemoved = true
	}
}
