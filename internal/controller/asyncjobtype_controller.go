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
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/internal/paramschema"
)

// AsyncJobTypeReconciler reports in a Ready condition whether a type's schema
// and template are usable, so a broken type shows in `kubectl get asyncjobtypes`
// and no AsyncJob of it starts.
type AsyncJobTypeReconciler struct {
	Client  client.Client
	Schemas *paramschema.Cache
	Clock   clock.PassiveClock
	// Worker is the controller's configuration a type may depend on (the
	// entrypoint image).
	Worker workerConfig
}

// +kubebuilder:rbac:groups=asyncjob.io,resources=asyncjobtypes,verbs=get;list;watch
// +kubebuilder:rbac:groups=asyncjob.io,resources=asyncjobtypes/status,verbs=get;update;patch

// Reconcile computes the Ready condition.
func (r *AsyncJobTypeReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	t := &asyncjobv1alpha1.AsyncJobType{}
	if err := r.Client.Get(ctx, req.NamespacedName, t); err != nil {
		if apierrors.IsNotFound(err) {
			// Deleted, seen as a Delete event or, after the watch was down, as
			// absent from the relist: either way only the name is left.
			r.Schemas.Forget(req.Name)
			return reconcile.Result{}, nil
		}
		return reconcile.Result{}, err
	}
	if !t.DeletionTimestamp.IsZero() {
		r.Schemas.Forget(t.Name)
		return reconcile.Result{}, nil
	}
	ready := readyCondition(t, r.Schemas, r.Worker)
	ready.ObservedGeneration = t.Generation
	ready.LastTransitionTime = metav1.NewTime(r.Clock.Now())

	updated := t.DeepCopy()
	changed := meta.SetStatusCondition(&updated.Status.Conditions, ready)
	if !changed && t.Status.ObservedGeneration == t.Generation {
		return reconcile.Result{}, nil
	}
	updated.Status.ObservedGeneration = t.Generation
	return reconcile.Result{}, r.Client.Status().Update(ctx, updated)
}

// readyCondition checks what the API server's schema cannot: that the parameters
// schema compiles, that the template has something to run, and that the type's
// defaults are within its own maximums, and that what the controller adds to
// its pods fits.
func readyCondition(t *asyncjobv1alpha1.AsyncJobType, schemas *paramschema.Cache, cfg workerConfig) metav1.Condition {
	if _, err := schemas.ForType(t); err != nil {
		return cond(asyncjobv1alpha1.TypeConditionReady, false, asyncjobv1alpha1.ReasonInvalidSchema, truncateMessage(err.Error()))
	}
	if err := validateTemplate(t); err != nil {
		return cond(asyncjobv1alpha1.TypeConditionReady, false, asyncjobv1alpha1.ReasonInvalidTemplate, err.Error())
	}
	if reason, err := validateWorkerTemplate(&t.Spec, cfg); err != nil {
		return cond(asyncjobv1alpha1.TypeConditionReady, false, reason, truncateMessage(err.Error()))
	}
	if err := validateTypeLimits(&t.Spec); err != nil {
		return cond(asyncjobv1alpha1.TypeConditionReady, false, asyncjobv1alpha1.ReasonInvalidLimits, "defaults: "+err.Error())
	}
	return cond(asyncjobv1alpha1.TypeConditionReady, true, asyncjobv1alpha1.ReasonValid, "the schema compiles and the template is usable")
}

func validateTemplate(t *asyncjobv1alpha1.AsyncJobType) error {
	spec := t.Spec.Template.Spec
	containers := spec.Template.Spec.Containers
	if len(containers) == 0 {
		return errors.New("template.spec.template.spec.containers is empty")
	}
	for _, c := range append(spec.Template.Spec.InitContainers, containers...) {
		if c.Image == "" {
			return fmt.Errorf("container %q has no image", c.Name)
		}
	}
	if spec.Selector != nil || (spec.ManualSelector != nil && *spec.ManualSelector) {
		return errors.New("template.spec.selector must not be set: the Job controller generates it")
	}
	if c := spec.Completions; c != nil && *c != 1 {
		return errors.New("template.spec.completions must be 1: an AsyncJob's result comes from one pod")
	}
	if p := spec.Parallelism; p != nil && *p != 1 {
		return errors.New("template.spec.parallelism must be 1: an AsyncJob runs one pod at a time")
	}
	if spec.Suspend != nil && *spec.Suspend {
		return errors.New("template.spec.suspend must not be true: nothing would resume the Job (queueing systems suspend Jobs themselves)")
	}
	if spec.TTLSecondsAfterFinished != nil {
		return errors.New("template.spec.ttlSecondsAfterFinished must not be set: the AsyncJob's TTL removes its Job, and the Job must outlive the reading of its result")
	}
	return nil
}
