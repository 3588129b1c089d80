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

// What the REST API may do in the cluster; `make manifests` generates
// config/rbac/api/role.yaml from these markers, separately from the
// controller's role. The API-key Secret is read in its own namespace only
// ("system" becomes the install namespace through kustomize).

// +kubebuilder:rbac:groups=asyncjob.io,resources=asyncjobs,verbs=get;list;watch;create;patch;delete
// Worker callbacks write status.progress and status.result (optimistic
// concurrency, so the controller's own status writes are never overwritten).
// +kubebuilder:rbac:groups=asyncjob.io,resources=asyncjobs/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=asyncjob.io,resources=asyncjobtypes,verbs=get;list;watch
// +kubebuilder:rbac:groups=authentication.k8s.io,resources=tokenreviews,verbs=create
// +kubebuilder:rbac:groups="",namespace=system,resources=secrets,verbs=get;list;watch
// Logs (store_logs.go): the pods of tenants' Jobs, listed by label, and their
// containers' logs. Cluster-wide like AsyncJobs: tenants' namespaces are not
// known when the role is made.
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list
// +kubebuilder:rbac:groups="",resources=pods/log,verbs=get
// asyncjob's ConfigMaps, watched by the label asyncjob.io/config in every
// namespace; the API never writes them: the tombstones of TTL-removed jobs
// (internal/tombstone) and the tenants' default webhooks (jobs_webhook.go).
// +kubebuilder:rbac:groups="",resources=configmaps,verbs=get;list;watch
// Webhooks: the tenants' signing Secrets, created on first use and rotated
// (store_webhooks.go). Get and update name that one Secret; create cannot be
// narrowed by name in RBAC.
// +kubebuilder:rbac:groups="",resources=secrets,verbs=create
// +kubebuilder:rbac:groups="",resources=secrets,resourceNames=asyncjob-webhook-signing,verbs=get;update
