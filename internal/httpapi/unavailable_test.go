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
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"testing"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"

	"github.com/asyncjob/asyncjob/api/v1alpha1"
)

// switchProxy is a TCP proxy in front of the API server that the test can cut
// and restore: a real outage as the API server's clients see it.
type switchProxy struct {
	t      *testing.T
	target string
	addr   string

	mu    sync.Mutex
	l     net.Listener
	conns map[net.Conn]bool
}

func newSwitchProxy(t *testing.T, target string) *switchProxy {
	p := &switchProxy{t: t, target: target, conns: map[net.Conn]bool{}}
	p.listen("127.0.0.1:0")
	t.Cleanup(p.down)
	return p
}

func (p *switchProxy) listen(addr string) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		p.t.Fatal(err)
	}
	p.mu.Lock()
	p.l, p.addr = l, l.Addr().String()
	p.mu.Unlock()
	go func() {
		for {
			in, err := l.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", p.target)
			if err != nil {
				_ = in.Close()
				continue
			}
			p.mu.Lock()
			p.conns[in], p.conns[out] = true, true
			p.mu.Unlock()
			go func() { _, _ = io.Copy(out, in); _ = out.Close() }()
			go func() { _, _ = io.Copy(in, out); _ = in.Close() }()
		}
	}()
}

// down refuses new connections and breaks the open ones.
func (p *switchProxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.l != nil {
		_ = p.l.Close()
		p.l = nil
	}
	for c := range p.conns {
		_ = c.Close()
	}
	p.conns = map[net.Conn]bool{}
}

// up listens again on the same address.
func (p *switchProxy) up() { p.listen(p.addr) }

// TestKubernetesOutage: with the API server unreachable, a submission answers
// 503 with Retry-After and creates nothing; reads of known jobs keep working
// from the cache; and the API recovers by itself when the API server returns.
func TestKubernetesOutage(t *testing.T) {
	if testEnv == nil {
		t.Skip("envtest is not available")
	}
	u, err := url.Parse(testEnv.Config.Host)
	if err != nil {
		t.Fatal(err)
	}
	proxy := newSwitchProxy(t, u.Host)
	cfg := rest.CopyConfig(testEnv.Config)
	cfg.Host = "https://" + proxy.addr
	h := newHarnessWithConfig(t, cfg)
	known := h.submit(h.tenantA, nil)
	h.waitListed(h.tenantA, 1)

	proxy.down()
	body := map[string]any{"type": h.typ, "parameters": map[string]any{"input": "https://example.com/a", "format": "webm"}}
	r := h.request(http.MethodPost, "/v1/jobs", h.tenantA, body, "Idempotency-Key", "during-outage").expect(t, http.StatusServiceUnavailable)
	if p := r.problem(t); p.Code != problemUnavailable.Code || r.Header.Get("Retry-After") == "" {
		t.Errorf("problem %+v, Retry-After %q", p, r.Header.Get("Retry-After"))
	}
	var list v1alpha1.AsyncJobList
	h.must(testEnv.Client.List(context.Background(), &list, clientInNamespace(h.tenantA)))
	if len(list.Items) != 1 {
		t.Errorf("%d AsyncJobs exist after the failed submission, want 1", len(list.Items))
	}
	// Reads of known jobs are served from the cache during the outage; an
	// unknown id cannot be confirmed absent, so it is 503, not 404.
	h.request(http.MethodGet, "/v1/jobs/"+known.ID, h.tenantA, nil).expect(t, http.StatusOK)
	h.request(http.MethodGet, "/v1/jobs/6f1c6c1e-4f0e-4a53-9a8e-2b8f0f0f7a21", h.tenantA, nil).expect(t, http.StatusServiceUnavailable)

	proxy.up()
	h.eventually("submissions work again", func() bool {
		return h.request(http.MethodPost, "/v1/jobs", h.tenantA, body, "Idempotency-Key", "during-outage").StatusCode == http.StatusAccepted
	})
	// Submissions go straight to the API server; reads come from the cache,
	// which must have reconnected by itself: a change made behind the API's
	// back reaches GET and list.
	var aj v1alpha1.AsyncJob
	h.must(testEnv.Client.Get(context.Background(), types.NamespacedName{Namespace: h.tenantA, Name: known.ID}, &aj))
	aj.Status.State = v1alpha1.StateRunning
	h.must(testEnv.Client.Status().Update(context.Background(), &aj))
	h.eventually("GET shows the change made after the outage", func() bool {
		r := h.request(http.MethodGet, "/v1/jobs/"+known.ID, h.tenantA, nil)
		return r.StatusCode == http.StatusOK && r.job(t).Status == StatusRunning
	})
	var running jobList
	h.request(http.MethodGet, "/v1/jobs?status=RUNNING", h.tenantA, nil).expect(t, http.StatusOK).json(t, &running)
	if len(running.Items) != 1 || running.Items[0].ID != known.ID {
		t.Errorf("list of RUNNING jobs: %+v, want only %s", running.Items, known.ID)
	}
}
