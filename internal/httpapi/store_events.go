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

	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"

	"github.com/asyncjob/asyncjob/api/v1alpha1"
)

// feedHub registers h on the cache's one AsyncJob informer: every stream and
// held request of this replica shares that watch, and none makes API calls.
func (s *store) feedHub(informers cache.Informers, h *hub) error {
	// Not blocking on sync: New runs before the cache starts in some callers.
	inf, err := informers.GetInformer(context.Background(), &v1alpha1.AsyncJob{}, cache.BlockUntilSynced(false))
	if err != nil {
		return err
	}
	observe := func(obj any, initial, deleted bool) {
		if tomb, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
			obj = tomb.Obj
		}
		aj, ok := obj.(*v1alpha1.AsyncJob)
		if !ok {
			return
		}
		ev, err := render(aj)
		if err != nil {
			return // toJob's types always marshal
		}
		h.observe(ev, initial, deleted)
	}
	reg, err := inf.AddEventHandler(toolscache.ResourceEventHandlerDetailedFuncs{
		AddFunc:    func(obj any, initial bool) { observe(obj, initial, false) },
		UpdateFunc: func(_, obj any) { observe(obj, false, false) },
		DeleteFunc: func(obj any) { observe(obj, false, true) },
	})
	if err != nil {
		return err
	}
	h.mu.Lock()
	h.synced = reg.HasSynced
	h.load = func(key types.NamespacedName) (*jobEvent, bool) {
		var aj v1alpha1.AsyncJob
		if err := s.cache.Get(context.Background(), key, &aj); err != nil {
			return nil, false
		}
		ev, err := render(&aj)
		return ev, err == nil
	}
	h.mu.Unlock()
	return nil
}
