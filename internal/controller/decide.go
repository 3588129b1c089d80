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
	"fmt"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/internal/paramschema"
)

// conflictRetryAfter is how soon an AsyncJob whose Job name is taken by a Job it
// does not own looks again; the other Job may be removed.
const conflictRetryAfter = 30 * time.Second

// podsLagRetryAfter is how soon a pass that waits for a lagging pod looks again.
// The pod's update is on its way and will trigger a pass; this is a safety net
// should it have been missed.
const podsLagRetryAfter = time.Second

// alreadyExistsRetryAfter is how soon a pass whose create found the Job already
// there looks again: its observation was stale (a cache behind, or a status
// write lost), and the next one reads the API server.
const alreadyExistsRetryAfter = time.Second

// podsLagGrace bounds how long a completed Job waits for its succeeded pod to
// show in the cache; a pod that was removed must not hold the AsyncJob forever.
const podsLagGrace = 30 * time.Second

// actionKind names the one change a pass makes to the world.
type actionKind string

const (
	// actNone changes nothing but the AsyncJob's status.
	actNone actionKind = "None"
	// actWait changes nothing but the status, and looks again after action.After.
	actWait actionKind = "Wait"
	// actCreateJob creates action.Secret, when set, then action.Job.
	actCreateJob actionKind = "CreateJob"
	// actDeleteJob deletes action.Job in the foreground, on the condition that
	// it is still the Job of that UID.
	actDeleteJob actionKind = "DeleteJob"
	// actExpire deletes the finished AsyncJob in the foreground: its TTL passed.
	actExpire actionKind = "Expire"
	// actRemoveArtifacts removes a deleted AsyncJob's files from the store,
	// then its artifacts finalizer.
	actRemoveArtifacts actionKind = "RemoveArtifacts"
	// actRemoveOutputs removes a cancelled AsyncJob's outputs from the store;
	// its inputs stay.
	actRemoveOutputs actionKind = "RemoveOutputs"
)

type action struct {
	Kind actionKind
	Job  *batchv1.Job
	// Secret is the worker's token Secret that Job's pod mounts.
	Secret *corev1.Secret
	After  time.Duration
}

// decision is what decide makes of a world: at most one action, and what the
// AsyncJob's status is derived from afterwards (nil: its status is not written,
// as it is being deleted or this pass deletes it).
type decision struct {
	Action action
	Status *observation
}

// decide is the controller's judgement, a pure function of what was observed,
// the controller's configuration and the time. Its order is the order of precedence: a deleted or expired AsyncJob
// needs nothing more; a foreign Job blocks everything; an existing Job is never
// replaced; a finished or cancelled AsyncJob never gets a Job; one that lost its
// Job never gets another; and only a ready type and a valid spec make a Job.
// Its error is a Job that cannot be built, which a retry may not fix but which
// the API server's validation of spec.parameters makes unreachable.
func decide(w *world, cfg workerConfig, now time.Time) (decision, error) {
	aj := w.AsyncJob
	if !aj.DeletionTimestamp.IsZero() {
		return decideDeletion(w), nil // never a Job
	}
	if aj.Status.State.IsFinished() && ttlExpired(aj, now) {
		return decision{Action: action{Kind: actExpire}}, nil
	}

	obs := &observation{
		Generation:      aj.Generation,
		CancelRequested: aj.Spec.Cancel,
		TTL:             fallbackTTL(aj, w.Type),
		Job:             w.Job,
		Pods:            w.Pods,
		KueueEviction:   w.KueueEviction,
	}
	none := decision{Action: action{Kind: actNone}, Status: obs}
	job := w.Job

	switch {
	case w.ForeignJob:
		obs.Accepted = cond(asyncjobv1alpha1.ConditionAccepted, false, asyncjobv1alpha1.ReasonJobNameConflict,
			fmt.Sprintf("a Job named %q exists that this AsyncJob does not own; it is left alone", jobName(aj)))
		return decision{Action: action{Kind: actWait, After: conflictRetryAfter}, Status: obs}, nil

	case job != nil:
		obs.Accepted = jobCreated()
		obs.ResultContainer = resultContainer(job)
		obs.PodsLagging = podsLag(job, w.Pods, now)
		if obs.PodsLagging {
			return decision{Action: action{Kind: actWait, After: podsLagRetryAfter}, Status: obs}, nil
		}
		if aj.Spec.Cancel && !jobFinished(job) && job.DeletionTimestamp.IsZero() {
			// Foreground: the Job stays visible, with its pods deleted first, and
			// the AsyncJob becomes Cancelled only once the Job is really gone.
			return decision{Action: action{Kind: actDeleteJob, Job: job}, Status: obs}, nil
		}
		return none, nil

	case aj.Status.State.IsFinished() || aj.Spec.Cancel:
		// Finished, or cancelled before a Job existed: never (re)create one.
		obs.Accepted = acceptedOr(aj, cond(asyncjobv1alpha1.ConditionAccepted, false, asyncjobv1alpha1.ReasonCancelled, "cancelled before it started"))
		if cancelledOutputs(w, obs) {
			// The Job and its pods are gone, so no worker uploads any more.
			return decision{Action: action{Kind: actRemoveOutputs}, Status: obs}, nil
		}
		return none, nil

	case aj.Status.JobName != "":
		// It had a Job that is confirmed gone (observe asked the API server).
		obs.Accepted = acceptedOr(aj, jobCreated())
		obs.JobLost = true
		return none, nil

	case w.Type == nil:
		obs.Accepted = cond(asyncjobv1alpha1.ConditionAccepted, false, asyncjobv1alpha1.ReasonTypeNotFound,
			fmt.Sprintf("AsyncJobType %q does not exist; the AsyncJob starts when it does", aj.Spec.Type))
		return none, nil

	case !w.Type.IsReady():
		obs.Accepted = cond(asyncjobv1alpha1.ConditionAccepted, false, asyncjobv1alpha1.ReasonTypeNotReady,
			fmt.Sprintf("AsyncJobType %q is not ready; see its Ready condition", aj.Spec.Type))
		return none, nil
	}

	// The type is ready and there is no Job yet: validate, then create.
	if rejected := validateSpec(aj, w.Type, w.Schema, w.SchemaErr); rejected != nil {
		obs.Accepted = cond(asyncjobv1alpha1.ConditionAccepted, false, rejected.Reason, rejected.Message)
		obs.Rejected = rejected
		return none, nil
	}
	limits, _ := resolveLimits(aj.Spec.Overrides, &w.Type.Spec) // validated above
	desired, err := buildJob(aj, w.Type, limits, cfg)
	if err != nil {
		return decision{}, err
	}
	create := action{Kind: actCreateJob, Job: desired}
	if cfg.callbacks() {
		create.Secret = buildWorkerSecret(aj, cfg)
	}
	// Accepted and the Job take effect once the create succeeded (settle).
	obs.Accepted = jobCreated()
	obs.ResultContainer = resultContainer(desired)
	return decision{Action: create, Status: obs}, nil
}

// outcome is what act did that decide could not know.
type outcome struct {
	// Created is the Job as the API server returned it from the create.
	Created *batchv1.Job
	// AlreadyExists is true when the create found a Job of that name.
	AlreadyExists bool
	// SecretConflict is true when a Secret of the worker Secret's name exists
	// that the AsyncJob does not control: no Job was created.
	SecretConflict bool
	// StoreErr is the artifact store's error removing files: the status says
	// so, and the pass is retried with backoff.
	StoreErr error
	// FinalizerRemoved is true when the deleted AsyncJob's files and its
	// artifacts finalizer are gone: it may be gone itself.
	FinalizerRemoved bool
	// FinalizerConflict is true when the finalizer's removal lost a race.
	FinalizerConflict bool
}

// settle combines a decision with its outcome: what the status is derived from
// (nil: write none) and when to look again (0: when something changes).
func settle(d decision, out outcome) (*observation, time.Duration) {
	switch {
	case d.Action.Kind == actCreateJob && out.AlreadyExists:
		// The observation was stale: deriving a status from it would be wrong.
		return nil, alreadyExistsRetryAfter
	case out.FinalizerConflict:
		return nil, conflictRequeue
	case d.Status == nil, out.FinalizerRemoved:
		return nil, 0
	}
	obs := *d.Status
	settleArtifacts(d.Action.Kind, out, &obs)
	if out.SecretConflict {
		// As with a foreign Job: it is left alone, and it may be removed.
		obs.Accepted = cond(asyncjobv1alpha1.ConditionAccepted, false, asyncjobv1alpha1.ReasonWorkerSecretConflict,
			fmt.Sprintf("a Secret named %q exists that this AsyncJob does not own; it is left alone, and no Job is created while it exists", d.Action.Secret.Name))
		obs.ResultContainer = ""
		return &obs, conflictRetryAfter
	}
	if out.Created != nil {
		obs.Job = out.Created
	}
	var after time.Duration
	if d.Action.Kind == actWait {
		after = d.Action.After
	}
	return &obs, after
}

// validateSpec reports why an AsyncJob can never run with its type, or nil.
func validateSpec(aj *asyncjobv1alpha1.AsyncJob, jobType *asyncjobv1alpha1.AsyncJobType, schema *paramschema.Schema, schemaErr error) *asyncjobv1alpha1.Failure {
	if _, err := resolveLimits(aj.Spec.Overrides, &jobType.Spec); err != nil {
		return &asyncjobv1alpha1.Failure{Reason: asyncjobv1alpha1.ReasonInvalidSpec, Message: err.Error()}
	}
	if schemaErr != nil || schema == nil { // the type controller marks such a type not Ready
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

// fallbackTTL is the TTL of an AsyncJob without recorded limits: its overrides
// over its type's defaults as the type is now, else the default.
func fallbackTTL(aj *asyncjobv1alpha1.AsyncJob, jobType *asyncjobv1alpha1.AsyncJobType) time.Duration {
	ttl := DefaultTTLSecondsAfterFinished
	if jobType != nil {
		if limits, err := resolveLimits(aj.Spec.Overrides, &jobType.Spec); err == nil {
			ttl = limits.TTLSecondsAfterFinished
		}
	}
	return time.Duration(ttl) * time.Second
}

func ttlExpired(aj *asyncjobv1alpha1.AsyncJob, now time.Time) bool {
	return aj.Status.ExpireTime != nil && !now.Before(aj.Status.ExpireTime.Time)
}

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

func jobCreated() metav1.Condition {
	return cond(asyncjobv1alpha1.ConditionAccepted, true, asyncjobv1alpha1.ReasonJobCreated, "the Job was created")
}

// acceptedOr keeps the AsyncJob's Accepted condition, or uses def when it has none.
func acceptedOr(aj *asyncjobv1alpha1.AsyncJob, def metav1.Condition) metav1.Condition {
	if c := meta.FindStatusCondition(aj.Status.Conditions, asyncjobv1alpha1.ConditionAccepted); c != nil {
		return cond(c.Type, c.Status == metav1.ConditionTrue, c.Reason, c.Message)
	}
	return def
}

// resultContainer is the container whose termination message is the result:
// the Job's first, which is its type template's first.
func resultContainer(job *batchv1.Job) string {
	if cs := job.Spec.Template.Spec.Containers; len(cs) > 0 {
		return cs[0].Name
	}
	return ""
}
