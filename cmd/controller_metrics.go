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

package main

import (
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
)

// controllerMetrics is the manager's metrics server, as the kubebuilder
// scaffold builds it: secure (the default) serves HTTPS (a self-signed
// certificate) and answers only bearer tokens the API server authenticates
// and authorizes for a GET on the non-resource URL /metrics; otherwise plain
// HTTP for anyone who can connect (bind it to localhost then). The RBAC the
// filters need is in internal/controller/metrics_rbac.go.
func controllerMetrics(bindAddress string, secure bool) metricsserver.Options {
	o := metricsserver.Options{BindAddress: bindAddress, SecureServing: secure}
	if secure {
		o.FilterProvider = filters.WithAuthenticationAndAuthorization
	}
	return o
}
