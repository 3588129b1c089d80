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
	"net/url"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/internal/artifact"
	"github.com/asyncjob/asyncjob/internal/cachetransform"
	"github.com/asyncjob/asyncjob/internal/paramschema"
	"github.com/asyncjob/asyncjob/internal/workertoken"
)

// typeIndex indexes AsyncJobs by spec.type, so a type that appears or changes
// wakes exactly the AsyncJobs waiting for it.
const typeIndex = "spec.type"

// Options configure the controllers.
type Options struct {
	// Clock is injectable for tests; the real clock by default.
	Clock clock.PassiveClock
	// MaxConcurrentReconciles for AsyncJobs (1 when zero).
	MaxConcurrentReconciles int
	// CallbackURL is the API's base URL that workers call back (progress,
	// result); empty disables callbacks: no token, no callback environment.
	CallbackURL string
	// WorkerTokenKey signs the workers' tokens (internal/workertoken); the API
	// verifies them with the same key. Required with CallbackURL.
	WorkerTokenKey []byte
	// EntrypointImage is the project's own image, which the init container of
	// a type with entrypoint Inject copies the entrypoint from. Empty: such
	// types are not Ready.
	EntrypointImage string
	// Tombstones bound the record of AsyncJobs removed after their TTL, from
	// which the API answers 410 Gone; the zero value keeps none.
	Tombstones TombstoneOptions
	// ArtifactStore holds the jobs' files, which the controller removes when
	// an AsyncJob is deleted (its finalizer) or cancelled (its outputs); nil:
	// none is configured, and a deleted AsyncJob with files keeps its
	// finalizer (ArtifactsRemoved=False, StoreNotConfigured).
	ArtifactStore *artifact.Store
}

func (o Options) worker() (workerConfig, error) {
	cfg := workerConfig{CallbackURL: o.CallbackURL, TokenKey: o.WorkerTokenKey, EntrypointImage: o.EntrypointImage}
	if cfg.callbacks() {
		u, err := url.Parse(cfg.CallbackURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return workerConfig{}, fmt.Errorf("the callback URL %q is not an absolute http(s) URL", cfg.CallbackURL)
		}
		if len(cfg.TokenKey) < workertoken.MinKeyBytes {
			return workerConfig{}, fmt.Errorf("callbacks need a worker token key of at least %d bytes", workertoken.MinKeyBytes)
		}
	}
	return cfg, nil
}

// CacheOptions restricts the manager's cache to what the controller needs: Jobs
// and pods carrying the asyncjob.io/name label, never every pod in the cluster,
// and no object's managedFields. The last-applied annotation stays: the
// controller updates some cached objects whole (the tombstone ConfigMaps),
// and an update without it would remove it from the server.
func CacheOptions() cache.Options {
	ours, err := labels.NewRequirement(asyncjobv1alpha1.LabelName, selection.Exists, nil)
	if err != nil {
		panic(err) // a constant requirement; cannot fail
	}
	selector := labels.NewSelector().Add(*ours)
	return cache.Options{
		ByObject: map[client.Object]cache.ByObject{
			&batchv1.Job{}: {Label: selector},
			&corev1.Pod{}:  {Label: selector},
		},
		DefaultTransform: cachetransform.StripManagedFields(),
	}
}

// Setup registers both controllers and their index with the manager. The
// manager's cache must be built with CacheOptions.
func Setup(mgr ctrl.Manager, opts Options) error {
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	worker, err := opts.worker()
	if err != nil {
		return err
	}
	if err := opts.Tombstones.validate(); err != nil {
		return err
	}
	schemas := paramschema.NewCache()
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &asyncjobv1alpha1.AsyncJob{}, typeIndex,
		func(o client.Object) []string { return []string{o.(*asyncjobv1alpha1.AsyncJob).Spec.Type} }); err != nil {
		return err
	}

	jobs := &AsyncJobReconciler{
		Client:     mgr.GetClient(),
		APIReader:  mgr.GetAPIReader(),
		Recorder:   k8sEvents{r: mgr.GetEventRecorder("asyncjob-controller")},
		Schemas:    schemas,
		Clock:      opts.Clock,
		Worker:     worker,
		Tombstones: opts.Tombstones,
		Artifacts:  opts.ArtifactStore,
	}
	err = ctrl.NewControllerManagedBy(mgr).
		For(&asyncjobv1alpha1.AsyncJob{}).
		Owns(&batchv1.Job{}).
		Watches(&corev1.Pod{}, handler.EnqueueRequestsFromMapFunc(podToAsyncJob)).
		Watches(&asyncjobv1alpha1.AsyncJobType{}, handler.EnqueueRequestsFromMapFunc(typeToAsyncJobs(mgr.GetClient()))).
		WithOptions(controller.Options{MaxConcurrentReconciles: max(opts.MaxConcurrentReconciles, 1)}).
		Named("asyncjob").
		Complete(jobs)
	if err != nil {
		return err
	}

	if err := setupQueue(mgr, opts.Clock); err != nil {
		return err
	}

	return ctrl.NewControllerManagedBy(mgr).
		For(&asyncjobv1alpha1.AsyncJobType{}).
		Named("asyncjobtype").
		Complete(&AsyncJobTypeReconciler{Client: mgr.GetClient(), Schemas: schemas, Clock: opts.Clock, Worker: worker})
}

// podToAsyncJob maps a pod to its AsyncJob through the label the Job's pod
// template carries.
func podToAsyncJob(_ context.Context, o client.Object) []reconcile.Request {
	name := o.GetLabels()[asyncjobv1alpha1.LabelName]
	if name == "" {
		return nil
	}
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: o.GetNamespace(), Name: name}}}
}

// typeToAsyncJobs wakes the unfinished AsyncJobs of a type when it changes
// (created, made ready): they may have been waiting for it. Types change
// rarely, so every change of one is worth a look.
func typeToAsyncJobs(c client.Client) handler.MapFunc {
	return func(ctx context.Context, o client.Object) []reconcile.Request {
		list := &asyncjobv1alpha1.AsyncJobList{}
		if err := c.List(ctx, list, client.MatchingFields{typeIndex: o.GetName()}); err != nil {
			ctrl.LoggerFrom(ctx).Error(err, "Listing AsyncJobs of a changed type", "type", o.GetName())
			return nil
		}
		var reqs []reconcile.Request
		for i := range list.Items {
			aj := &list.Items[i]
			if aj.Status.JobName == "" && !aj.Status.State.IsFinished() {
				reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(aj)})
			}
		}
		return reqs
	}
}
