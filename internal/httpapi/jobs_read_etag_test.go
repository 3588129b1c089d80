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
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/go-logr/logr"
	"github.com/google/uuid"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/test/framework"
	"github.com/asyncjob/asyncjob/test/wrappers"
)

// etagCase is one API replica over a fake cache holding one job of tenant
// "dev"; the test feeds the hub as the informer would.
type etagCase struct {
	t   *testing.T
	s   *Server
	c   client.Client
	key types.NamespacedName
}

func newETagCase(t *testing.T, state v1alpha1.AsyncJobState) *etagCase {
	aj := wrappers.MakeAsyncJob(uuid.NewString(), "dev").Tenant("dev").Type("convert").Params(`{"format":"webm"}`).State(state).Obj()
	c := fake.NewClientBuilder().WithScheme(framework.Scheme()).WithObjects(aj).Build()
	s := newUnitServer(t, func(cfg *Config) { cfg.Cache, cfg.APIReader = c, c; cfg.Log = logr.Discard() })
	return &etagCase{t: t, s: s, c: c, key: client.ObjectKeyFromObject(aj)}
}

// job is the job as the cache has it now.
func (ec *etagCase) job() *v1alpha1.AsyncJob {
	var aj v1alpha1.AsyncJob
	if err := ec.c.Get(context.Background(), ec.key, &aj); err != nil {
		ec.t.Fatal(err)
	}
	return &aj
}

// change updates the job in the cache; publish also feeds it to the hub.
func (ec *etagCase) change(mutate func(*v1alpha1.AsyncJob), publish bool) {
	aj := ec.job()
	mutate(aj)
	if err := ec.c.Update(context.Background(), aj); err != nil {
		ec.t.Fatal(err)
	}
	if publish {
		ev, err := render(aj)
		if err != nil {
			ec.t.Fatal(err)
		}
		ec.s.hub.observe(ev, false, false)
	}
}

func (ec *etagCase) get(ifNoneMatch string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, jobPath(ec.key.Name), nil)
	if ifNoneMatch != "" {
		req.Header.Set("If-None-Match", ifNoneMatch)
	}
	rec := httptest.NewRecorder()
	ec.s.Handler().ServeHTTP(rec, req)
	return rec
}

// fresh is the job's representation rendered now, and its ETag: what every
// GET must answer, however it computes it.
func (ec *etagCase) fresh() (string, string) {
	body, err := json.Marshal(ec.s.jobView(context.Background(), ec.job()))
	if err != nil {
		ec.t.Fatal(err)
	}
	return string(body), etagOf(body)
}

// expect checks a GET against the representation rendered now.
func (ec *etagCase) expect(what, ifNoneMatch string, status int) {
	ec.t.Helper()
	body, etag := ec.fresh()
	rec := ec.get(ifNoneMatch)
	switch {
	case rec.Code != status:
		ec.t.Errorf("%s: %d, want %d", what, rec.Code, status)
	case rec.Header().Get("ETag") != etag:
		ec.t.Errorf("%s: ETag %s, want %s (the SHA-256 of the representation now)", what, rec.Header().Get("ETag"), etag)
	case status == http.StatusOK && rec.Body.String() != body:
		ec.t.Errorf("%s: body\n%s\nwant\n%s", what, rec.Body, body)
	case status == http.StatusNotModified && rec.Body.Len() != 0:
		ec.t.Errorf("%s: 304 with a body", what)
	}
}

// TestGetJobETagWithTheHubsRendering: whether GET reuses the hub's rendering
// or renders again, its body and ETag are those of the representation now,
// byte for byte: with the hub current, after a change of hidden fields only,
// with the hub behind the cache, and once the event left the history (its
// data dropped), for a running, a completed and a pending job.
func TestGetJobETagWithTheHubsRendering(t *testing.T) {
	for _, state := range []v1alpha1.AsyncJobState{v1alpha1.StateRunning, v1alpha1.StateCompleted, v1alpha1.StatePending} {
		t.Run(string(state), func(t *testing.T) {
			ec := newETagCase(t, state)
			ec.expect("before the hub has the job", "", http.StatusOK)
			ec.change(func(aj *v1alpha1.AsyncJob) { aj.Status.Attempts = 1 }, true)
			_, etag := ec.fresh()
			ec.expect("hub current", "", http.StatusOK)
			ec.expect("hub current, If-None-Match", etag, http.StatusNotModified)

			ec.change(func(aj *v1alpha1.AsyncJob) { aj.Status.ObservedGeneration++ }, true)
			ec.expect("hidden change, If-None-Match", etag, http.StatusNotModified)
			ec.expect("hidden change", "", http.StatusOK)

			ec.change(func(aj *v1alpha1.AsyncJob) { aj.Status.Attempts = 2 }, false)
			ec.expect("hub behind, the old ETag", etag, http.StatusOK)
			ec.change(func(aj *v1alpha1.AsyncJob) { aj.Status.Attempts = 3 }, true)
			_, etag = ec.fresh()

			ec.s.hub.mu.Lock()
			slim := *ec.s.hub.latest[ec.key]
			slim.data = nil
			ec.s.hub.latest[ec.key] = &slim
			ec.s.hub.mu.Unlock()
			ec.expect("event out of the history, If-None-Match", etag, http.StatusNotModified)
			ec.expect("event out of the history", "", http.StatusOK)
			ec.expect("event out of the history, another ETag", `"other"`, http.StatusOK)
		})
	}
}

// TestGetJobAnswersFromTheHub: a GET of a job whose hub event is of its
// resourceVersion answers that event's bytes and ETag without rendering
// (shown with an event doctored to differ from a fresh rendering).
func TestGetJobAnswersFromTheHub(t *testing.T) {
	ec := newETagCase(t, v1alpha1.StateRunning)
	ec.change(func(aj *v1alpha1.AsyncJob) { aj.Status.Attempts = 1 }, true)
	ec.s.hub.mu.Lock()
	doctored := *ec.s.hub.latest[ec.key]
	doctored.data, doctored.etag = []byte(`{"from":"hub"}`), `"hub"`
	ec.s.hub.latest[ec.key] = &doctored
	ec.s.hub.mu.Unlock()
	if rec := ec.get(""); rec.Body.String() != `{"from":"hub"}` || rec.Header().Get("ETag") != `"hub"` {
		t.Errorf("GET answered %s (ETag %s), not the hub's event", rec.Body, rec.Header().Get("ETag"))
	}
	if rec := ec.get(`"hub"`); rec.Code != http.StatusNotModified {
		t.Errorf("GET with the hub's ETag: %d, want 304", rec.Code)
	}
}

// BenchmarkGetJob: GET /v1/jobs/{id} of a running job through the handler in
// process (fake cache, auth mode none), 200 and 304, with the hub holding the
// job's rendering (as the informer keeps it) and without (every GET renders
// and hashes, as before the hub's rendering was reused).
func BenchmarkGetJob(b *testing.B) {
	for _, fed := range []bool{true, false} {
		aj := wrappers.MakeAsyncJob(uuid.NewString(), "dev").Tenant("dev").Type("convert").
			Params(`{"input":"https://example.com/a.mov","format":"webm"}`).State(v1alpha1.StateRunning).Obj()
		aj.Status.Attempts = 1
		aj.Status.Progress = &v1alpha1.Progress{Percent: 40, Step: "encode"}
		c := fake.NewClientBuilder().WithScheme(framework.Scheme()).WithObjects(aj).Build()
		s := newUnitServer(b, func(cfg *Config) { cfg.Cache, cfg.APIReader = c, c; cfg.Log = logr.Discard() })
		var cached v1alpha1.AsyncJob
		if err := c.Get(context.Background(), client.ObjectKeyFromObject(aj), &cached); err != nil {
			b.Fatal(err)
		}
		if fed {
			ev, err := render(&cached)
			if err != nil {
				b.Fatal(err)
			}
			s.hub.observe(ev, false, false)
		}
		body, _ := json.Marshal(s.jobView(context.Background(), &cached))
		h := s.Handler()
		for _, tc := range []struct {
			name, inm string
			status    int
		}{{"200", "", http.StatusOK}, {"304", etagOf(body), http.StatusNotModified}} {
			name := tc.name + "/hub-rendering"
			if !fed {
				name = tc.name + "/rendered-per-request"
			}
			b.Run(name, func(b *testing.B) {
				req := httptest.NewRequest(http.MethodGet, jobPath(aj.Name), nil)
				if tc.inm != "" {
					req.Header.Set("If-None-Match", tc.inm)
				}
				b.ReportAllocs()
				for b.Loop() {
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, req)
					if rec.Code != tc.status {
						b.Fatalf("%d, want %d", rec.Code, tc.status)
					}
				}
			})
		}
	}
}
