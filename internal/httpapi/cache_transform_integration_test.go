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

package httpapi

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/test/wrappers"
)

// TestCacheKeepsWhatTheAPIReads: the API's informer cache (NewCache) holds
// each AsyncJob exactly as the API server has it (spec, status, labels,
// annotations, metadata), except managedFields and kubectl's last-applied
// annotation; the API keys Secret keeps its data without managedFields.
func TestCacheKeepsWhatTheAPIReads(t *testing.T) {
	h := newHarness(t)
	ctx := t.Context()
	id := jobIDForKey(h.tenantA, "cache-transform")
	aj := wrappers.MakeAsyncJob(id, h.tenantA).Tenant(h.tenantA).Type(h.typ).
		Params(`{"input":"https://example.com/a.mov","format":"webm"}`).
		Label(labelPrefix+"project", "x").
		Annotation(v1alpha1.AnnotationSubmittedAt, "2026-12-02T10:00:00.123Z").
		Annotation(corev1.LastAppliedConfigAnnotation, `{"kind":"AsyncJob","spec":{"type":"`+h.typ+`"}}`).Obj()
	h.must(h.env.Client.Create(ctx, aj))
	h.setStatus(h.tenantA, id, func(s *v1alpha1.AsyncJobStatus) {
		s.State, s.Attempts, s.JobName = v1alpha1.StateRunning, 1, id
	})

	key := types.NamespacedName{Namespace: h.tenantA, Name: id}
	var server, cached v1alpha1.AsyncJob
	h.must(h.server.store.api.Get(ctx, key, &server))
	h.must(h.server.store.cache.Get(ctx, key, &cached))
	if len(server.ManagedFields) == 0 || server.Annotations[corev1.LastAppliedConfigAnnotation] == "" {
		t.Fatalf("the API server's copy has no managedFields or no last-applied annotation: the test proves nothing")
	}
	want := server.DeepCopy()
	want.ManagedFields = nil
	delete(want.Annotations, corev1.LastAppliedConfigAnnotation)
	// The typed meta is the client's, not the object's.
	cached.TypeMeta, want.TypeMeta = server.TypeMeta, server.TypeMeta
	if diff := cmp.Diff(want, &cached); diff != "" {
		t.Errorf("cached AsyncJob (-server, stripped +cache):\n%s", diff)
	}

	var sec, cachedSec corev1.Secret
	h.must(h.server.store.api.Get(ctx, h.keysRef, &sec))
	h.must(h.server.store.cache.Get(ctx, h.keysRef, &cachedSec))
	if len(cachedSec.ManagedFields) != 0 || !cmp.Equal(sec.Data, cachedSec.Data) {
		t.Errorf("cached keys Secret: %d managedFields entries, data equal: %v", len(cachedSec.ManagedFields), cmp.Equal(sec.Data, cachedSec.Data))
	}
}
