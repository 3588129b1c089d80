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
	"net/http"
	"testing"

	"k8s.io/apimachinery/pkg/types"

	"github.com/asyncjob/asyncjob/api/v1alpha1"
)

// TestTenantIsolation: tenant B gets 404 (never 403) on every endpoint for
// tenant A's job, its list does not show it, and nothing B does changes it.
func TestTenantIsolation(t *testing.T) {
	h := newHarness(t)
	j := h.submit(h.tenantA, map[string]string{"project": "secret"})
	h.submit(h.tenantB, nil)
	h.waitListed(h.tenantA, 1)
	h.waitListed(h.tenantB, 1)
	for _, ep := range []struct{ method, path string }{
		{http.MethodGet, "/v1/jobs/" + j.ID},
		{http.MethodGet, "/v1/jobs/" + j.ID + "/result"},
		{http.MethodPost, "/v1/jobs/" + j.ID + "/cancel"},
		{http.MethodDelete, "/v1/jobs/" + j.ID},
	} {
		r := h.request(ep.method, ep.path, h.tenantB, nil).expect(t, http.StatusNotFound)
		if p := r.problem(t); p.Code != problemJobNotFound.Code {
			t.Errorf("%s %s as B: %+v", ep.method, ep.path, p)
		}
	}
	h.request(http.MethodHead, "/v1/jobs/"+j.ID, h.tenantB, nil).expect(t, http.StatusNotFound)
	for _, q := range []string{"", "label=project%3Dsecret"} {
		for _, id := range h.listAll(h.tenantB, q, nil) {
			if id == j.ID {
				t.Errorf("tenant B lists tenant A's job (%q)", q)
			}
		}
	}
	var aj v1alpha1.AsyncJob
	h.must(h.env.Client.Get(context.Background(), types.NamespacedName{Namespace: h.tenantA, Name: j.ID}, &aj))
	if aj.Spec.Cancel || aj.DeletionTimestamp != nil {
		t.Error("tenant B cancelled or deleted tenant A's job")
	}
	// Still A's.
	h.request(http.MethodGet, "/v1/jobs/"+j.ID, h.tenantA, nil).expect(t, http.StatusOK)
}

// TestTenantLabelIsChecked: even inside the tenant's namespace, an AsyncJob
// without the tenant's label (created by someone else with kubectl) is not shown.
func TestTenantLabelIsChecked(t *testing.T) {
	h := newHarness(t)
	j := h.submit(h.tenantA, nil)
	var aj v1alpha1.AsyncJob
	ctx := context.Background()
	h.must(h.env.Client.Get(ctx, types.NamespacedName{Namespace: h.tenantA, Name: j.ID}, &aj))
	aj.Labels[v1alpha1.LabelTenant] = h.tenantB
	h.must(h.env.Client.Update(ctx, &aj))
	h.eventually("the relabelled job is hidden", func() bool {
		return h.request(http.MethodGet, "/v1/jobs/"+j.ID, h.tenantA, nil).StatusCode == http.StatusNotFound
	})
}

func TestTenantNamespaces(t *testing.T) {
	tn, err := NewTenantNamespaces("asyncjob-{tenant}")
	if err != nil {
		t.Fatal(err)
	}
	if ns, err := tn.Namespace("acme"); err != nil || ns != "asyncjob-acme" {
		t.Errorf("Namespace(acme) = %q, %v", ns, err)
	}
	for _, bad := range []string{"", "Acme", "a.b", "x/y"} {
		if _, err := tn.Namespace(bad); err == nil {
			t.Errorf("tenant %q accepted", bad)
		}
	}
	for _, tmpl := range []string{"static", "{tenant}-{tenant}"} {
		if _, err := NewTenantNamespaces(tmpl); err == nil {
			t.Errorf("template %q accepted", tmpl)
		}
	}
}
