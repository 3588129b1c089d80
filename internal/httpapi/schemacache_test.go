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
	"context"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/asyncjob/asyncjob/api/v1alpha1"
)

// A deleted type's compiled schema is dropped on the informer's Delete event,
// not only when somebody asks for the type again.
func TestSchemaCacheForgetsDeletedTypes(t *testing.T) {
	h := newHarness(t)
	h.submit(h.tenantA, nil)
	if !h.server.store.schemas.Has(h.typ) {
		t.Fatalf("after a submission, type %s has no compiled schema", h.typ)
	}
	h.must(testEnv.Client.Delete(context.Background(), &v1alpha1.AsyncJobType{ObjectMeta: metav1.ObjectMeta{Name: h.typ}}))
	// No request names the type again: only the Delete event can forget it.
	h.eventually("the deleted type's schema to be forgotten", func() bool {
		return !h.server.store.schemas.Has(h.typ)
	})
}
