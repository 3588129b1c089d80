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
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/internal/paramschema"
)

// conflictRetryAfter is how soon an AsyncJob whose Job name is taken by a Job it
// does not own looks again; the other Job may be removed.
const conflictRetryAfter = 30 * time.Second

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
}

// +kubebuilder:rbac:groups=asyncjob.io,resources=asyncjobs,verbs=get;list;watch;delete
// +kubebuilder:rbac:groups=asyncjob.io,resources=asyncjobs/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=asyncjob.io,resources=asyncjobs/finalizers,verbs=update
// +kubebuilder:rbac:groups=asyncjob.io,resources=asyncjobtypes,verbs=get;list;watch
// +kubebuilder:rbac:groups=batch,resources=jobs,verbs=get;list;watch;create;delete
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile observes the AsyncJob, its type, its Job and pods; acts (create the
// Job, cancel it, expire the AsyncJob); and writes the derived status once.
func (r *AsyncJobReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	aj := &asyncjobv1alpha1.AsyncJob{}
	if err := r.Client.Get(ctx, req.NamespacedName, aj); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	if !aj.DeletionTimestamp.IsZero() {
		return reconcile.Result{}, nil // the garbage collector tears it down
	}
	now := metav1.NewTime(r.Clock.Now())
	if aj.Status.State.IsFinished() && ttlExpired(aj, now.Time) {
		return reconcile.Result{}, r.expire(ctx, aj)
	}
	return r.sync(ctx, aj, now)
}

// sync observes, acts and writes status.
func (r *AsyncJobReconciler) sync(ctx context.Context, aj *asyncjobv1alpha1.AsyncJob, now metav1.Time) (reconcile.Result, error) {
	obs, requeue, err := r.observeAndAct(ctx, aj)
	if err != nil {
		return reconcile.Result{}, err
	}
	newStatus := deriveStatus(aj.Status, obs, now)
	if err := r.writeStatus(ctx, aj, newStatus); err != nil {
		if apierrors.IsConflict(err) {
			// Someone wrote the AsyncJob since we read it: observe again soon.
			return reconcile.Result{RequeueAfter: conflictRequeue}, nil
		}
		return reconcile.Result{}, err
	}
	if newStatus.State.IsFinished() && newStatus.ExpireTime != nil && requeue == 0 {
		requeue = max(newStatus.ExpireTime.Sub(now.Time), time.Second)
	}
	return reconcile.Result{RequeueAfter: requeue}, nil
}

// observeAndAct reads the world and takes at most one idempotent action.
func (r *AsyncJobReconciler) observeAndAct(ctx context.Context, aj *asyncjobv1alpha1.AsyncJob) (observation, time.Duration, error) {
	logger := log.FromContext(ctx)
	obs := observation{
		Generation:      aj.Generation,
		CancelRequested: aj.Spec.Cancel,
		TTL:             time.Duration(DefaultTTLSecondsAfterFinished) * time.Second,
	}

	job, foreign, err := r.ownedJob(ctx, aj)
	if err != nil {
		return obs, 0, err
	}
	obs.Job = job
	if job != nil {
		pods := &corev1.PodList{}
		if err := r.Client.List(ctx, pods, client.InNamespace(aj.Namespace), client.MatchingLabels{asyncjobv1alpha1.LabelName: aj.Name}); err != nil {
			return obs, 0, err
		}
		obs.Pods = pods.Items
		obs.PodsLagging = podsLag(job, obs.Pods, r.Clock.Now())
	}

	jobType := &asyncjobv1alpha1.AsyncJobType{}
	typeErr := r.Client.Get(ctx, types.NamespacedName{Name: aj.Spec.Type}, jobType)
	if typeErr != nil && !apierrors.IsNotFound(typeErr) {
		return obs, 0, typeErr
	}
	typeFound := typeErr == nil
	if typeFound {
		obs.ResultContainer = resultContainer(jobType)
		if limits, err := resolveLimits(aj.Spec.Overrides, &jobType.Spec); err == nil {
			obs.TTL = time.Duration(limits.TTLSecondsAfterFinished) * time.Second
		}
	}

	switch {
	case foreign:
		obs.Accepted = cond(asyncjobv1alpha1.ConditionAccepted, false, asyncjobv1alpha1.ReasonJobNameConflict,
			fmt.Sprintf("a Job named %q exists that this AsyncJob does not own; it is left alone", jobName(aj)))
		return obs, conflictRetryAfter, nil

	case job != nil:
		obs.Accepted = cond(asyncjobv1alpha1.ConditionAccepted, true, asyncjobv1alpha1.ReasonJobCreated, "the Job was created")
		if obs.PodsLagging {
			// The pod's update is on its way and will trigger a pass; this is
			// a safety net should it have been missed.
			return obs, time.Second, nil
		}
		if aj.Spec.Cancel && !jobFinished(job) && job.DeletionTimestamp.IsZero() {
			logger.V(1).Info("Cancelling: deleting the Job in the foreground", "job", client.ObjectKeyFromObject(job))
			// Foreground: the Job stays visible, with its pods deleted first, and
			// the AsyncJob becomes Cancelled only once the Job is really gone.
			if err := r.Client.Delete(ctx, job, client.PropagationPolicy(metav1.DeletePropagationForeground),
				client.Preconditions{UID: &job.UID}); client.IgnoreNotFound(err) != nil && !apierrors.IsConflict(err) {
				return obs, 0, err
			}
		}
		return obs, 0, nil

	case aj.Status.State.IsFinished() || aj.Spec.Cancel:
		// Finished, or cancelled before a Job existed: never (re)create one.
		obs.Accepted = acceptedOr(aj, cond(asyncjobv1alpha1.ConditionAccepted, false, asyncjobv1alpha1.ReasonCancelled, "cancelled before it started"))
		return obs, 0, nil

	case aj.Status.JobName != "":
		// It had a Job that is confirmed gone (ownedJob asked the API server).
		obs.Accepted = acceptedOr(aj, cond(asyncjobv1alpha1.ConditionAccepted, true, asyncjobv1alpha1.ReasonJobCreated, "the Job was created"))
		obs.JobLost = true
		return obs, 0, nil

	case !typeFound:
		obs.Accepted = cond(asyncjobv1alpha1.ConditionAccepted, false, asyncjobv1alpha1.ReasonTypeNotFound,
			fmt.Sprintf("AsyncJobType %q does not exist; the AsyncJob starts when it does", aj.Spec.Type))
		return obs, 0, nil

	case !jobType.IsReady():
		obs.Accepted = cond(asyncjobv1alpha1.ConditionAccepted, false, asyncjobv1alpha1.ReasonTypeNotReady,
			fmt.Sprintf("AsyncJobType %q is not ready; see its Ready condition", aj.Spec.Type))
		return obs, 0, nil
	}

	// The type is ready and there is no Job yet: validate, then create.
	if rejected := r.validate(aj, jobType); rejected != nil {
		obs.Accepted = cond(asyncjobv1alpha1.ConditionAccepted, false, rejected.Reason, rejected.Message)
		obs.Rejected = rejected
		return obs, 0, nil
	}
	limits, _ := resolveLimits(aj.Spec.Overrides, &jobType.Spec) // validated above
	desired, err := buildJob(aj, jobType, limits)
	if err != nil {
		return obs, 0, err
	}
	if err := r.Client.Create(ctx, desired); err != nil {
		if apierrors.IsAlreadyExists(err) {
			// A stale cache or a lost status write: look again next pass, where
			// ownedJob reads the API server and decides.
			return obs, time.Second, nil
		}
		return obs, 0, err
	}
	logger.Info("Created Job", "job", client.ObjectKeyFromObject(desired))
	obs.Job = desired
	obs.Accepted = cond(asyncjobv1alpha1.ConditionAccepted, true, asyncjobv1alpha1.ReasonJobCreated, "the Job was created")
	return obs, 0, nil
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

// validate reports why an AsyncJob can never run with its type, or nil.
func (r *AsyncJobReconciler) validate(aj *asyncjobv1alpha1.AsyncJob, jobType *asyncjobv1alpha1.AsyncJobType) *asyncjobv1alpha1.Failure {
	if _, err := resolveLimits(aj.Spec.Overrides, &jobType.Spec); err != nil {
		return &asyncjobv1alpha1.Failure{Reason: asyncjobv1alpha1.ReasonInvalidSpec, Message: err.Error()}
	}
	schema, err := r.Schemas.ForType(jobType)
	if err != nil { // the type controller marks such a type not Ready
		return &asyncjobv1alpha1.Failure{Reason: asyncjobv1alpha1.ReasonInvalidSpec, Message: "the type's parametersSchema does not compile"}
	}
	var raw []byte
	if aj.Spec.Parameters != nil {
		raw = aj.Spec.Parameters.Raw
	}
	if errs := schema.Validate(raw); len(errs) > 0 {
		return &asyncjobv1alpha1.Failure{Reason: asyncjobv1alpha1.ReasonInvalidParameters, Message: formatFieldErrors(errs)}
	}
	return nil
}

// expire deletes a finished AsyncJob whose TTL has passed, in the foreground so
// that its Job and pods go first.
func (r *AsyncJobReconciler) expire(ctx context.Context, aj *asyncjobv1alpha1.AsyncJob) error {
	log.FromContext(ctx).Info("Deleting finished AsyncJob after its TTL", "expireTime", aj.Status.ExpireTime)
	r.Recorder.Normal(aj, asyncjobv1alpha1.ReasonExpired, "Delete", "deleting the finished AsyncJob: its TTL has passed")
	err := r.Client.Delete(ctx, aj, client.PropagationPolicy(metav1.DeletePropagationForeground), client.Preconditions{UID: &aj.UID})
	return client.IgnoreNotFound(err)
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

func ttlExpired(aj *asyncjobv1alpha1.AsyncJob, now time.Time) bool {
	return aj.Status.ExpireTime != nil && !now.Before(aj.Status.ExpireTime.Time)
}

// podsLagGrace bounds how long a completed Job waits for its succeeded pod to
// show in the cache; a pod that was removed must not hold the AsyncJob forever.
const podsLagGrace = 30 * time.Second

// podsLag reports a completed Job whose succeeded pod is not in the cache yet,
// so that Completed is reported together with its result, not before it.
func podsLag(job *batchv1.Job, pods []corev1.Pod, now time.Time) bool {
	c := jobCondition(job, batchv1.JobComplete)
	if c == nil || now.Sub(c.LastTransitionTime.Time) > podsLagGrace {
		return false
	}
	for i := range pods {
		if pods[i].Status.Phase == corev1.PodSucceeded {
			return false
		}
	}
	return true
}

func jobFinished(job *batchv1.Job) bool {
	return jobCondition(job, batchv1.JobComplete) != nil || jobCondition(job, batchv1.JobFailed) != nil
}

// acceptedOr keeps the AsyncJob's Accepted condition, or uses def when it has none.
func acceptedOr(aj *asyncjobv1alpha1.AsyncJob, def metav1.Condition) metav1.Condition {
	if c := meta.FindStatusCondition(aj.Status.Conditions, asyncjobv1alpha1.ConditionAccepted); c != nil {
		return cond(c.Type, c.Status == metav1.ConditionTrue, c.Reason, c.Message)
	}
	return def
}

// resultContainer is the container whose termination message is the result:
// the template's first container.
func resultContainer(t *asyncjobv1alpha1.AsyncJobType) string {
	if cs := t.Spec.Template.Spec.Template.Spec.Containers; len(cs) > 0 {
		return cs[0].Name
	}
	return ""
}
