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

package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/asyncjob/asyncjob/internal/httpapi"
	"github.com/asyncjob/asyncjob/internal/scheme"
	"github.com/asyncjob/asyncjob/test/stack"
)

// HandlerResult is one request kind served by the REST API's handler in this
// process (no network, no HTTP parsing): what a request costs inside the server.
type HandlerResult struct {
	Name        string
	NsPerOp     float64
	AllocsPerOp int64
	BytesPerOp  int64
	// VsHealthz is /healthz's time per request over this kind's.
	VsHealthz float64
}

// newInProcessAPI builds the REST API in this process the way `asyncjob api`
// does (informer cache, API keys from keys, namespaces from template), with
// neither a rate limit nor an unfinished-jobs bound, logging to nowhere. It
// returns once its cache has synced.
func newInProcessAPI(ctx context.Context, cfg *rest.Config, keys types.NamespacedName, template string) (http.Handler, error) {
	gin.SetMode(gin.ReleaseMode)
	s := scheme.New()
	direct, err := httpapi.NewClient(cfg, s, httpapi.DefaultKubeTimeout)
	if err != nil {
		return nil, err
	}
	apiCache, err := httpapi.NewCache(cfg, s, &keys)
	if err != nil {
		return nil, err
	}
	if err := httpapi.StartCache(ctx, apiCache, true, logr.Discard()); err != nil {
		return nil, err
	}
	tenants, err := httpapi.NewTenantNamespaces(template)
	if err != nil {
		return nil, err
	}
	srv, err := httpapi.New(httpapi.Config{
		Cache: apiCache, APIReader: direct, Client: direct,
		Authenticator: &httpapi.APIKeyAuthenticator{Secret: keys},
		Tenants:       tenants,
		// The binary's logger (JSON), writing nowhere: encoding is part of a
		// request's cost, the log file's disk is not.
		Log: zap.New(zap.WriteTo(io.Discard)),
	})
	if err != nil {
		return nil, err
	}
	return srv.Handler(), nil
}

// handlerBench runs the handler benchmarks on an in-process API over the
// stack's cluster, as tenant, cycling through ids.
func (e *env) handlerBench(ctx context.Context, tenant string, ids []string) ([]HandlerResult, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops the in-process API's informers
	keys := types.NamespacedName{Namespace: stack.SystemNamespace, Name: stack.APIKeysSecret}
	h, err := newInProcessAPI(ctx, e.s.Cluster.Config(), keys, stack.Namespace("{tenant}"))
	if err != nil {
		return nil, err
	}
	key := e.s.APIKeys[tenant]
	etags, err := fetchETags(ctx, newHTTPClient(1), e.s.APIURL, key, ids)
	if err != nil {
		return nil, err
	}
	return runHandlerCases(HandlerCases(h, key, ids, etags))
}

// HandlerCase is one benchmark of the handler path: a request kind and the
// status it must answer.
type HandlerCase struct {
	Name string
	// Check sends the request once and says whether the answer was right.
	Check func() error
	Bench func(b *testing.B)
}

// HandlerCases are the read phase's four request kinds as in-process
// benchmarks of h, cycling through ids (etags[i] is ids[i]'s ETag).
func HandlerCases(h http.Handler, key string, ids, etags []string) []HandlerCase {
	get := func(path string, etag string) *http.Request {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		if !strings.HasPrefix(path, "/healthz") {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		if etag != "" {
			req.Header.Set("If-None-Match", etag)
		}
		return req
	}
	jobs := func(withETag bool) []*http.Request {
		reqs := make([]*http.Request, len(ids))
		for i, id := range ids {
			etag := ""
			if withETag {
				etag = etags[i]
			}
			reqs[i] = get("/v1/jobs/"+id, etag)
		}
		return reqs
	}
	return []HandlerCase{
		handlerCase(h, "healthz", http.StatusOK, []*http.Request{get("/healthz", "")}),
		handlerCase(h, "get200", http.StatusOK, jobs(false)),
		handlerCase(h, "get304", http.StatusNotModified, jobs(true)),
		handlerCase(h, "list20", http.StatusOK, []*http.Request{get("/v1/jobs?limit=20", "")}),
	}
}

// handlerCase serves reqs in turn; every answer must have status.
func handlerCase(h http.Handler, name string, status int, reqs []*http.Request) HandlerCase {
	serve := func(req *http.Request) error {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != status {
			return fmt.Errorf("%s: status %d, want %d: %s", req.URL, rec.Code, status, rec.Body.String())
		}
		return nil
	}
	return HandlerCase{
		Name:  name,
		Check: func() error { return serve(reqs[0]) },
		Bench: func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if err := serve(reqs[i%len(reqs)]); err != nil {
					b.Fatal(err)
				}
			}
		},
	}
}

// runHandlerCases runs each case with testing.Benchmark (about a second each).
func runHandlerCases(cases []HandlerCase) ([]HandlerResult, error) {
	out := make([]HandlerResult, 0, len(cases))
	for _, c := range cases {
		if err := c.Check(); err != nil {
			return nil, fmt.Errorf("handler benchmark %s: %w", c.Name, err)
		}
		r := testing.Benchmark(c.Bench)
		out = append(out, HandlerResult{
			Name: c.Name, NsPerOp: float64(r.T.Nanoseconds()) / float64(r.N),
			AllocsPerOp: r.AllocsPerOp(), BytesPerOp: r.AllocedBytesPerOp(),
		})
	}
	for i := range out {
		out[i].VsHealthz = out[0].NsPerOp / out[i].NsPerOp
	}
	return out, nil
}
