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
	"strings"

	"github.com/google/uuid"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/internal/paramschema"
)

// store is the API's view of the cluster: reads from the informer cache,
// writes (and read-your-writes fallbacks) straight to the API server.
type store struct {
	cache  client.Reader
	api    client.Reader
	writer client.Client

	schemas *paramschema.Cache
}

// getJob returns the tenant's job id from namespace ns. A job of another tenant,
// or an id that is not a job id, is "not found", never "forbidden".
func (s *store) getJob(ctx context.Context, ns, tenant, id string) (*v1alpha1.AsyncJob, error) {
	// Only the canonical lowercase form is a job id; anything else cannot name
	// a job, so answer without asking the API server.
	if _, err := uuid.Parse(id); err != nil || len(id) != 36 || id != strings.ToLower(id) {
		return nil, jobNotFound(id)
	}
	key := types.NamespacedName{Namespace: ns, Name: id}
	var aj v1alpha1.AsyncJob
	err := s.cache.Get(ctx, key, &aj)
	if apierrors.IsNotFound(err) {
		// The cache may not have caught up with a job this or another replica
		// just created: ask the API server before answering 404, so a GET
		// right after its POST never misses.
		err = s.api.Get(ctx, key, &aj)
	}
	if apierrors.IsNotFound(err) {
		return nil, jobNotFound(id)
	}
	if err != nil {
		return nil, fromKube(err)
	}
	if aj.Labels[v1alpha1.LabelTenant] != tenant {
		return nil, jobNotFound(id)
	}
	return &aj, nil
}

func jobNotFound(id string) error {
	return newError(ProblemJobNotFound, "no job %q exists for this client", id)
}

// listJobs lists the tenant's jobs from the cache, narrowed by REST labels.
func (s *store) listJobs(ctx context.Context, ns, tenant string, labels map[string]string) ([]v1alpha1.AsyncJob, error) {
	sel := client.MatchingLabels{v1alpha1.LabelTenant: tenant}
	for k, v := range labels {
		sel[labelPrefix+k] = v
	}
	var list v1alpha1.AsyncJobList
	if err := s.cache.List(ctx, &list, client.InNamespace(ns), sel); err != nil {
		return nil, fromKube(err)
	}
	return list.Items, nil
}

// jobType is a submittable type with its compiled parameters schema.
type jobType struct {
	obj    *v1alpha1.AsyncJobType
	schema *paramschema.Schema
}

// getType returns the named type if it exists and is Ready (ok=false otherwise).
func (s *store) getType(ctx context.Context, name string) (jobType, bool, error) {
	var t v1alpha1.AsyncJobType
	err := s.cache.Get(ctx, types.NamespacedName{Name: name}, &t)
	if apierrors.IsNotFound(err) {
		return jobType{}, false, nil
	}
	if err != nil {
		return jobType{}, false, fromKube(err)
	}
	if !t.IsReady() {
		return jobType{}, false, nil
	}
	schema, err := s.schemas.ForType(&t)
	if err != nil {
		// Ready says it compiles; if it does not here, the type is not usable.
		return jobType{}, false, nil
	}
	return jobType{obj: &t, schema: schema}, true, nil
}

// listTypes returns the Ready types.
func (s *store) listTypes(ctx context.Context) ([]v1alpha1.AsyncJobType, error) {
	var list v1alpha1.AsyncJobTypeList
	if err := s.cache.List(ctx, &list); err != nil {
		return nil, fromKube(err)
	}
	out := list.Items[:0]
	for i := range list.Items {
		if list.Items[i].IsReady() {
			out = append(out, list.Items[i])
		}
	}
	return out, nil
}
