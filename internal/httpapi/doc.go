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

// Package httpapi is the REST facade over AsyncJobs: it authenticates a client,
// maps it to a tenant and that tenant to a namespace, and creates, reads, cancels
// and deletes AsyncJobs there. A handler decodes and validates the request,
// calls the store (store.go), the only code that talks to Kubernetes, and
// returns a typed error; one middleware (problemMiddleware) renders every error
// as an RFC 9457 problem. Reads come from an informer cache.
//
// The package holds no state that several API replicas could disagree on: job
// ids, idempotency keys and request fingerprints all live on the AsyncJob.
// The only in-process state is derived (compiled schemas) or deliberately local
// (the per-replica rate limiter, see ratelimit.go).
package httpapi
