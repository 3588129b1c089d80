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

package cachetransform

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"

	"github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/test/wrappers"
)

// cachedJob is an AsyncJob as a watch delivers it: what asyncjob reads
// (spec, status, its labels and annotations) plus the API server's and
// kubectl's bookkeeping.
func cachedJob() *v1alpha1.AsyncJob {
	aj := wrappers.MakeAsyncJob("j", "ns").Tenant("t").Type("convert").Params(`{"format":"webm"}`).
		Label("labels.asyncjob.io/project", "x").
		Annotation(v1alpha1.AnnotationSubmittedAt, "2026-12-02T10:00:00.123Z").
		Annotation(corev1.LastAppliedConfigAnnotation, `{"apiVersion":"asyncjob.io/v1alpha1","kind":"AsyncJob"}`).
		State(v1alpha1.StateRunning).Obj()
	aj.ResourceVersion, aj.UID, aj.Finalizers = "42", "u-1", []string{"asyncjob.io/x"}
	aj.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "asyncjob-api", Operation: metav1.ManagedFieldsOperationUpdate,
		FieldsType: "FieldsV1", FieldsV1: metav1.NewFieldsV1(`{"f:spec":{"f:type":{}}}`)}}
	return aj
}

// TestStripForReading drops managedFields and the last-applied annotation,
// keeps everything else as it was, and is idempotent (informers may apply
// it twice).
func TestStripForReading(t *testing.T) {
	want := cachedJob()
	want.ManagedFields = nil
	delete(want.Annotations, corev1.LastAppliedConfigAnnotation)
	strip := StripForReading()
	got, err := strip(cachedJob())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("stripped (-want +got):\n%s", diff)
	}
	again, err := strip(got)
	if err != nil || !cmp.Equal(want, again) {
		t.Errorf("a second pass changed it (%v): %s", err, cmp.Diff(want, again))
	}

	// An object whose only annotation was last-applied keeps no empty map.
	only := wrappers.MakeAsyncJob("k", "ns").Annotation(corev1.LastAppliedConfigAnnotation, "{}").Obj()
	if out, _ := strip(only); out.(*v1alpha1.AsyncJob).Annotations != nil {
		t.Errorf("annotations %v, want none", out.(*v1alpha1.AsyncJob).Annotations)
	}
	// A tombstone is not an object: left as it is.
	tomb := toolscache.DeletedFinalStateUnknown{Key: "ns/j", Obj: cachedJob()}
	if out, err := strip(tomb); err != nil || !cmp.Equal(out, any(tomb)) {
		t.Errorf("tombstone changed (%v)", err)
	}
}

// TestStripManagedFields keeps the last-applied annotation (the controller
// updates some cached objects whole) and drops only managedFields.
func TestStripManagedFields(t *testing.T) {
	want := cachedJob()
	want.ManagedFields = nil
	got, err := StripManagedFields()(cachedJob())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("stripped (-want +got):\n%s", diff)
	}
}
