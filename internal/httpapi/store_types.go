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

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"

	"github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/internal/paramschema"
)

// submittable is a Ready type with its compiled parameters schema.
type submittable struct {
	obj    *v1alpha1.AsyncJobType
	schema *paramschema.Schema
}

// getType returns the named type if it exists and is Ready (ok=false otherwise).
func (s *store) getType(ctx context.Context, name string) (submittable, bool, error) {
	var t v1alpha1.AsyncJobType
	err := s.cache.Get(ctx, typeKey(name), &t)
	if apierrors.IsNotFound(err) {
		s.schemas.Forget(name)
		return submittable{}, false, nil
	}
	if err != nil {
		return submittable{}, false, fromKube(err, kubeAnswers{})
	}
	if !t.IsReady() {
		return submittable{}, false, nil
	}
	schema, err := s.schemas.ForType(&t)
	if err != nil {
		// Ready says it compiles; if it does not here, the type is not usable.
		return submittable{}, false, nil
	}
	return submittable{obj: &t, schema: schema}, true, nil
}

// cachedType returns the named type as the cache has it, Ready or not, or nil
// when the cache cannot say: for hints such as the polling interval, where a
// default is better than an error.
func (s *store) cachedType(ctx context.Context, name string) *v1alpha1.AsyncJobType {
	var t v1alpha1.AsyncJobType
	if err := s.cache.Get(ctx, typeKey(name), &t); err != nil {
		return nil
	}
	return &t
}

// listTypes returns the Ready types.
func (s *store) listTypes(ctx context.Context) ([]v1alpha1.AsyncJobType, error) {
	var list v1alpha1.AsyncJobTypeList
	if err := s.cache.List(ctx, &list); err != nil {
		return nil, fromKube(err, kubeAnswers{})
	}
	out := list.Items[:0]
	for i := range list.Items {
		if list.Items[i].IsReady() {
			out = append(out, list.Items[i])
		}
	}
	return out, nil
}

// typeKey is the cache key of a cluster-scoped type.
func typeKey(name string) types.NamespacedName { return types.NamespacedName{Name: name} }

// forgetDeletedTypes drops a type's compiled schema when the informer sees the
// type deleted, so the schema cache holds only types that exist (a type that
// is deleted and never asked for again would otherwise stay forever). A Delete
// missed while the watch was down arrives, after the relist, as a tombstone.
func (s *store) forgetDeletedTypes(informers cache.Informers) error {
	// Not blocking on sync: New runs before the cache starts in some callers.
	inf, err := informers.GetInformer(context.Background(), &v1alpha1.AsyncJobType{}, cache.BlockUntilSynced(false))
	if err != nil {
		return err
	}
	_, err = inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		DeleteFunc: func(obj any) {
			if tomb, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
				obj = tomb.Obj
			}
			if t, ok := obj.(*v1alpha1.AsyncJobType); ok {
				s.schemas.Forget(t.Name)
			}
		},
	})
	return err
}
