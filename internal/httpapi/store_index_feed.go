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

	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/asyncjob/asyncjob/api/v1alpha1"
)

// feedIndex registers the job index on the cache's one AsyncJob informer
// (the hub's too, store_events.go): keeping it costs no API call.
func (s *store) feedIndex(informers cache.Informers) error {
	// Not blocking on sync: New runs before the cache starts in some callers.
	inf, err := informers.GetInformer(context.Background(), &v1alpha1.AsyncJob{}, cache.BlockUntilSynced(false))
	if err != nil {
		return err
	}
	x := newJobIndex()
	observe := func(obj any, deleted bool) {
		if tomb, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
			obj = tomb.Obj
		}
		if aj, ok := obj.(*v1alpha1.AsyncJob); ok {
			x.observe(aj, deleted)
		}
	}
	reg, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { observe(obj, false) },
		UpdateFunc: func(_, obj any) { observe(obj, false) },
		DeleteFunc: func(obj any) { observe(obj, true) },
	})
	if err != nil {
		return err
	}
	x.synced = reg.HasSynced
	s.index = x
	return nil
}

// listPage returns the first n of the tenant's jobs in ns that match f, after
// f's token, in list order (newerFirst). They are the cache's objects: read
// them, never modify them. From the index once it has synced; before that
// (or with a cache that is no informer, in some tests) from a scan of the
// cache, indexed for this one answer, so both give the same page.
func (s *store) listPage(ctx context.Context, ns, tenant string, f listFilter, n int) ([]*v1alpha1.AsyncJob, error) {
	if s.index != nil && s.index.synced() {
		return s.index.page(ns, tenant, f, n), nil
	}
	t, err := s.scanTenant(ctx, ns, tenant)
	if err != nil {
		return nil, err
	}
	return t.page(f, n), nil
}

// unfinishedJobs counts the tenant's jobs in ns that are not finished: O(1)
// from the index, a scan of the cache until it has synced.
func (s *store) unfinishedJobs(ctx context.Context, ns, tenant string) (int, error) {
	if s.index != nil && s.index.synced() {
		return s.index.unfinished(ns, tenant), nil
	}
	t, err := s.scanTenant(ctx, ns, tenant)
	if err != nil {
		return 0, err
	}
	return t.unfinished, nil
}

// scanTenant indexes the tenant's jobs in ns as the cache lists them now.
func (s *store) scanTenant(ctx context.Context, ns, tenant string) (*tenantJobs, error) {
	var list v1alpha1.AsyncJobList
	if err := s.cache.List(ctx, &list, client.InNamespace(ns), client.MatchingLabels{v1alpha1.LabelTenant: tenant}); err != nil {
		return nil, fromKube(err, kubeAnswers{})
	}
	t := newTenantJobs()
	for i := range list.Items {
		t.add(&list.Items[i])
	}
	return t, nil
}
