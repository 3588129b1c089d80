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
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// routeKind is who may call a route.
type routeKind string

const (
	// kindPublic needs no credentials (probes, the OpenAPI document, metrics).
	kindPublic routeKind = "public"
	// kindClient needs a client credential (API key or Kubernetes token).
	kindClient routeKind = "client"
	// kindWorker needs a job's worker token (ajw1...), valid for that job only.
	kindWorker routeKind = "worker"
)

// routeClass is what the security tests expect of one route.
type routeClass struct {
	kind routeKind
	// jobScoped routes name a job in :id: another tenant's job must answer
	// exactly as a job that never existed.
	jobScoped bool
}

// routeClasses classifies every route the server serves, "METHOD /template"
// as gin registers it. TestEveryRouteIsClassified fails for a route missing
// here, so a new route cannot skip the security tests below.
var routeClasses = map[string]routeClass{
	"GET /healthz":      {kind: kindPublic},
	"GET /readyz":       {kind: kindPublic},
	"GET /openapi.json": {kind: kindPublic},

	"POST /v1/jobs":            {kind: kindClient},
	"GET /v1/jobs":             {kind: kindClient},
	"GET /v1/jobs/:id":         {kind: kindClient, jobScoped: true},
	"HEAD /v1/jobs/:id":        {kind: kindClient, jobScoped: true},
	"DELETE /v1/jobs/:id":      {kind: kindClient, jobScoped: true},
	"POST /v1/jobs/:id/cancel": {kind: kindClient, jobScoped: true},
	"GET /v1/jobs/:id/result":  {kind: kindClient, jobScoped: true},
	"GET /v1/jobs/:id/logs":    {kind: kindClient, jobScoped: true},
	"GET /v1/jobs/:id/events":  {kind: kindClient, jobScoped: true},
	"GET /v1/jobs/events":      {kind: kindClient},
	// The job's own worker token only: no tenant, so nothing tenant-scoped.
	"POST /v1/jobs/:id/progress": {kind: kindWorker},
	"PUT /v1/jobs/:id/result":    {kind: kindWorker},
	// Artifacts: the client reads its job's files; the worker its inputs,
	// and writes its outputs.
	"GET /v1/jobs/:id/artifacts":        {kind: kindClient, jobScoped: true},
	"GET /v1/jobs/:id/artifacts/:name":  {kind: kindClient, jobScoped: true},
	"HEAD /v1/jobs/:id/artifacts/:name": {kind: kindClient, jobScoped: true},
	"GET /v1/jobs/:id/inputs/:name":     {kind: kindWorker},
	"PUT /v1/jobs/:id/outputs/:name":    {kind: kindWorker},
	"GET /v1/types":                     {kind: kindClient},
	"GET /v1/types/:name":               {kind: kindClient},
	// Webhooks: the delivery log is per job, the signing secret per tenant.
	"GET /v1/jobs/:id/webhook-deliveries":                        {kind: kindClient, jobScoped: true},
	"POST /v1/jobs/:id/webhook-deliveries/:deliveryId/redeliver": {kind: kindClient, jobScoped: true},
	"GET /v1/webhooks/secret":                                    {kind: kindClient},
	"POST /v1/webhooks/secret/rotate":                            {kind: kindClient},
}

// servedRoute is one route of the router with its classification.
type servedRoute struct {
	method, template string
	class            routeClass
}

// servedRoutes walks s's router: the list the security tests run over.
func servedRoutes(t *testing.T, s *Server) []servedRoute {
	t.Helper()
	var out []servedRoute
	for _, r := range s.engine.Routes() {
		key := r.Method + " " + r.Path
		class, ok := routeClasses[key]
		if !ok {
			t.Errorf("route %s is not classified in routeClasses (routes_test.go): say whether it is public, client or worker", key)
			continue
		}
		out = append(out, servedRoute{method: r.Method, template: r.Path, class: class})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].method+out[i].template < out[j].method+out[j].template })
	return out
}

// path fills a route template's parameters.
func (r servedRoute) path(jobID, typeName string) string {
	p := strings.ReplaceAll(r.template, ":deliveryId", "msg_unknown")
	p = strings.ReplaceAll(p, ":id", jobID)
	return strings.ReplaceAll(p, ":name", typeName)
}

// TestEveryRouteIsClassified: the classification and the router agree both
// ways, so a new route joins the security tests by construction.
func TestEveryRouteIsClassified(t *testing.T) {
	s := newUnitServer(t)
	served := map[string]bool{}
	for _, r := range servedRoutes(t, s) {
		served[r.method+" "+r.template] = true
	}
	for key := range routeClasses {
		if !served[key] {
			t.Errorf("routeClasses lists %s, which the server does not serve", key)
		}
	}
}

// TestRouteSecurity runs over every served route: a client route without or
// with wrong credentials is a 401 problem; a job-scoped route answers another
// tenant's job with the same 404 body as a job that never existed; a public
// route needs no credentials; a worker token opens no client route and a
// client key (even the job owner's) no worker route.
func TestRouteSecurity(t *testing.T) {
	h := newHarness(t, withWorkerKey)
	ownJob := h.submit(h.tenantA, nil)
	workerToken := h.workerToken(h.tenantA, ownJob.ID)
	missing := uuid.NewString()
	for _, r := range servedRoutes(t, h.server) {
		name := r.method + " " + r.template
		t.Run(name, func(t *testing.T) {
			path := r.path(ownJob.ID, h.typ)
			switch r.class.kind {
			case kindPublic:
				if got := h.request(r.method, path, "", nil); got.StatusCode == http.StatusUnauthorized {
					t.Errorf("public route answered 401 without credentials")
				}
				return
			case kindClient, kindWorker:
				for _, cred := range []string{"", "Bearer wrong", "Basic dXNlcjpwYXNz"} {
					var got response
					if cred == "" {
						got = h.request(r.method, path, "", nil)
					} else {
						got = h.request(r.method, path, "", nil, "Authorization", cred)
					}
					expectUnauthenticated(t, got, cred)
				}
				// The other kind's valid credential, for this very job.
				cred := "Bearer " + workerToken
				if r.class.kind == kindWorker {
					cred = "Bearer " + h.keys[h.tenantA]
				}
				expectUnauthenticated(t, h.request(r.method, path, "", nil, "Authorization", cred), string(r.class.kind)+" route, the other kind's credential")
			default:
				t.Fatalf("unknown route kind %q", r.class.kind)
			}
			if !r.class.jobScoped {
				return
			}
			// Tenant B asks for A's job, then for a job that never existed.
			other := h.request(r.method, path, h.tenantB, nil)
			never := h.request(r.method, r.path(missing, h.typ), h.tenantB, nil)
			expectSameNotFound(t, r.method, other, ownJob.ID, never, missing)
		})
	}
	// Nothing above touched A's job.
	h.request(http.MethodGet, "/v1/jobs/"+ownJob.ID, h.tenantA, nil).expect(t, http.StatusOK)
}

func expectUnauthenticated(t *testing.T, r response, cred string) {
	t.Helper()
	if r.StatusCode != http.StatusUnauthorized {
		t.Errorf("credential %q: status %d, want 401; body %s", cred, r.StatusCode, r.body)
		return
	}
	if r.Request.Method == http.MethodHead {
		return // no body to read
	}
	if p := r.problem(t); p.Code != problemUnauthenticated.Code {
		t.Errorf("credential %q: problem %+v", cred, p)
	}
	if r.Header.Get("WWW-Authenticate") == "" {
		t.Errorf("credential %q: 401 without WWW-Authenticate", cred)
	}
}

// expectSameNotFound: both answers are 404 and, once each id is replaced by a
// placeholder, byte for byte the same problem, with the same headers that
// could tell them apart.
func expectSameNotFound(t *testing.T, method string, other response, otherID string, never response, neverID string) {
	t.Helper()
	if other.StatusCode != http.StatusNotFound || never.StatusCode != http.StatusNotFound {
		t.Fatalf("another tenant's job: %d %s; a missing job: %d %s", other.StatusCode, other.body, never.StatusCode, never.body)
	}
	for _, hd := range []string{"Content-Type", "Retry-After", "ETag", "Location", "Sunset"} {
		if other.Header.Get(hd) != never.Header.Get(hd) {
			t.Errorf("%s differs: %q vs %q", hd, other.Header.Get(hd), never.Header.Get(hd))
		}
	}
	if method == http.MethodHead {
		return
	}
	a := strings.ReplaceAll(string(other.body), otherID, "{id}")
	b := strings.ReplaceAll(string(never.body), neverID, "{id}")
	if a != b {
		t.Errorf("another tenant's job and a missing job differ:\n%s\n%s", a, b)
	}
	if p := other.problem(t); p.Code != problemJobNotFound.Code {
		t.Errorf("problem %+v, want %s", p, problemJobNotFound.Code)
	}
}
