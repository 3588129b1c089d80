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

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/log"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/internal/tombstone"
)

// TombstoneOptions bound the record of AsyncJobs removed after their TTL,
// which lets the REST API answer 410 Gone for them (internal/tombstone).
type TombstoneOptions struct {
	// Retention is how long a removed job answers Gone; zero keeps no
	// tombstones (the API answers 404 right away).
	Retention time.Duration
	// MaxPerNamespace bounds the tombstones of one tenant namespace; the
	// oldest go first.
	MaxPerNamespace int
}

func (o TombstoneOptions) validate() error {
	if o.Retention < 0 {
		return fmt.Errorf("the tombstone retention %s is negative", o.Retention)
	}
	if o.Retention > 0 && (o.MaxPerNamespace < 1 || o.MaxPerNamespace > tombstone.MaxEntriesLimit) {
		return fmt.Errorf("the tombstones per namespace (%d) must be between 1 and %d", o.MaxPerNamespace, tombstone.MaxEntriesLimit)
	}
	return nil
}

// recordTombstone writes aj's tombstone before aj is deleted, so that the
// API never has a window in which a TTL-removed job is unknown. It is
// idempotent: a tombstone already there is left as it is, and nothing is
// written then unless pruning drops something. A failed write is an error,
// and the caller does not delete: the next pass tries again. Only AsyncJobs
// of a tenant get one; no REST client could ask for the others.
//
// The ConfigMap is read from the API server, not a cache: the controller
// does not watch ConfigMaps, and a removal is rare enough for one read.
// Conflicts (another replica, an earlier pass) are retried on a fresh read.
func (r *AsyncJobReconciler) recordTombstone(ctx context.Context, aj *asyncjobv1alpha1.AsyncJob) error {
	opts := r.Tombstones
	tenant := aj.Labels[asyncjobv1alpha1.LabelTenant]
	if opts.Retention <= 0 || tenant == "" {
		return nil
	}
	key := types.NamespacedName{Namespace: aj.Namespace, Name: tombstone.ConfigMapName}
	retriable := func(err error) bool { return apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err) }
	return retry.OnError(retry.DefaultRetry, retriable, func() error {
		now := r.Clock.Now()
		cm := &corev1.ConfigMap{}
		err := r.APIReader.Get(ctx, key, cm)
		if apierrors.IsNotFound(err) {
			set := tombstone.Set{}
			set.Record(aj.Name, tenant, now, opts.Retention, opts.MaxPerNamespace)
			cm = &corev1.ConfigMap{
				ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name, Labels: map[string]string{tombstone.Label: tombstone.LabelValue}},
				Data:       set.Data(),
			}
			if err := r.Client.Create(ctx, cm); err != nil {
				return err
			}
			log.FromContext(ctx).V(1).Info("Created the tombstone ConfigMap", "configMap", key)
			return nil
		}
		if err != nil {
			return err
		}
		set := tombstone.Parse(cm.Data)
		if !set.Record(aj.Name, tenant, now, opts.Retention, opts.MaxPerNamespace) && cm.Labels[tombstone.Label] == tombstone.LabelValue {
			return nil // there already, nothing expired: no write
		}
		if cm.Labels == nil {
			cm.Labels = map[string]string{}
		}
		cm.Labels[tombstone.Label] = tombstone.LabelValue
		cm.Data = set.Data()
		return r.Client.Update(ctx, cm)
	})
}
