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
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/asyncjob/asyncjob/internal/paramschema"
)

// store is the only code of the API that talks to Kubernetes: handlers and
// authenticators call it, and it answers with AsyncJobs, types and typed
// errors (fromKube, store_errors.go), never with Kubernetes errors. Reads come
// from the informer cache; writes, and the read-your-writes fallbacks, go
// straight to the API server. One file per concern: store_jobs.go,
// store_types.go, store_auth.go, store_logs.go.
type store struct {
	cache  client.Reader
	api    client.Reader
	writer client.Client
	logs   corev1client.PodsGetter // containers' logs (store_logs.go)

	schemas *paramschema.Cache
	// reviews caches TokenReview results (auth_cache.go).
	reviews *reviewCache
	// kueue caches Kueue's pending workloads per LocalQueue (store_kueue.go).
	kueue kueueQueues
	// index orders each tenant's jobs for lists and counts the unfinished
	// ones (store_index.go); nil without an informer cache.
	index *jobIndex
}

func newStore(cfg Config) *store {
	return &store{cache: cfg.Cache, api: cfg.APIReader, writer: cfg.Client, logs: cfg.Pods, schemas: paramschema.NewCache(), reviews: newReviewCache()}
}
