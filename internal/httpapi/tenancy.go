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
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// tenantPlaceholder is replaced by the tenant's name in a namespace template.
const tenantPlaceholder = "{tenant}"

// TenantNamespaces maps a tenant to the namespace its AsyncJobs live in, by a
// template such as "asyncjob-{tenant}". One namespace per tenant is what makes
// isolation hold: every read and write is scoped to the caller's namespace, and
// the tenant label is checked as well.
type TenantNamespaces struct {
	template string
}

// NewTenantNamespaces checks the template: it must contain {tenant} once.
func NewTenantNamespaces(template string) (TenantNamespaces, error) {
	if strings.Count(template, tenantPlaceholder) != 1 {
		return TenantNamespaces{}, fmt.Errorf("tenant namespace template %q must contain %s exactly once", template, tenantPlaceholder)
	}
	return TenantNamespaces{template: template}, nil
}

// Namespace returns the tenant's namespace, or an error when the result is
// not a valid namespace name.
func (t TenantNamespaces) Namespace(tenant string) (string, error) {
	if errs := validation.IsDNS1123Label(tenant); len(errs) > 0 {
		return "", fmt.Errorf("tenant %q is not a DNS label: %s", tenant, strings.Join(errs, "; "))
	}
	ns := strings.Replace(t.template, tenantPlaceholder, tenant, 1)
	if errs := validation.IsDNS1123Label(ns); len(errs) > 0 {
		return "", fmt.Errorf("namespace %q for tenant %q is invalid: %s", ns, tenant, strings.Join(errs, "; "))
	}
	return ns, nil
}
