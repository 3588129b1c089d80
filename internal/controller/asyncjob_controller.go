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
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/internal/artifact"
	"github.com/asyncjob/asyncjob/internal/paramschema"
)

// conflictRequeue is how soon a pass whose status write lost a race runs again.
const conflictRequeue = 200 * time.Millisecond

// AsyncJobReconciler runs each AsyncJob as exactly one batch Job and derives the
// AsyncJob's status from that Job and its pods.
type AsyncJobReconciler struct {
	// Client reads from the manager's cache and writes to the API server.
	Client client.Client
	// APIReader reads from the API server directly; used only to confirm what
	// the cache does not show, before creating or giving up on a Job.
	APIReader client.Reader
	Recorder  eventRecorder
	Schemas   *paramschema.Cache
	Clock     clock.PassiveClock
	// Worker is what a job's pod gets beyond its template.
	Worker workerConfig
	// Tombstones bound the record of AsyncJobs removed after their TTL.
	Tombstones TombstoneOptions
	// Artifacts is the store of the jobs' files; nil without one.
	Artifacts *artifact.Store
}

// +kubebuilder:rbac:groups=asyncjob.io,resources=asyncjobs,verbs=get;list;watch;delete;patch
// +kubebuilder:rbac:groups=asyncjob.io,resources=asyncjobs/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=asyncjob.io,resources=asyncjobs/finalizers,verbs=update
// +kubebuilder:rbac:groups=asyncjob.io,resources=asyncjobtypes,verbs=get;list;watch
// +kubebuilder:rbac:groups=batch,resources=jobs,verbs=get;list;watch;create;delete
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;create
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
// +kubebuilder:rbac:groups="",resources=configmaps,verbs=get;create;update

// Reconcile runs one pass: observe the AsyncJob and what it depends on, decide
// in a pure function, act on the decision, then derive the status from what was
// observed and write it once.
func (r *AsyncJobReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	w, err := r.observe(ctx, req.NamespacedName)
	if err != nil || w == nil {
		return reconcile.Result{}, err
	}
	now := r.Clock.Now()
	d, err := decide(w, r.Worker, now)
	if err != nil {
		return reconcile.Result{}, err
	}
	out, err := r.act(ctx, w.AsyncJob, d.Action)
	if err != nil {
		return reconcile.Result{}, err
	}
	obs, requeue := settle(d, out)
	if obs == nil {
		return reconcile.Result{RequeueAfter: requeue}, nil
	}

	newStatus := deriveStatus(w.AsyncJob.Status, *obs, metav1.NewTime(now))
	if err := r.writeStatus(ctx, w.AsyncJob, newStatus); err != nil {
		if apierrors.IsConflict(err) {
			// Someone wrote the AsyncJob since we read it: observe again soon.
			return reconcile.Result{RequeueAfter: conflictRequeue}, nil
		}
		return reconcile.Result{}, err
	}
	if out.StoreErr != nil {
		// Logged by the manager with the store's own words, which the status
		// leaves out; the workqueue retries with a growing backoff.
		return reconcile.Result{}, out.StoreErr
	}
	if newStatus.State.IsFinished() && newStatus.ExpireTime != nil && requeue == 0 {
		// Nothing else wakes a finished AsyncJob at its expiry.
		requeue = max(newStatus.ExpireTime.Sub(now), time.Second)
	}
	return reconcile.Result{RequeueAfter: requeue}, nil
}

// writeStatus writes the status when it changed, then records events and metrics
// for the transitions it made: only after the write succeeded, so a conflict
// (which just requeues) never reports a transition twice or one that did not happen.
func (r *AsyncJobReconciler) writeStatus(ctx context.Context, aj *asyncjobv1alpha1.AsyncJob, s asyncjobv1alpha1.AsyncJobStatus) error {
	if statusEqual(aj.Status, s) {
		return nil
	}
	old := aj.Status
	aj.Status = s
	if err := r.Client.Status().Update(ctx, aj); err != nil {
		return err
	}
	recordTransitions(r.Recorder, aj, old, s)
	return nil
}
