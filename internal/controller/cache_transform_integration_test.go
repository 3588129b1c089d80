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
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/test/wrappers"
)

// TestIntegrationCacheDropsManagedFields: the manager's cache (CacheOptions)
// holds AsyncJobs and pods without managedFields, and otherwise as the API
// server has them: the last-applied annotation included (the controller
// updates some cached objects whole, which must not remove it).
func TestIntegrationCacheDropsManagedFields(t *testing.T) {
	needEnv(t)
	mgr, _ := startManagerWith(t, Options{MaxConcurrentReconciles: 2})
	ns := newNamespace(t)
	// A job of a type that does not exist: the controller leaves its spec
	// and metadata alone.
	mustCreate(t, wrappers.MakeAsyncJob("applied", ns).Type("no-such-type").Params(`{}`).
		Label("team", "red").Annotation(corev1.LastAppliedConfigAnnotation, `{"kind":"AsyncJob"}`).Obj())
	mustCreate(t, wrappers.MakePod("p", ns).Label(asyncjobv1alpha1.LabelName, "applied").
		Containers(corev1.Container{Name: "c", Image: "example.com/c:1"}).Obj())

	key := types.NamespacedName{Namespace: ns, Name: "applied"}
	eventually(t, "the AsyncJob and the pod are cached", func(ctx context.Context) error {
		if err := mgr.GetCache().Get(ctx, key, &asyncjobv1alpha1.AsyncJob{}); err != nil {
			return err
		}
		return mgr.GetCache().Get(ctx, types.NamespacedName{Namespace: ns, Name: "p"}, &corev1.Pod{})
	})
	eventually(t, "the cached AsyncJob is the server's but for managedFields", func(ctx context.Context) error {
		var server, cached asyncjobv1alpha1.AsyncJob
		if err := env.Client.Get(ctx, key, &server); err != nil {
			return err
		}
		if err := mgr.GetCache().Get(ctx, key, &cached); err != nil {
			return err
		}
		if len(server.ManagedFields) == 0 {
			return errors.New("the server's copy has no managedFields: the test would prove nothing")
		}
		server.ManagedFields = nil
		cached.TypeMeta = server.TypeMeta
		if diff := cmp.Diff(&server, &cached); diff != "" {
			return errors.New("(-server +cache):\n" + diff)
		}
		return nil
	})
	var pod corev1.Pod
	if err := mgr.GetCache().Get(context.Background(), types.NamespacedName{Namespace: ns, Name: "p"}, &pod); err != nil {
		t.Fatal(err)
	}
	if len(pod.ManagedFields) != 0 || len(pod.Spec.Containers) != 1 || pod.Labels[asyncjobv1alpha1.LabelName] != "applied" {
		t.Errorf("cached pod: %d managedFields entries, containers %v, labels %v", len(pod.ManagedFields), pod.Spec.Containers, pod.Labels)
	}
}
