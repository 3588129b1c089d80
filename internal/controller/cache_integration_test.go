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
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/internal/paramschema"
	"github.com/asyncjob/asyncjob/test/wrappers"
)

// TestIntegrationCacheHoldsOnlyLabelledPodsAndJobs: the manager's cache holds
// the pods and Jobs that carry asyncjob.io/name, never the rest of the cluster.
func TestIntegrationCacheHoldsOnlyLabelledPodsAndJobs(t *testing.T) {
	needEnv(t)
	mgr, _ := startManagerWith(t, Options{MaxConcurrentReconciles: 2})
	ns := newNamespace(t)
	c := corev1.Container{Name: "c", Image: "example.com/c:1"}
	jobPod := corev1.PodTemplateSpec{Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever, Containers: []corev1.Container{c}}}

	// The unlabelled objects first: each kind's watch delivers in order, so
	// once the labelled one is cached, the unlabelled one would have been too.
	mustCreate(t, wrappers.MakePod("unlabelled", ns).Label("app", "other").Containers(c).Obj())
	mustCreate(t, wrappers.MakeJob("unlabelled", ns).PodTemplate(*jobPod.DeepCopy()).Obj())
	mustCreate(t, wrappers.MakePod("labelled", ns).Label(asyncjobv1alpha1.LabelName, "ours").Containers(c).Obj())
	mustCreate(t, wrappers.MakeJob("labelled", ns).Label(asyncjobv1alpha1.LabelName, "ours").PodTemplate(*jobPod.DeepCopy()).Obj())

	cache := mgr.GetCache()
	eventually(t, "the labelled pod and Job are cached", func(ctx context.Context) error {
		if err := cache.Get(ctx, types.NamespacedName{Namespace: ns, Name: "labelled"}, &corev1.Pod{}); err != nil {
			return err
		}
		return cache.Get(ctx, types.NamespacedName{Namespace: ns, Name: "labelled"}, &batchv1.Job{})
	})
	for _, o := range []client.Object{&corev1.Pod{}, &batchv1.Job{}} {
		if err := cache.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: "unlabelled"}, o); !isNotFound(err) {
			t.Errorf("cache Get of the unlabelled %T: %v, want NotFound", o, err)
		}
	}
	pods := &corev1.PodList{}
	if err := cache.List(context.Background(), pods, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	if len(pods.Items) != 1 || pods.Items[0].Name != "labelled" {
		t.Errorf("cached pods %v, want only the labelled one", names(pods.Items))
	}
}

func names(pods []corev1.Pod) []string {
	out := make([]string, 0, len(pods))
	for _, p := range pods {
		out = append(out, p.Name)
	}
	return out
}

// TestIntegrationTypeControllerForgetsDeletedTypes: a type's schema is dropped
// from the cache when its reconcile finds it gone (a Delete event, or a relist
// after the watch was down) and when it is being deleted.
func TestIntegrationTypeControllerForgetsDeletedTypes(t *testing.T) {
	needEnv(t)
	schemas := paramschema.NewCache()
	r := &AsyncJobTypeReconciler{Client: env.Client, Schemas: schemas, Clock: clock.RealClock{}}
	ctx := context.Background()

	// cached reports whether the cache still holds jt's schema: a held entry
	// is returned as is, a forgotten one is compiled anew.
	cached := func(t *testing.T, jt *asyncjobv1alpha1.AsyncJobType, held *paramschema.Schema) bool {
		t.Helper()
		s, err := schemas.ForType(jt)
		if err != nil {
			t.Fatal(err)
		}
		return s == held
	}
	reconcileType := func(t *testing.T, jt *asyncjobv1alpha1.AsyncJobType) {
		t.Helper()
		if _, err := r.Reconcile(ctx, reconcile.Request{NamespacedName: types.NamespacedName{Name: jt.Name}}); err != nil {
			t.Fatal(err)
		}
	}
	prepare := func(t *testing.T, name string) (*asyncjobv1alpha1.AsyncJobType, *paramschema.Schema) {
		t.Helper()
		jt := convertType(name).Obj()
		mustCreate(t, jt)
		reconcileType(t, jt) // compiles it into the cache
		held, err := schemas.ForType(jt)
		if err != nil || !cached(t, jt, held) {
			t.Fatalf("the type's schema is not cached (err %v)", err)
		}
		return jt, held
	}

	t.Run("gone", func(t *testing.T) {
		jt, held := prepare(t, uniqueTypeName(t))
		if err := env.Client.Delete(ctx, jt); err != nil {
			t.Fatal(err)
		}
		reconcileType(t, jt) // only the name is left
		if cached(t, jt, held) {
			t.Errorf("a deleted type's schema is still cached")
		}
	})
	t.Run("being deleted", func(t *testing.T) {
		jt, held := prepare(t, uniqueTypeName(t))
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(jt), jt); err != nil {
			t.Fatal(err)
		}
		jt.Finalizers = []string{"example.com/hold"}
		if err := env.Client.Update(ctx, jt); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { removeFinalizers(t, jt) })
		if err := env.Client.Delete(ctx, jt); err != nil {
			t.Fatal(err)
		}
		deleting := &asyncjobv1alpha1.AsyncJobType{}
		if err := env.Client.Get(ctx, types.NamespacedName{Name: jt.Name}, deleting); err != nil || deleting.DeletionTimestamp.IsZero() {
			t.Fatalf("the type is not being deleted: %v", fmt.Sprint(err))
		}
		reconcileType(t, jt)
		// Asked with the generation it was cached for (deleting bumps it).
		if cached(t, jt, held) {
			t.Errorf("a type being deleted is still cached")
		}
	})
}
