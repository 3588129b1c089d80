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
	"strings"
	"sync"
	"time"
)

// ReadResult is one kind of status read, sent for a fixed time from C clients
// to one API replica.
type ReadResult struct {
	Name string
	// Requests counts answers with the expected status; Unexpected the others
	// (any other status, or a transport error).
	Requests, Unexpected int
	Rate                 float64 // expected answers per second
	Latency              Latencies
	// VsHealthz is Rate over the same replica's /healthz rate in the same run.
	VsHealthz float64
	// APIRequests counts the requests the REST API process sent
	// kube-apiserver while this kind ran (its own FlowSchema's count).
	APIRequests float64
	// ControllerRequests counts the controller's requests in the same time.
	ControllerRequests float64
	// KubeReads counts GET and LIST requests kube-apiserver served for
	// asyncjobs, asyncjobtypes and secrets, from any client, while this kind
	// ran; KubeReadsAll counts them for every resource (the control plane's
	// own background reads included).
	KubeReads, KubeReadsAll float64
}

// readKind is one kind of request of the read phase.
type readKind struct {
	name   string
	status int // the expected answer
	// request builds the i-th request of a client.
	request func(ctx context.Context, i int) (*http.Request, error)
}

// apiResources are what the REST API could read from kube-apiserver to answer
// a poll: the jobs, their types, and the API-key Secret.
var apiResources = map[string]bool{"asyncjobs": true, "asyncjobtypes": true, "secrets": true}

// readKinds are the four kinds of the read phase: /healthz (the server's
// floor: no authentication, no handler work), one job (200), the same job
// with its ETag (304), and the first page of 20 jobs.
func readKinds(base, key string, ids, etags []string) []readKind {
	get := func(path string, headers map[string]string) func(ctx context.Context, i int) (*http.Request, error) {
		return func(ctx context.Context, _ int) (*http.Request, error) {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
			if err != nil {
				return nil, err
			}
			for k, v := range headers {
				req.Header.Set(k, v)
			}
			return req, nil
		}
	}
	auth := map[string]string{"Authorization": "Bearer " + key}
	job := func(withETag bool) func(ctx context.Context, i int) (*http.Request, error) {
		return func(ctx context.Context, i int) (*http.Request, error) {
			j := i % len(ids)
			h := map[string]string{"Authorization": "Bearer " + key}
			if withETag {
				h["If-None-Match"] = etags[j]
			}
			return get("/v1/jobs/"+ids[j], h)(ctx, i)
		}
	}
	return []readKind{
		{name: "GET /healthz", status: http.StatusOK, request: get("/healthz", nil)},
		{name: "GET /v1/jobs/{id} (200)", status: http.StatusOK, request: job(false)},
		{name: "GET /v1/jobs/{id} If-None-Match (304)", status: http.StatusNotModified, request: job(true)},
		{name: "GET /v1/jobs?limit=20", status: http.StatusOK, request: get("/v1/jobs?limit=20", auth)},
	}
}

// fetchETags GETs each job once for its ETag.
func fetchETags(ctx context.Context, hc *http.Client, base, key string, ids []string) ([]string, error) {
	etags := make([]string, len(ids))
	for i, id := range ids {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/jobs/"+id, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := hc.Do(req)
		if err != nil {
			return nil, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		etags[i] = resp.Header.Get("ETag")
		if resp.StatusCode != http.StatusOK || etags[i] == "" {
			return nil, fmt.Errorf("GET /v1/jobs/%s: status %d, ETag %q", id, resp.StatusCode, etags[i])
		}
	}
	return etags, nil
}

// hammer sends k's requests from c clients for d and measures the answers.
func hammer(ctx context.Context, hc *http.Client, k readKind, c int, d time.Duration) ReadResult {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	type tally struct {
		ok, unexpected int
		lat            []time.Duration
	}
	tallies := make([]tally, c)
	start := time.Now()
	var wg sync.WaitGroup
	for w := range c {
		wg.Go(func() {
			t := &tallies[w]
			for i := w; ctx.Err() == nil; i += c {
				req, err := k.request(ctx, i)
				if err != nil {
					t.unexpected++
					continue
				}
				t0 := time.Now()
				resp, err := hc.Do(req)
				if err != nil {
					if ctx.Err() == nil { // not merely the end of the run
						t.unexpected++
					}
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				if resp.StatusCode != k.status {
					t.unexpected++
					continue
				}
				t.ok++
				t.lat = append(t.lat, time.Since(t0))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	r := ReadResult{Name: k.name}
	var all []time.Duration
	for _, t := range tallies {
		r.Requests += t.ok
		r.Unexpected += t.unexpected
		all = append(all, t.lat...)
	}
	r.Rate = float64(r.Requests) / elapsed.Seconds()
	r.Latency = summarise(all)
	return r
}

// reads runs every read kind for the read duration at concurrency c against
// the API, cycling through ids, with kube-apiserver's read counters around each.
func (e *env) reads(ctx context.Context, tenant string, ids []string, c int) ([]ReadResult, error) {
	hc := newHTTPClient(c)
	key := e.s.APIKeys[tenant]
	etags, err := fetchETags(ctx, hc, e.s.APIURL, key, ids)
	if err != nil {
		return nil, err
	}
	return e.hammerAll(ctx, hc, readKinds(e.s.APIURL, key, ids, etags), c)
}

// hammerAll runs each kind in turn, with kube-apiserver's read counters
// around each; the first kind is the /healthz the others are compared with.
func (e *env) hammerAll(ctx context.Context, hc *http.Client, kinds []readKind, c int) ([]ReadResult, error) {
	rc := e.cs.CoreV1().RESTClient()
	out := make([]ReadResult, 0, len(kinds))
	for _, k := range kinds {
		before, err := scrapeCounters(ctx, rc)
		if err != nil {
			return nil, err
		}
		r := hammer(ctx, hc, k, c, e.o.ReadDuration)
		after, err := scrapeCounters(ctx, rc)
		if err != nil {
			return nil, err
		}
		delta := after.since(before)
		r.APIRequests = delta.flows[identityAPI]
		r.ControllerRequests = delta.flows[identityController]
		for res, n := range delta.requests.byResource(readVerbs) {
			if res == "" { // non-resource paths: /metrics (these scrapes), /healthz
				continue
			}
			r.KubeReadsAll += n
			if base, _, _ := strings.Cut(res, "/"); apiResources[base] {
				r.KubeReads += n
			}
		}
		out = append(out, r)
	}
	for i := range out {
		if out[0].Rate > 0 {
			out[i].VsHealthz = out[i].Rate / out[0].Rate
		}
	}
	return out, nil
}

// newHTTPClient is a keep-alive client for c concurrent requests to one host,
// as a load balancer or an application's connection pool would hold.
func newHTTPClient(c int) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = c * 2
	t.MaxIdleConnsPerHost = c * 2
	return &http.Client{Transport: t, Timeout: 30 * time.Second}
}
