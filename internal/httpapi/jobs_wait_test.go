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
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/asyncjob/asyncjob/api/v1alpha1"
)

// countingReader counts the reads that reach the API server.
type countingReader struct {
	client.Reader
	n atomic.Int64
}

func (c *countingReader) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	c.n.Add(1)
	return c.Reader.Get(ctx, key, obj, opts...)
}

func (c *countingReader) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	c.n.Add(1)
	return c.Reader.List(ctx, list, opts...)
}

// finishWhenHeld completes job id once n requests are held on the hub (the
// POST's or GET's wait, plus any streams), as a fast worker would.
func (h *harness) finishWhenHeld(tenant, id string, n int, mutate func(*v1alpha1.AsyncJobStatus)) chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		deadline := time.Now().Add(30 * time.Second)
		for h.server.hub.subscribers() < n && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		ctx := context.Background()
		var aj v1alpha1.AsyncJob
		if err := h.env.Client.Get(ctx, client.ObjectKey{Namespace: tenant, Name: id}, &aj); err != nil {
			h.t.Error(err)
			return
		}
		mutate(&aj.Status)
		if err := h.env.Client.Status().Update(ctx, &aj); err != nil {
			h.t.Error(err)
		}
	}()
	return done
}

func submitBody(h *harness) map[string]any {
	return map[string]any{"type": h.typ, "parameters": map[string]any{"input": "https://example.com/a.mov", "format": "webm"}}
}

// TestPreferWaitOnSubmit: Prefer: wait=N answers 200 with the finished job
// (and its result) when it finishes within N seconds, the usual 202 after N
// otherwise; Preference-Applied says the wait was honoured; malformed
// preferences are ignored; replays of an Idempotency-Key wait the same way.
func TestPreferWaitOnSubmit(t *testing.T) {
	h := newHarness(t)
	t.Run("fast job: 200 with its result", func(t *testing.T) {
		key := "fast-" + randomSuffix()
		id := jobIDForKey(h.tenantA, key)
		done := h.finishWhenHeld(h.tenantA, id, 1, completed)
		r := h.request(http.MethodPost, "/v1/jobs", h.tenantA, submitBody(h),
			"Idempotency-Key", key, "Prefer", "respond-async, WAIT = 30; foo=bar").expect(t, http.StatusOK)
		<-done
		j := r.job(t)
		if j.ID != id || j.Status != StatusCompleted || string(j.Result) != `{"url":"https://example.com/out.webm"}` {
			t.Errorf("job %s", r.body)
		}
		if r.Header.Get(headerPreferenceApplied) != "wait=30" || !strings.Contains(r.Header.Get("Vary"), "Prefer") ||
			r.Header.Get("Location") != jobPath(id) || r.Header.Get("Content-Location") != jobPath(id) || r.Header.Get("Retry-After") != "" {
			t.Errorf("headers %v", r.Header)
		}
		// A replay of the key, with the same preference, finds it finished.
		replay := h.request(http.MethodPost, "/v1/jobs", h.tenantA, submitBody(h), "Idempotency-Key", key, "Prefer", "wait=5").expect(t, http.StatusOK)
		if replay.Header.Get("Idempotent-Replayed") != "true" || replay.job(t).Status != StatusCompleted {
			t.Errorf("replay: %v %s", replay.Header, replay.body)
		}
		// Without the preference a replay answers 202, as before.
		h.request(http.MethodPost, "/v1/jobs", h.tenantA, submitBody(h), "Idempotency-Key", key).expect(t, http.StatusAccepted)
	})
	t.Run("slow job: 202 after the wait", func(t *testing.T) {
		var held atomic.Bool
		stop := make(chan struct{})
		go func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if h.server.hub.subscribers() > 0 {
					held.Store(true)
				}
				time.Sleep(5 * time.Millisecond)
			}
		}()
		r := h.request(http.MethodPost, "/v1/jobs", h.tenantA, submitBody(h), "Prefer", "wait=1").expect(t, http.StatusAccepted)
		close(stop)
		if r.Header.Get(headerPreferenceApplied) != "wait=1" || r.job(t).Status != StatusPending || r.Header.Get("Retry-After") == "" {
			t.Errorf("headers %v body %s", r.Header, r.body)
		}
		if !held.Load() {
			t.Errorf("the request was never held on the hub")
		}
	})
	t.Run("clamped to 60", func(t *testing.T) {
		key := "clamp-" + randomSuffix()
		done := h.finishWhenHeld(h.tenantA, jobIDForKey(h.tenantA, key), 1, completed)
		r := h.request(http.MethodPost, "/v1/jobs", h.tenantA, submitBody(h), "Idempotency-Key", key, "Prefer", "wait=100000000000000000000").expect(t, http.StatusOK)
		<-done
		if got := r.Header.Get(headerPreferenceApplied); got != "wait=60" {
			t.Errorf("Preference-Applied %q, want wait=60", got)
		}
	})
	for _, p := range []string{"wait=abc", "wait=-1", "wait", "wait=0", `wait="5`, "handling=lenient"} {
		t.Run("ignored "+p, func(t *testing.T) {
			r := h.request(http.MethodPost, "/v1/jobs", h.tenantA, submitBody(h), "Prefer", p).expect(t, http.StatusAccepted)
			if r.Header.Get(headerPreferenceApplied) != "" {
				t.Errorf("Preference-Applied %q for %q", r.Header.Get(headerPreferenceApplied), p)
			}
		})
	}
}

// TestPreferWaitLongPoll: a GET with If-None-Match and Prefer: wait=N is held
// until the representation changes (200 with the new ETag) or N elapses
// (304), and the hold costs no API-server call.
func TestPreferWaitLongPoll(t *testing.T) {
	var api *countingReader
	h := newHarness(t, func(cfg *Config) { api = &countingReader{Reader: cfg.APIReader}; cfg.APIReader = api })
	j := h.submit(h.tenantA, nil)
	// The cache has it, so the GETs below need no read-through to the API server.
	h.waitHub(h.server, h.tenantA, j.ID, h.kubeJob(h.tenantA, j.ID).ResourceVersion)
	path := "/v1/jobs/" + j.ID
	first := h.request(http.MethodGet, path, h.tenantA, nil).expect(t, http.StatusOK)
	etag := first.Header.Get("ETag")
	if !strings.Contains(first.Header.Get("Vary"), "Prefer") {
		t.Errorf("Vary %q", first.Header.Get("Vary"))
	}

	t.Run("returns on change", func(t *testing.T) {
		before := api.n.Load()
		done := h.finishWhenHeld(h.tenantA, j.ID, 1, running)
		r := h.request(http.MethodGet, path, h.tenantA, nil, "If-None-Match", etag, "Prefer", "wait=30").expect(t, http.StatusOK)
		<-done
		if r.job(t).Status != StatusRunning || r.Header.Get("ETag") == etag || r.Header.Get(headerPreferenceApplied) != "wait=30" {
			t.Errorf("headers %v body %s", r.Header, r.body)
		}
		if n := api.n.Load() - before; n != 0 {
			t.Errorf("the held request made %d API-server reads", n)
		}
		etag = r.Header.Get("ETag")
	})
	t.Run("304 when nothing changes", func(t *testing.T) {
		before := api.n.Load()
		r := h.request(http.MethodGet, path, h.tenantA, nil, "If-None-Match", etag, "Prefer", "wait=1").expect(t, http.StatusNotModified)
		if r.Header.Get("ETag") != etag || r.Header.Get(headerPreferenceApplied) != "wait=1" {
			t.Errorf("headers %v", r.Header)
		}
		if n := api.n.Load() - before; n != 0 {
			t.Errorf("the held request made %d API-server reads", n)
		}
	})
	t.Run("no hold without a matching If-None-Match", func(t *testing.T) {
		r := h.request(http.MethodGet, path, h.tenantA, nil, "If-None-Match", `"other"`, "Prefer", "wait=30").expect(t, http.StatusOK)
		if r.Header.Get(headerPreferenceApplied) != "" {
			t.Errorf("Preference-Applied on an unheld answer")
		}
	})
}
