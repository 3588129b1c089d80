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
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/go-logr/logr/testr"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/asyncjob/asyncjob/test/framework"
)

// newUnitServer builds a server whose Kubernetes client points at a closed
// port: enough for routes that never reach Kubernetes, and an honest
// "API server unreachable" for those that do.
func newUnitServer(t testing.TB, opts ...harnessOption) *Server {
	t.Helper()
	unreachable := &rest.Config{Host: "http://127.0.0.1:1"}
	c, err := client.New(unreachable, client.Options{Scheme: framework.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	tenants, _ := NewTenantNamespaces("{tenant}")
	pods, err := NewLogClient(unreachable)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Cache: c, APIReader: c, Client: c, Pods: pods, Authenticator: NoAuthenticator{Tenant: "dev"},
		Tenants: tenants, Log: testr.NewWithInterface(t, testr.Options{})}
	for _, o := range opts {
		o(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// unitClient talks to srv over a real socket with conformance checks.
func unitClient(t *testing.T, s *Server) (*httptest.Server, *http.Client) {
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return srv, &http.Client{Transport: &conformanceTransport{t: t, next: http.DefaultTransport}}
}

func doUnit(t *testing.T, c *http.Client, method, url string) response {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{Response: resp, body: data}
}

func TestUnknownRouteIsProblem(t *testing.T) {
	srv, c := unitClient(t, newUnitServer(t))
	for _, path := range []string{"/nope", "/v1/jobs/a/b/c", "/v1/jobs/"} {
		r := doUnit(t, c, http.MethodGet, srv.URL+path).expect(t, http.StatusNotFound)
		p := r.problem(t)
		if p.Code != problemRouteNotFound.Code || p.Type != problemRouteNotFound.URI() || p.Instance != path {
			t.Errorf("%s: problem %+v", path, p)
		}
	}
}

func TestWrongMethodIs405WithAllow(t *testing.T) {
	srv, c := unitClient(t, newUnitServer(t))
	cases := map[string]string{ // path -> methods it allows
		"/v1/jobs":          "GET, POST",
		"/v1/jobs/x/cancel": "POST",
		"/openapi.json":     "GET",
	}
	for path, want := range cases {
		r := doUnit(t, c, http.MethodPut, srv.URL+path).expect(t, http.StatusMethodNotAllowed)
		if p := r.problem(t); p.Code != problemMethodNotAllowed.Code {
			t.Errorf("%s: code %s", path, p.Code)
		}
		if got := sortedAllow(r.Header.Get("Allow")); got != want {
			t.Errorf("%s: Allow = %q, want %q", path, got, want)
		}
	}
}

func sortedAllow(h string) string {
	parts := strings.Split(h, ", ")
	for i := range parts {
		for j := i + 1; j < len(parts); j++ {
			if parts[j] < parts[i] {
				parts[i], parts[j] = parts[j], parts[i]
			}
		}
	}
	return strings.Join(parts, ", ")
}

func TestOpenAPIServed(t *testing.T) {
	srv, c := unitClient(t, newUnitServer(t))
	r := doUnit(t, c, http.MethodGet, srv.URL+"/openapi.json").expect(t, http.StatusOK)
	if !strings.Contains(string(r.body), `"openapi":"3.1.0"`) {
		t.Errorf("not an OpenAPI 3.1 document: %.80s", r.body)
	}
}

func TestProbes(t *testing.T) {
	var ready atomic.Bool
	s := newUnitServer(t, func(c *Config) { c.Ready = ready.Load })
	srv, c := unitClient(t, s)
	doUnit(t, c, http.MethodGet, srv.URL+"/healthz").expect(t, http.StatusOK)
	r := doUnit(t, c, http.MethodGet, srv.URL+"/readyz").expect(t, http.StatusServiceUnavailable)
	if r.problem(t).Code != problemNotReady.Code || r.Header.Get("Retry-After") == "" {
		t.Errorf("readyz before sync: %s %v", r.body, r.Header)
	}
	ready.Store(true)
	doUnit(t, c, http.MethodGet, srv.URL+"/readyz").expect(t, http.StatusOK)
}

// TestMetricsCountRequestsByRouteAndCode: requests are counted by route
// template, never by raw path: a job's id does not become a label value.
func TestMetricsCountRequestsByRouteAndCode(t *testing.T) {
	s := newUnitServer(t)
	srv, c := unitClient(t, s)
	const id = "6f1c6c1e-4f0e-4a53-9a8e-2b8f0f0f7a21"
	doUnit(t, c, http.MethodGet, srv.URL+"/healthz").expect(t, http.StatusOK)
	doUnit(t, c, http.MethodGet, srv.URL+"/nope").expect(t, http.StatusNotFound)
	// The unit server's API server is unreachable: 503, through the real route.
	doUnit(t, c, http.MethodGet, srv.URL+"/v1/jobs/"+id).expect(t, http.StatusServiceUnavailable)
	// The API's port does not serve the metrics; MetricsHandler (its own listener) does.
	doUnit(t, c, http.MethodGet, srv.URL+"/metrics").expect(t, http.StatusNotFound)
	msrv := httptest.NewServer(s.MetricsHandler())
	t.Cleanup(msrv.Close)
	r := doUnit(t, http.DefaultClient, http.MethodGet, msrv.URL+"/metrics").expect(t, http.StatusOK)
	for _, want := range []string{
		`asyncjob_http_requests_total{code="200",method="GET",route="/healthz"} 1`,
		`asyncjob_http_requests_total{code="404",method="GET",route="unmatched"} 2`,
		`asyncjob_http_requests_total{code="503",method="GET",route="/v1/jobs/:id"} 1`,
		`asyncjob_http_request_duration_seconds_bucket{method="GET",route="/healthz",le="+Inf"} 1`,
		`asyncjob_http_request_duration_seconds_bucket{method="GET",route="/v1/jobs/:id",le="+Inf"} 1`,
	} {
		if !strings.Contains(string(r.body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	for _, leak := range []string{id, "/nope"} {
		if strings.Contains(string(r.body), leak) {
			t.Errorf("a raw path reached the metrics: %s", leak)
		}
	}
}

// TestUnreachableAPIServerIs503: with the Kubernetes API down, a read answers
// 503 with Retry-After and a problem that leaks nothing of the cause.
func TestUnreachableAPIServerIs503(t *testing.T) {
	srv, c := unitClient(t, newUnitServer(t))
	r := doUnit(t, c, http.MethodGet, srv.URL+"/v1/jobs/6f1c6c1e-4f0e-4a53-9a8e-2b8f0f0f7a21").expect(t, http.StatusServiceUnavailable)
	p := r.problem(t)
	if p.Code != problemUnavailable.Code || r.Header.Get("Retry-After") == "" {
		t.Errorf("problem %+v, Retry-After %q", p, r.Header.Get("Retry-After"))
	}
	if strings.Contains(string(r.body), "127.0.0.1") || strings.Contains(string(r.body), "refused") {
		t.Errorf("internal error text leaked: %s", r.body)
	}
}
