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
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	batchv1 "k8s.io/api/batch/v1"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
)

// setupQueue registers the built-in queue's admission loop. A pass runs for a
// type when the type changes, when any of its Jobs changes (created
// suspended, finished, deleted), and when one of its AsyncJobs appears, is
// cancelled, starts being deleted or is gone: what can free a slot or change
// the line.
func setupQueue(mgr ctrl.Manager, clk clock.PassiveClock) error {
	lineChanged := predicate.Funcs{
		UpdateFunc: func(e event.UpdateEvent) bool {
			o, n := e.ObjectOld.(*asyncjobv1alpha1.AsyncJob), e.ObjectNew.(*asyncjobv1alpha1.AsyncJob)
			return o.Spec.Cancel != n.Spec.Cancel || o.DeletionTimestamp.IsZero() != n.DeletionTimestamp.IsZero()
		},
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&asyncjobv1alpha1.AsyncJobType{}).
		Watches(&batchv1.Job{}, handler.EnqueueRequestsFromMapFunc(typeOfJob)).
		Watches(&asyncjobv1alpha1.AsyncJob{}, handler.EnqueueRequestsFromMapFunc(typeOfAsyncJob(mgr.GetClient())), builder.WithPredicates(lineChanged)).
		Named("queue").
		Complete(&QueueReconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Clock: clk})
}
