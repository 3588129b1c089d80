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
	"encoding/json"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/internal/queue"
)

// MaxQueuePositionsWritten bounds the status.queue.position writes of one
// admission pass: only the first this many waiting jobs of a type carry one,
// so a long line costs at most this many writes when it moves by one.
const MaxQueuePositionsWritten = 100

// queuedMessage is the Running condition's message while a job waits for a slot.
const queuedMessage = "waiting for a slot: its type's concurrency bound is reached; it starts in order (priority, then submission time) when a slot frees"

// admissionConflictRequeue is how soon a pass that lost a write race runs again.
const admissionConflictRequeue = 100 * time.Millisecond

// QueueReconciler is the built-in queue's admission loop, one pass per type
// (the request's name is the AsyncJobType's): it unsuspends the type's waiting
// Jobs, in order, while slots are free. It runs on the leader only (the
// manager's default), and controller-runtime never runs two passes of one key
// at once, so one admitter per type decides at a time.
//
// Every pass counts the running Jobs from a fresh list from the API server,
// never from the cache: the cache may not show the unsuspends of the previous
// pass yet, and counting from it could admit past the bound. Slots are derived
// from the Jobs each time, never kept as counters, so a crash cannot leak one.
type QueueReconciler struct {
	Client    client.Client
	APIReader client.Reader
	Clock     clock.PassiveClock
}

// +kubebuilder:rbac:groups=batch,resources=jobs,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=asyncjob.io,resources=asyncjobs/status,verbs=get;update;patch

// Reconcile runs one admission pass for a type.
func (r *QueueReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	jt := &asyncjobv1alpha1.AsyncJobType{}
	if err := r.Client.Get(ctx, types.NamespacedName{Name: req.Name}, jt); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err) // no type: its jobs stay queued
	}
	jobs := &batchv1.JobList{}
	if err := r.APIReader.List(ctx, jobs, client.MatchingLabels{asyncjobv1alpha1.LabelType: jt.Name}); err != nil {
		return reconcile.Result{}, err
	}
	ajs := &asyncjobv1alpha1.AsyncJobList{}
	if err := r.Client.List(ctx, ajs, client.MatchingFields{typeIndex: jt.Name}); err != nil {
		return reconcile.Result{}, err
	}
	p := planAdmission(jt, jobs.Items, ajs.Items)

	logger := log.FromContext(ctx)
	for _, job := range p.Start {
		job.Spec.Suspend = new(false)
		// An update, not a patch: it carries the resourceVersion just listed,
		// so a Job changed since (cancelled, deleted) is not started blindly.
		if err := r.Client.Update(ctx, job); err != nil {
			if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
				return reconcile.Result{RequeueAfter: admissionConflictRequeue}, nil
			}
			return reconcile.Result{}, err
		}
		logger.V(1).Info("Admitted a queued Job", "job", client.ObjectKeyFromObject(job))
		if aj := p.byJob[client.ObjectKeyFromObject(job)]; aj != nil {
			queueWait.WithLabelValues(jt.Name).Observe(r.Clock.Since(aj.CreationTimestamp.Time).Seconds())
		}
	}
	for _, w := range p.Positions {
		if err := r.writePosition(ctx, w.aj, w.position); err != nil && !apierrors.IsNotFound(err) {
			return reconcile.Result{}, err
		}
	}
	return reconcile.Result{}, nil
}

// writePosition sets (position > 0) or clears status.queue with a merge patch
// of that field alone, so it never overwrites what the AsyncJob's own
// reconciler derived.
func (r *QueueReconciler) writePosition(ctx context.Context, aj *asyncjobv1alpha1.AsyncJob, position int32) error {
	var q any
	if position > 0 {
		q = map[string]int32{"position": position}
	}
	patch, err := json.Marshal(map[string]any{"status": map[string]any{"queue": q}})
	if err != nil {
		return err
	}
	return r.Client.Status().Patch(ctx, aj.DeepCopy(), client.RawPatch(types.MergePatchType, patch))
}

// admissionPlan is what one pass does: the Jobs to unsuspend, in order, and the
// status.queue writes (position 0 clears it).
type admissionPlan struct {
	Start     []*batchv1.Job
	Positions []positionWrite
	byJob     map[types.NamespacedName]*asyncjobv1alpha1.AsyncJob
}

type positionWrite struct {
	aj       *asyncjobv1alpha1.AsyncJob
	position int32
}

// planAdmission is the pass's judgement, pure. Running: a Job that is not
// suspended and not finished, including one being deleted while it still has
// pods (its pods still hold the slot). Waiting: a suspended Job the queue
// manages whose AsyncJob is known, not cancelled and not being deleted; a
// cancelled or deleted job leaves the line at once, before its Job is gone.
func planAdmission(jt *asyncjobv1alpha1.AsyncJobType, jobs []batchv1.Job, ajs []asyncjobv1alpha1.AsyncJob) admissionPlan {
	byKey := map[types.NamespacedName]*asyncjobv1alpha1.AsyncJob{}
	for i := range ajs {
		byKey[client.ObjectKeyFromObject(&ajs[i])] = &ajs[i]
	}
	p := admissionPlan{byJob: map[types.NamespacedName]*asyncjobv1alpha1.AsyncJob{}}
	running := queue.Running{PerTenant: map[string]int{}}
	var waiting []queue.Entry
	jobOf := map[types.NamespacedName]*batchv1.Job{}
	for i := range jobs {
		job := &jobs[i]
		if jobRunning(job) {
			running.Total++
			running.PerTenant[tenantOf(job)]++
			continue
		}
		if !isSuspended(job) || !queuedByConcurrency(job) || !job.DeletionTimestamp.IsZero() {
			continue
		}
		aj := byKey[types.NamespacedName{Namespace: job.Namespace, Name: job.Labels[asyncjobv1alpha1.LabelName]}]
		if aj == nil || aj.Spec.Cancel || !aj.DeletionTimestamp.IsZero() || !ownsJob(aj, job) {
			continue
		}
		key := client.ObjectKeyFromObject(aj)
		jobOf[key] = job
		p.byJob[client.ObjectKeyFromObject(job)] = aj
		waiting = append(waiting, queue.Entry{
			Namespace: aj.Namespace, Name: aj.Name, Tenant: tenantOf(job),
			Priority: aj.Spec.Priority, Created: queue.SubmittedAt(aj),
		})
	}
	var bounds queue.Bounds // a type without a bound (any more): everything starts
	if c := jt.Spec.Concurrency; c != nil {
		bounds.Max = int(c.Max)
		if c.PerTenant != nil {
			bounds.PerTenant = int(*c.PerTenant)
		}
	}
	started := map[types.NamespacedName]bool{}
	for _, e := range queue.Admit(waiting, running, bounds) {
		key := types.NamespacedName{Namespace: e.Namespace, Name: e.Name}
		started[key] = true
		p.Start = append(p.Start, jobOf[key].DeepCopy())
	}
	// Whoever left the line (admitted now, cancelled, deleted, gone) loses its position.
	for key, aj := range byKey {
		if _, waits := jobOf[key]; aj.Status.Queue != nil && (!waits || started[key]) {
			p.Positions = append(p.Positions, positionWrite{aj: aj, position: 0})
		}
	}
	position := int32(0)
	for _, e := range queue.Order(waiting) {
		key := types.NamespacedName{Namespace: e.Namespace, Name: e.Name}
		if started[key] {
			continue
		}
		position++
		aj := byKey[key]
		want := position
		if position > MaxQueuePositionsWritten {
			want = 0
		}
		have := int32(0)
		if aj.Status.Queue != nil {
			have = aj.Status.Queue.Position
		}
		if have != want {
			p.Positions = append(p.Positions, positionWrite{aj: aj, position: want})
		}
	}
	return p
}

// jobRunning: unsuspended and unfinished; a Job being deleted holds its slot
// while the Job controller still counts pods of it.
func jobRunning(job *batchv1.Job) bool {
	if isSuspended(job) || jobFinished(job) {
		return false
	}
	if !job.DeletionTimestamp.IsZero() {
		return job.Status.Active > 0 || (job.Status.Terminating != nil && *job.Status.Terminating > 0)
	}
	return true
}

func ownsJob(aj *asyncjobv1alpha1.AsyncJob, job *batchv1.Job) bool {
	for _, o := range job.OwnerReferences {
		if o.Controller != nil && *o.Controller && o.UID == aj.UID {
			return true
		}
	}
	return false
}

func tenantOf(job *batchv1.Job) string {
	if t := job.Labels[asyncjobv1alpha1.LabelTenant]; t != "" {
		return t
	}
	return job.Namespace
}

// queuedByConcurrency reports a Job the built-in queue admits.
func queuedByConcurrency(job *batchv1.Job) bool {
	return job.Annotations[asyncjobv1alpha1.AnnotationQueue] == asyncjobv1alpha1.QueueConcurrency
}

// queueStatus keeps status.queue only while the job waits in the built-in
// queue; the admission pass writes it, and everything else clears it.
func queueStatus(prev *asyncjobv1alpha1.QueueStatus, obs observation) *asyncjobv1alpha1.QueueStatus {
	if prev == nil || obs.Job == nil || !isSuspended(obs.Job) || !queuedByConcurrency(obs.Job) || obs.CancelRequested {
		return nil
	}
	return prev.DeepCopy()
}

// typeOfJob maps a Job the queue manages to its type's admission pass; other
// Jobs never cost a pass.
func typeOfJob(_ context.Context, o client.Object) []reconcile.Request {
	job, ok := o.(*batchv1.Job)
	if !ok || !queuedByConcurrency(job) {
		return nil
	}
	if t := job.Labels[asyncjobv1alpha1.LabelType]; t != "" {
		return []reconcile.Request{{NamespacedName: types.NamespacedName{Name: t}}}
	}
	return nil
}

// typeOfAsyncJob maps an AsyncJob of a queued type to its type's admission pass.
func typeOfAsyncJob(c client.Reader) func(context.Context, client.Object) []reconcile.Request {
	return func(ctx context.Context, o client.Object) []reconcile.Request {
		aj, ok := o.(*asyncjobv1alpha1.AsyncJob)
		if !ok {
			return nil
		}
		jt := &asyncjobv1alpha1.AsyncJobType{}
		if err := c.Get(ctx, types.NamespacedName{Name: aj.Spec.Type}, jt); err != nil || jt.Spec.Concurrency == nil {
			return nil
		}
		return []reconcile.Request{{NamespacedName: types.NamespacedName{Name: aj.Spec.Type}}}
	}
}
