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
	"time"

	"github.com/gin-gonic/gin"
	"k8s.io/apimachinery/pkg/types"
)

// eventsQueryParams are the filters GET /v1/jobs/events takes: the list's,
// without its paging.
var eventsQueryParams = map[string]bool{queryStatus: true, queryType: true, queryLabel: true}

// getJobEvents handles GET /v1/jobs/{id}/events: the job's changes as
// server-sent events, until its terminal event (or its deletion).
func (s *Server) getJobEvents(c *gin.Context) error {
	aj, err := s.lookupJob(c) // the tenant check of GET: another's job is not found
	if err != nil {
		return err
	}
	key := types.NamespacedName{Namespace: aj.Namespace, Name: aj.Name}
	lastID, hasLast := lastEventID(c.Request)
	sub, backlog, err := s.hub.subscribe(func(ev *jobEvent) bool { return ev.key == key }, lastID, hasLast)
	if err != nil {
		return shuttingDown()
	}
	defer s.hub.unsubscribe(sub)
	last, valid := parseEventID(lastID)
	cur, known := s.hub.current(key)
	if !known {
		// Too new for this replica's informer: aj (read through to the API
		// server) is its current state until the watch delivers more.
		if cur, err = render(aj); err != nil {
			return err
		}
		if len(backlog) == 0 && (!hasLast || !valid || cur.rv > last) {
			backlog = []*jobEvent{cur}
		}
	}
	if hasLast && valid && cur.finished() && (last >= cur.rv || (cur.terminalRV != 0 && last >= cur.terminalRV)) {
		// The client has the terminal event: 204 tells an EventSource to stop
		// reconnecting (WHATWG HTML 9.2.3).
		c.Status(http.StatusNoContent)
		return nil
	}
	sent := uint64(0)
	if valid && hasLast {
		sent = last
	}
	return s.stream(c, sub, backlog, func(ev *jobEvent) (bool, bool) {
		if !ev.deleted && ev.rv != 0 && ev.rv <= sent {
			return false, false // already sent (the backlog and the live feed overlap)
		}
		sent = max(sent, ev.rv)
		return true, ev.deleted || ev.finished()
	})
}

// getTenantEvents handles GET /v1/jobs/events: the changes of every job of
// the tenant that passes the list's filters, as server-sent events, until
// the client leaves.
func (s *Server) getTenantEvents(c *gin.Context) error {
	for name := range c.Request.URL.Query() {
		if !eventsQueryParams[name] {
			return newError(problemInvalidQuery, "unknown query parameter %q; allowed: status, type, label", name)
		}
	}
	f, err := parseListQuery(c)
	if err != nil {
		return err
	}
	if err := requireNoBody(c); err != nil {
		return err
	}
	id, ns, err := s.namespaceOf(c)
	if err != nil {
		return err
	}
	match := func(ev *jobEvent) bool {
		return ev.key.Namespace == ns && ev.tenant == id.Tenant && f.matchesEvent(ev)
	}
	lastID, hasLast := lastEventID(c.Request)
	sub, backlog, err := s.hub.subscribe(match, lastID, hasLast)
	if err != nil {
		return shuttingDown()
	}
	defer s.hub.unsubscribe(sub)
	// What the client already has: everything up to its Last-Event-ID (it
	// may come from a replica ahead of this one), and what was sent since.
	floor, valid := parseEventID(lastID)
	if !hasLast || !valid {
		floor = 0
	}
	sent := map[types.NamespacedName]uint64{}
	return s.stream(c, sub, backlog, func(ev *jobEvent) (bool, bool) {
		if !ev.deleted && ev.rv != 0 && (ev.rv <= floor || ev.rv <= sent[ev.key]) {
			return false, false
		}
		if ev.deleted {
			delete(sent, ev.key)
		} else {
			sent[ev.key] = ev.rv
		}
		return true, false
	})
}

// matchesEvent applies the list's filters to a job as of an event.
func (f listFilter) matchesEvent(ev *jobEvent) bool {
	if f.typ != "" && ev.typ != f.typ {
		return false
	}
	if f.statuses != nil && !f.statuses[ev.state] {
		return false
	}
	for k, v := range f.labels {
		if got, ok := ev.labels[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// stream writes the backlog, then the live events, with heartbeats between,
// until decide says the stream ends, the client leaves, the subscriber is
// dropped (too slow) or the server shuts down. decide says whether to send an
// event and whether it is the last.
func (s *Server) stream(c *gin.Context, sub *subscriber, backlog []*jobEvent, decide func(*jobEvent) (send, last bool)) error {
	w, err := startSSE(c, s.cfg.EventsRetry)
	if err != nil {
		return nil // the client is gone; too late for a problem
	}
	sub.setUnblock(w.unblock)
	for _, ev := range backlog {
		send, last := decide(ev)
		if !send {
			continue
		}
		if w.event(ev) != nil || last {
			return nil
		}
	}
	// The request's own context: the Kubernetes deadline bounds API calls,
	// not the stream.
	ctx := unboundedContext(c.Request.Context())
	heartbeat := time.NewTicker(s.cfg.EventsHeartbeat)
	defer heartbeat.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-heartbeat.C:
			if w.heartbeat() != nil {
				return nil
			}
		case ev, ok := <-sub.ch:
			if !ok {
				// Dropped or shutting down: closing the stream tells the
				// client to resume, here or on another replica.
				s.cfg.Log.V(1).Info("event stream closed by the server", "reason", sub.err().Error())
				return nil
			}
			send, last := decide(ev)
			if !send {
				continue
			}
			if w.event(ev) != nil || last {
				return nil
			}
		}
	}
}

// lastEventID is the Last-Event-ID a reconnecting client sent, if any.
func lastEventID(r *http.Request) (string, bool) {
	v := r.Header.Values(headerLastEventID)
	if len(v) == 0 {
		return "", false
	}
	return v[0], true
}

// shuttingDown answers a new stream or hold during shutdown: come back, to
// another replica.
func shuttingDown() error {
	return newError(problemUnavailable, "this server is shutting down; retry").withRetryAfter(1)
}

// holdFor waits up to wait for an event of the job key that until accepts,
// from the hub (no API calls). It returns that event, or nil when the wait
// elapsed, the client left or the server is shutting down.
func (s *Server) holdFor(ctx context.Context, key types.NamespacedName, wait time.Duration, until func(*jobEvent) bool) *jobEvent {
	sub, _, err := s.hub.subscribe(func(ev *jobEvent) bool { return ev.key == key }, "", false)
	if err != nil {
		return nil
	}
	defer s.hub.unsubscribe(sub)
	if cur, ok := s.hub.current(key); ok && until(cur) {
		return cur
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		select {
		case ev, ok := <-sub.ch:
			if !ok {
				return nil
			}
			if until(ev) {
				return ev
			}
		case <-timer.C:
			return nil
		case <-ctx.Done():
			return nil
		}
	}
}
