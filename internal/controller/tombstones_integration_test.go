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
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/internal/tombstone"
)

// TestIntegrationExpireWritesTombstoneFirst: an expired AsyncJob is deleted
// only once its tombstone is in the cluster. A tombstone ConfigMap that cannot
// be written (made immutable) blocks the delete; once it can be, one pass
// writes the entry and deletes, and repeated passes write nothing more.
func TestIntegrationExpireWritesTombstoneFirst(t *testing.T) {
	needEnv(t)
	ctx := context.Background()
	ns := newNamespace(t)
	r := &AsyncJobReconciler{Client: env.Client, APIReader: env.Client, Recorder: &recordedEvents{}, Clock: clock.RealClock{},
		Tombstones: TombstoneOptions{Retention: time.Hour, MaxPerNamespace: 10}}
	aj := convertJob("expired", ns, "report").Obj()
	mustCreate(t, aj)
	key := types.NamespacedName{Namespace: ns, Name: tombstone.ConfigMapName}

	// A ConfigMap that refuses every write: the tombstone cannot be recorded.
	blocked := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: tombstone.ConfigMapName}, Immutable: ptr.To(true)}
	mustCreate(t, blocked)
	if _, err := r.act(ctx, aj, action{Kind: actExpire}); err == nil {
		t.Fatal("expire with an unwritable tombstone ConfigMap: want an error (and a retry)")
	}
	got := &asyncjobv1alpha1.AsyncJob{}
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(aj), got); err != nil || !got.DeletionTimestamp.IsZero() {
		t.Fatalf("the AsyncJob was deleted without its tombstone (err %v, deletionTimestamp %v)", err, got.DeletionTimestamp)
	}

	if err := env.Client.Delete(ctx, blocked); err != nil {
		t.Fatal(err)
	}
	if _, err := r.act(ctx, aj, action{Kind: actExpire}); err != nil {
		t.Fatalf("expire: %v", err)
	}
	cm := &corev1.ConfigMap{}
	if err := env.Client.Get(ctx, key, cm); err != nil {
		t.Fatalf("the tombstone ConfigMap: %v", err)
	}
	if cm.Labels[tombstone.Label] != tombstone.LabelValue || len(cm.Data) != 1 || !tombstone.Gone(cm.Data, aj.Name, "acme", time.Now()) {
		t.Errorf("tombstone ConfigMap labels %v data %v: want the one entry of %s (tenant acme), labelled", cm.Labels, cm.Data, aj.Name)
	}
	// Repeated passes (a retry, a requeue) find it there and write nothing.
	rv := cm.ResourceVersion
	for i := range 2 {
		if _, err := r.act(ctx, aj, action{Kind: actExpire}); err != nil {
			t.Fatalf("repeated expire #%d: %v", i+1, err)
		}
	}
	if err := env.Client.Get(ctx, key, cm); err != nil || cm.ResourceVersion != rv || len(cm.Data) != 1 {
		t.Errorf("a repeated expire rewrote the tombstones (resourceVersion %s -> %s, %d entries, err %v)", rv, cm.ResourceVersion, len(cm.Data), err)
	}
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(aj), got); err != nil || got.DeletionTimestamp.IsZero() {
		t.Errorf("the AsyncJob is not being deleted once its tombstone is written (err %v)", err)
	}

	// No tenant: no REST client can ask for it, so no tombstone.
	other := newNamespace(t)
	untenanted := convertJob("kubectl-made", other, "report").Obj()
	delete(untenanted.Labels, asyncjobv1alpha1.LabelTenant)
	mustCreate(t, untenanted)
	if _, err := r.act(ctx, untenanted, action{Kind: actExpire}); err != nil {
		t.Fatal(err)
	}
	if err := env.Client.Get(ctx, types.NamespacedName{Namespace: other, Name: tombstone.ConfigMapName}, cm); !apierrors.IsNotFound(err) {
		t.Errorf("an AsyncJob without a tenant got a tombstone (err %v)", err)
	}
}
