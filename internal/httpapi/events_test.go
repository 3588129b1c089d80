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
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/asyncjob/asyncjob/api/v1alpha1"
)

// Status changes the tests write as the controller would.
func running(s *v1alpha1.AsyncJobStatus) {
	now := metav1.Now()
	s.State, s.StartTime, s.Attempts = v1alpha1.StateRunning, &now, 1
}

func progressed(percent int32) func(*v1alpha1.AsyncJobStatus) {
	return func(s *v1alpha1.AsyncJobStatus) {
		now := metav1.NowMicro()
		s.Progress = &v1alpha1.Progress{Percent: percent, Step: "transcoding", UpdateTime: &now}
	}
}

func completed(s *v1alpha1.AsyncJobStatus) {
	now := metav1.Now()
	expire := metav1.NewTime(now.Add(time.Hour))
	s.State, s.CompletionTime, s.ExpireTime = v1alpha1.StateCompleted, &now, &expire
	s.Result = &apiextensionsv1.JSON{Raw: []byte(`{"url":"https://example.com/out.webm"}`)}
}

// writeStatus writes the status and returns the AsyncJob's new resourceVersion
// once srv's hub (and so its streams) has seen it.
func (h *harness) writeStatus(tenant, id string, mutate func(*v1alpha1.AsyncJobStatus)) string {
	h.t.Helper()
	h.setStatus(tenant, id, mutate)
	aj := h.kubeJob(tenant, id)
	h.waitHub(h.server, tenant, id, aj.ResourceVersion)
	return aj.ResourceVersion
}

// expectEvent reads the next event and checks its name and id.
func expectEvent(t *testing.T, s *sseStream, name, id string) sseEvent {
	t.Helper()
	ev := s.nextEvent()
	if ev.name != name || (id != "" && ev.id != id) {
		t.Fatalf("event %q id %q, want %q id %q; data %s", ev.name, ev.id, name, id, ev.data)
	}
	return ev
}

// TestEventsStreamAJobToItsEnd: the stream's headers, retry: field, a first
// event with the current state, one event per change whose data is the job
// exactly as GET renders it, with the resourceVersion as id, and the end of
// the stream after the terminal event; a reconnect after it gets 204.
func TestEventsStreamAJobToItsEnd(t *testing.T) {
	h := newHarness(t)
	t.Cleanup(h.server.CloseStreams)
	j := h.submit(h.tenantA, nil)
	created := h.kubeJob(h.tenantA, j.ID).ResourceVersion
	h.waitHub(h.server, h.tenantA, j.ID, created)

	s := h.openStream("/v1/jobs/"+j.ID+"/events", h.tenantA)
	if s.resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", s.resp.StatusCode)
	}
	for hd, want := range map[string]string{"Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no", "Content-Encoding": ""} {
		if got := s.resp.Header.Get(hd); got != want {
			t.Errorf("%s = %q, want %q", hd, got, want)
		}
	}
	first, err := s.next()
	if err != nil || first.retry != strconv.Itoa(int(DefaultEventsRetry.Milliseconds())) {
		t.Fatalf("first block %+v (%v), want retry: %d", first, err, DefaultEventsRetry.Milliseconds())
	}
	pending := expectEvent(t, s, string(StatusPending), created)
	get := h.request(http.MethodGet, "/v1/jobs/"+j.ID, h.tenantA, nil).expect(t, http.StatusOK)
	if pending.data != string(get.body) {
		t.Errorf("event data is not GET's body:\n%s\n%s", pending.data, get.body)
	}

	rv := h.writeStatus(h.tenantA, j.ID, running)
	if got := expectEvent(t, s, string(StatusRunning), rv).job(t); got.Status != StatusRunning || got.StartedAt == nil {
		t.Errorf("running event %+v", got)
	}
	rv = h.writeStatus(h.tenantA, j.ID, progressed(40))
	if got := expectEvent(t, s, eventProgress, rv).job(t); got.Progress == nil || got.Progress.Percent != 40 {
		t.Errorf("progress event %+v", got)
	}
	rv = h.writeStatus(h.tenantA, j.ID, completed)
	done := expectEvent(t, s, string(StatusCompleted), rv)
	get = h.request(http.MethodGet, "/v1/jobs/"+j.ID, h.tenantA, nil).expect(t, http.StatusOK)
	if done.data != string(get.body) || get.Header.Get("ETag") != etagOf([]byte(done.data)) {
		t.Errorf("terminal event data is not GET's body (ETag %s):\n%s\n%s", get.Header.Get("ETag"), done.data, get.body)
	}
	s.expectEnd()

	// An EventSource reconnects after the end: 204 tells it to stop.
	again := h.openStream("/v1/jobs/"+j.ID+"/events", h.tenantA, headerLastEventID, rv)
	if again.resp.StatusCode != http.StatusNoContent {
		t.Errorf("reconnect after the terminal event: status %d, want 204", again.resp.StatusCode)
	}
	// A fresh client of a finished job gets its state, then the end.
	fresh := h.openStream("/v1/jobs/"+j.ID+"/events", h.tenantA)
	expectEvent(t, fresh, string(StatusCompleted), rv)
	fresh.expectEnd()
}

// TestEventsResumeAcrossReplicas: a client disconnects mid-job and resumes
// with Last-Event-ID on the same replica and on a second one (its own
// informer): it gets exactly what it missed, in order, then the live events.
func TestEventsResumeAcrossReplicas(t *testing.T) {
	h := newHarness(t)
	t.Cleanup(h.server.CloseStreams)
	other, _ := h.sibling(t)
	t.Cleanup(other.server.CloseStreams)
	j := h.submit(h.tenantA, nil)
	path := "/v1/jobs/" + j.ID + "/events"
	h.waitHub(h.server, h.tenantA, j.ID, h.kubeJob(h.tenantA, j.ID).ResourceVersion)

	s := h.openStream(path, h.tenantA)
	expectEvent(t, s, string(StatusPending), "")
	rvRunning := h.writeStatus(h.tenantA, j.ID, running)
	expectEvent(t, s, string(StatusRunning), rvRunning)
	s.close()

	// Missed while disconnected.
	missed := []string{h.writeStatus(h.tenantA, j.ID, progressed(20)), h.writeStatus(h.tenantA, j.ID, progressed(60))}
	other.waitHub(other.server, h.tenantA, j.ID, missed[1])

	for name, base := range map[string]string{"same replica": h.srv.URL, "other replica": other.srv.URL} {
		t.Run(name, func(t *testing.T) {
			r := openStreamAt(t, base, path, h.keys[h.tenantA], headerLastEventID, rvRunning)
			for i, id := range missed {
				ev := expectEvent(t, r, eventProgress, id)
				if p := ev.job(t).Progress; p == nil || p.Percent != []int32{20, 60}[i] {
					t.Errorf("missed event %d: progress %+v", i, p)
				}
			}
			r.close()
		})
	}

	// Resumed on the other replica, the live events follow without a gap.
	r := openStreamAt(t, other.srv.URL, path, h.keys[h.tenantA], headerLastEventID, missed[1])
	rv := h.writeStatus(h.tenantA, j.ID, progressed(90))
	expectEvent(t, r, eventProgress, rv)
	rv = h.writeStatus(h.tenantA, j.ID, completed)
	expectEvent(t, r, string(StatusCompleted), rv)
	r.expectEnd()
}

// TestEventsHeartbeat: with a short interval, comments arrive between events.
func TestEventsHeartbeat(t *testing.T) {
	h := newHarness(t, func(cfg *Config) { cfg.EventsHeartbeat = 50 * time.Millisecond })
	t.Cleanup(h.server.CloseStreams)
	j := h.submit(h.tenantA, nil)
	s := h.openStream("/v1/jobs/"+j.ID+"/events", h.tenantA)
	expectEvent(t, s, string(StatusPending), "")
	for seen := 0; seen < 3; {
		ev, err := s.next()
		if err != nil {
			t.Fatal(err)
		}
		if !ev.isComment {
			t.Fatalf("unexpected %+v", ev)
		}
		seen++
	}
}

// TestEventsUnknownLastEventID: an id this replica no longer has (its history
// is smaller than what was missed), and malformed ids, get the current state
// as one event, never an error.
func TestEventsUnknownLastEventID(t *testing.T) {
	h := newHarness(t, func(cfg *Config) { cfg.EventHistory = 2 })
	t.Cleanup(h.server.CloseStreams)
	j := h.submit(h.tenantA, nil)
	path := "/v1/jobs/" + j.ID + "/events"
	stale := h.writeStatus(h.tenantA, j.ID, running)
	var rv string
	for p := int32(10); p <= 50; p += 10 {
		rv = h.writeStatus(h.tenantA, j.ID, progressed(p))
	}
	percent := int32(50)
	for _, last := range []string{stale, "", "abc", "-1", "0", "007", "18446744073709551616", stale + "x"} {
		t.Run("Last-Event-ID "+strconv.Quote(last), func(t *testing.T) {
			s := h.openStream(path, h.tenantA, headerLastEventID, last)
			if s.resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d", s.resp.StatusCode)
			}
			if got := expectEvent(t, s, string(StatusRunning), rv).job(t); got.Progress == nil || got.Progress.Percent != percent {
				t.Errorf("current state %+v, want progress %d", got, percent)
			}
			percent++
			rv = h.writeStatus(h.tenantA, j.ID, progressed(percent))
			expectEvent(t, s, eventProgress, rv)
			s.close()
		})
	}
}

// TestEventsTenantIsolation: another tenant's job streams as a missing one
// (404, before any streaming), and a tenant's stream carries only its jobs.
func TestEventsTenantIsolation(t *testing.T) {
	h := newHarness(t)
	t.Cleanup(h.server.CloseStreams)
	a := h.submit(h.tenantA, nil)
	other := h.request(http.MethodGet, "/v1/jobs/"+a.ID+"/events", h.tenantB, nil)
	missing := "0b7e8a52-3c4c-4f8e-9d0a-5b3b0d1e2f3a"
	never := h.request(http.MethodGet, "/v1/jobs/"+missing+"/events", h.tenantB, nil)
	expectSameNotFound(t, http.MethodGet, other, a.ID, never, missing)

	s := h.openStream("/v1/jobs/events", h.tenantB)
	h.writeStatus(h.tenantA, a.ID, running)
	b := h.submit(h.tenantB, nil)
	if ev := s.nextEvent(); ev.job(t).ID != b.ID {
		t.Fatalf("tenant B's stream carried job %s (%s), want only B's %s", ev.job(t).ID, ev.name, b.ID)
	}
}

// TestTenantEventsFilter: the tenant-wide stream applies the list's filters
// and resumes like the job stream.
func TestTenantEventsFilter(t *testing.T) {
	h := newHarness(t)
	t.Cleanup(h.server.CloseStreams)
	h.request(http.MethodGet, "/v1/jobs/events?limit=5", h.tenantA, nil).expect(t, http.StatusBadRequest)
	h.request(http.MethodGet, "/v1/jobs/events?status=DONE", h.tenantA, nil).expect(t, http.StatusBadRequest)

	x := h.submit(h.tenantA, map[string]string{"project": "x"})
	y := h.submit(h.tenantA, map[string]string{"project": "y"})
	h.waitHub(h.server, h.tenantA, y.ID, h.kubeJob(h.tenantA, y.ID).ResourceVersion)
	s := h.openStream("/v1/jobs/events?label=project=x", h.tenantA)
	expectEvent(t, s, string(StatusPending), "") // the current state of x
	h.writeStatus(h.tenantA, y.ID, running)
	rv := h.writeStatus(h.tenantA, x.ID, running)
	ev := expectEvent(t, s, string(StatusRunning), rv)
	if ev.job(t).ID != x.ID {
		t.Fatalf("event of %s, want only %s", ev.job(t).ID, x.ID)
	}
	s.close()

	// Resumed: what x missed, nothing of y.
	h.writeStatus(h.tenantA, y.ID, progressed(10))
	missed := h.writeStatus(h.tenantA, x.ID, progressed(30))
	r := h.openStream("/v1/jobs/events?label=project=x", h.tenantA, headerLastEventID, rv)
	expectEvent(t, r, eventProgress, missed)

	// A status filter sees the job as of each event.
	st := h.openStream("/v1/jobs/events?status=COMPLETED", h.tenantA)
	done := h.writeStatus(h.tenantA, y.ID, completed)
	if ev := expectEvent(t, st, string(StatusCompleted), done); ev.job(t).ID != y.ID {
		t.Errorf("status filter: event of %s", ev.job(t).ID)
	}
}

// TestEventsJobDeleted: a job deleted mid-stream ends its stream with a
// deleted event.
func TestEventsJobDeleted(t *testing.T) {
	h := newHarness(t)
	t.Cleanup(h.server.CloseStreams)
	j := h.submit(h.tenantA, nil)
	s := h.openStream("/v1/jobs/"+j.ID+"/events", h.tenantA)
	expectEvent(t, s, string(StatusPending), "")
	aj := h.kubeJob(h.tenantA, j.ID)
	h.must(h.env.Client.Delete(context.Background(), aj))
	if ev := s.nextEvent(); ev.name != eventDeleted && (ev.name != string(StatusPending) || !ev.job(t).Deleting) {
		t.Fatalf("event %s %s, want deleted", ev.name, ev.data)
	}
	for {
		ev, err := s.next()
		if err != nil {
			break // the end of the stream
		}
		if !ev.isComment && ev.name != eventDeleted {
			t.Fatalf("event %s after deletion", ev.name)
		}
	}
	h.eventually("the hub forgets the job", func() bool {
		_, ok := h.server.hub.current(types.NamespacedName{Namespace: h.tenantA, Name: j.ID})
		return !ok
	})
}

// TestEventsCloseOnShutdown: shutting the server down ends open streams at
// once (Shutdown does not wait for them) and refuses new ones.
func TestEventsCloseOnShutdown(t *testing.T) {
	h := newHarness(t)
	j := h.submit(h.tenantA, nil)
	s := h.openStream("/v1/jobs/"+j.ID+"/events", h.tenantA)
	expectEvent(t, s, string(StatusPending), "")
	h.server.CloseStreams()
	s.expectEnd()
	h.request(http.MethodGet, "/v1/jobs/"+j.ID+"/events", h.tenantA, nil).expect(t, http.StatusServiceUnavailable)
}

// TestServeShutdownDoesNotWaitForStreams: Serve's graceful shutdown ends open
// streams as it starts (a stream never goes idle, so waiting for it would
// last until the shutdown timeout and fail).
func TestServeShutdownDoesNotWaitForStreams(t *testing.T) {
	h := newHarness(t)
	j := h.submit(h.tenantA, nil)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	h.must(err)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- Serve(ctx, l, h.server.Handler(), testr.New(t)) }()
	s := openStreamAt(t, "http://"+l.Addr().String(), "/v1/jobs/"+j.ID+"/events", h.keys[h.tenantA])
	expectEvent(t, s, string(StatusPending), "")
	cancel()
	s.expectEnd()
	if err := <-served; err != nil {
		t.Fatalf("Serve: %v (shutdown waited for the stream)", err)
	}
}

// TestEventsCurrentStateOutOfHistory: a job whose last change has left the
// history keeps no JSON in the hub; a stream's current state renders it
// again from the cache, exactly as GET does.
func TestEventsCurrentStateOutOfHistory(t *testing.T) {
	h := newHarness(t, func(cfg *Config) { cfg.EventHistory = 1 })
	t.Cleanup(h.server.CloseStreams)
	x := h.submit(h.tenantA, nil)
	rvX := h.writeStatus(h.tenantA, x.ID, running)
	y := h.submit(h.tenantA, nil)
	rvY := h.writeStatus(h.tenantA, y.ID, running) // pushes x's change out
	if ev, _ := h.server.hub.current(types.NamespacedName{Namespace: h.tenantA, Name: x.ID}); ev.data != nil {
		t.Fatalf("x's current state still holds its JSON")
	}
	s := h.openStream("/v1/jobs/events", h.tenantA)
	first := expectEvent(t, s, string(StatusRunning), rvX)
	get := h.request(http.MethodGet, "/v1/jobs/"+x.ID, h.tenantA, nil).expect(t, http.StatusOK)
	if first.data != string(get.body) {
		t.Errorf("current state of x is not GET's body:\n%s\n%s", first.data, get.body)
	}
	expectEvent(t, s, string(StatusRunning), rvY)
	one := h.openStream("/v1/jobs/"+x.ID+"/events", h.tenantA)
	expectEvent(t, one, string(StatusRunning), rvX)
}
