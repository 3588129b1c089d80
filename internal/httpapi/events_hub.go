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
	"bytes"
	"encoding/json"
	"errors"
	"sort"
	"strconv"
	"sync"

	"k8s.io/apimachinery/pkg/types"

	"github.com/asyncjob/asyncjob/api/v1alpha1"
)

// Defaults of the event hub's Config fields.
const (
	// DefaultEventHistory is how many job changes a replica remembers for
	// Last-Event-ID resumes.
	DefaultEventHistory = 4096
	// DefaultEventBuffer is how many events may wait for one slow stream
	// before it is dropped.
	DefaultEventBuffer = 64
)

// eventDeleted names the event of a job that is gone (DELETE, or its TTL).
const eventDeleted = "deleted"

// eventProgress names an event whose only change is the job's progress.
const eventProgress = "progress"

// jobEvent is one change of a job as clients see it: its representation
// rendered once, shared by every stream, long-poll and the history.
type jobEvent struct {
	// id is the AsyncJob's resourceVersion at this change; rv is it as a
	// number (etcd's revision), 0 when it is not one.
	id string
	rv uint64
	// name is the SSE event name: the job's status, "progress", "deleted".
	name     string
	key      types.NamespacedName
	tenant   string
	typ      string
	state    v1alpha1.AsyncJobState
	labels   map[string]string
	status   Status
	progress []byte // the progress as rendered, to tell progress-only changes
	data     []byte // the job JSON, exactly as GET /v1/jobs/{id} renders it
	etag     string // the ETag GET /v1/jobs/{id} gives data
	deleted  bool
	// terminalRV is the rv at which this replica first saw the job finished
	// (0 while it is not): a resume from there on has nothing left to send.
	terminalRV uint64
}

func (e *jobEvent) finished() bool { return e.status != StatusPending && e.status != StatusRunning }

// asSnapshot is e as the job's current state: its event name is its status.
func (e *jobEvent) asSnapshot() *jobEvent {
	if e.deleted || e.name == string(e.status) {
		return e
	}
	c := *e
	c.name = string(e.status)
	return &c
}

// Why a subscription ended.
var (
	errSubscriberDropped = errors.New("too slow: the stream's buffer filled")
	errHubClosed         = errors.New("the server is shutting down")
)

// subscriber is one stream or held request. The hub never blocks on it: a
// full buffer drops it (closes ch), and the client resumes with Last-Event-ID.
type subscriber struct {
	match func(*jobEvent) bool
	ch    chan *jobEvent

	mu     sync.Mutex
	reason error
	done   bool
	// unblock, if set, breaks off a write stuck on a client that stopped
	// reading; never called once the request has ended (done).
	unblock func()
}

// err is why ch was closed.
func (s *subscriber) err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reason
}

// setUnblock sets the function that breaks off a stuck write.
func (s *subscriber) setUnblock(f func()) {
	s.mu.Lock()
	s.unblock = f
	s.mu.Unlock()
}

// finish marks the request over: unblock must not touch its connection any more.
func (s *subscriber) finish() {
	s.mu.Lock()
	s.done = true
	s.mu.Unlock()
}

// hub fans the informer's AsyncJob changes out to streams and held requests,
// and remembers the last history events for resumes. One per replica, fed by
// the one shared watch (store_events.go): clients never cost an API call.
type hub struct {
	mu sync.Mutex
	// latest is each job's current state; once out of the history its
	// data is dropped (see load), so a replica does not hold every job's JSON.
	latest map[types.NamespacedName]*jobEvent
	// ring holds the last changes in the order the informer saw them;
	// every change with rv > coveredAfter is in it.
	ring         []*jobEvent
	history      int
	coveredAfter uint64
	maxRV        uint64
	subs         map[*subscriber]struct{}
	buffer       int
	closed       bool
	// synced reports whether the informer delivered its initial list; before
	// that a Last-Event-ID cannot be told known.
	synced func() bool
	// load renders a job's current state from the cache, for the current
	// states that no longer keep their JSON (nil: they all keep it). It must
	// not call the hub.
	load func(types.NamespacedName) (*jobEvent, bool)
	// sameAs is, per job, a later resourceVersion whose representation is
	// its latest event's (a change of hidden fields only), so GET can still
	// answer with that event's ETag (jobs_read_etag.go).
	sameAs map[types.NamespacedName]string
}

func newHub(history, buffer int) *hub {
	if history <= 0 {
		history = DefaultEventHistory
	}
	if buffer <= 0 {
		buffer = DefaultEventBuffer
	}
	return &hub{latest: map[types.NamespacedName]*jobEvent{}, subs: map[*subscriber]struct{}{}, sameAs: map[types.NamespacedName]string{},
		history: history, buffer: buffer, synced: func() bool { return false }}
}

// render builds the event of aj as it is now.
func render(aj *v1alpha1.AsyncJob) (*jobEvent, error) {
	j := toJob(aj)
	data, err := json.Marshal(j)
	if err != nil {
		return nil, err
	}
	var progress []byte
	if j.Progress != nil {
		if progress, err = json.Marshal(j.Progress); err != nil {
			return nil, err
		}
	}
	rv, _ := parseEventID(aj.ResourceVersion)
	ev := &jobEvent{id: aj.ResourceVersion, rv: rv, name: string(j.Status),
		key: types.NamespacedName{Namespace: aj.Namespace, Name: aj.Name}, tenant: aj.Labels[v1alpha1.LabelTenant],
		typ: aj.Spec.Type, state: stateForFilter(aj), labels: j.Labels, status: j.Status,
		progress: progress, data: data, etag: etagOf(data)}
	if ev.finished() {
		ev.terminalRV = rv
	}
	return ev, nil
}

// parseEventID reads an event id: the canonical decimal form of a
// resourceVersion, nothing else (no sign, no leading zeros, no spaces).
func parseEventID(s string) (uint64, bool) {
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n == 0 || strconv.FormatUint(n, 10) != s {
		return 0, false
	}
	return n, true
}

// observe records a change the informer delivered: initial is a job of its
// first list (not a change, so not history), deleted a job that is gone.
func (h *hub) observe(ev *jobEvent, initial, deleted bool) {
	if ev.tenant == "" {
		return // not a REST job
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	prev := h.latest[ev.key]
	if prev != nil && prev.terminalRV != 0 {
		ev.terminalRV = prev.terminalRV
	}
	delete(h.sameAs, ev.key)
	if deleted {
		delete(h.latest, ev.key)
		ev.name, ev.deleted = eventDeleted, true
	} else {
		if prev != nil && (prev.etag == ev.etag || (ev.rv != 0 && ev.rv <= prev.rv)) {
			if prev.etag == ev.etag && ev.rv > prev.rv {
				h.sameAs[ev.key] = ev.id
			}
			return // nothing a client can see changed (a resync, a status write of hidden fields)
		}
		switch {
		case prev == nil || prev.status != ev.status:
			ev.name = string(ev.status)
		case !bytes.Equal(prev.progress, ev.progress):
			ev.name = eventProgress
		}
		h.latest[ev.key] = ev
	}
	if initial {
		h.coveredAfter = max(h.coveredAfter, ev.rv)
	} else {
		h.remember(ev)
	}
	for sub := range h.subs {
		if !sub.match(ev) {
			continue
		}
		select {
		case sub.ch <- ev:
		default:
			h.dropLocked(sub, errSubscriberDropped)
		}
	}
}

// remember appends ev to the history, forgetting the oldest beyond its size.
func (h *hub) remember(ev *jobEvent) {
	if ev.rv == 0 || ev.rv < h.maxRV {
		// Out of order (a relist) or not a number: what came before is no
		// longer known in order.
		h.coveredAfter = max(h.coveredAfter, h.maxRV, ev.rv)
	}
	h.maxRV = max(h.maxRV, ev.rv)
	if len(h.ring) == h.history {
		oldest := h.ring[0]
		h.coveredAfter = max(h.coveredAfter, oldest.rv)
		if h.load != nil && h.latest[oldest.key] == oldest {
			// Out of the history, the job's current state need not keep its
			// JSON: a snapshot renders it again from the cache (load).
			slim := *oldest
			slim.data = nil
			h.latest[oldest.key] = &slim
		}
		copy(h.ring, h.ring[1:])
		h.ring = h.ring[:len(h.ring)-1]
	}
	h.ring = append(h.ring, ev)
}

// subscribe registers a subscriber for the events match accepts and returns
// what it missed since lastID (hasLast: the client sent Last-Event-ID), in
// order: the history after lastID when it is known here, otherwise the
// current state of each matching job changed since (all of them when lastID
// is malformed or absent). Both under one lock, so nothing falls between.
func (h *hub) subscribe(match func(*jobEvent) bool, lastID string, hasLast bool) (*subscriber, []*jobEvent, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, nil, errHubClosed
	}
	sub := &subscriber{match: match, ch: make(chan *jobEvent, h.buffer)}
	h.subs[sub] = struct{}{}
	return sub, h.backlogLocked(match, lastID, hasLast), nil
}

func (h *hub) backlogLocked(match func(*jobEvent) bool, lastID string, hasLast bool) []*jobEvent {
	last, valid := parseEventID(lastID)
	var out []*jobEvent
	if hasLast && valid && last >= h.coveredAfter && h.synced() {
		for _, ev := range h.ring {
			if ev.rv > last && match(ev) {
				out = append(out, ev)
			}
		}
		return out
	}
	for _, ev := range h.latest {
		if !match(ev) || (hasLast && valid && ev.rv <= last) {
			continue
		}
		if ev.data == nil {
			loaded, ok := h.load(ev.key)
			if !ok || loaded.tenant == "" {
				continue // gone meanwhile: its deleted event follows
			}
			loaded.terminalRV = ev.terminalRV
			ev = loaded
		}
		out = append(out, ev.asSnapshot())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].rv < out[j].rv })
	return out
}

// current is the job's latest event, if the hub has seen the job.
func (h *hub) current(key types.NamespacedName) (*jobEvent, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	ev, ok := h.latest[key]
	return ev, ok
}

// unsubscribe removes sub; its channel is left for the garbage collector.
func (h *hub) unsubscribe(sub *subscriber) {
	sub.finish()
	h.mu.Lock()
	delete(h.subs, sub)
	h.mu.Unlock()
}

func (h *hub) dropLocked(sub *subscriber, reason error) {
	delete(h.subs, sub)
	sub.mu.Lock()
	defer sub.mu.Unlock()
	sub.reason = reason
	close(sub.ch)
	// Under sub.mu, so the request cannot end (finish) in between.
	if sub.unblock != nil && !sub.done && reason == errSubscriberDropped {
		sub.unblock()
	}
}

// close ends every subscription (streams end, held requests answer) and
// refuses new ones: on shutdown, nothing waits for a stream to end.
func (h *hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for sub := range h.subs {
		h.dropLocked(sub, errHubClosed)
	}
}

// isClosed reports whether the hub refuses subscriptions (shutdown).
func (h *hub) isClosed() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.closed
}

// subscribers counts the live subscriptions.
func (h *hub) subscribers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}
