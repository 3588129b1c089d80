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
	"strconv"
	"testing"

	"k8s.io/apimachinery/pkg/types"
)

// fuzzHub is a hub that has seen three jobs' histories, with room for far
// fewer events than they made, so some ids are known and some forgotten, and
// one job's current state has left the history (its JSON is loaded again).
func fuzzHub() *hub {
	h := newHub(2, 4)
	h.synced = func() bool { return true }
	// The cache, as load reads it: each job's last state.
	cache := map[types.NamespacedName]jobEvent{}
	h.load = func(key types.NamespacedName) (*jobEvent, bool) {
		ev, ok := cache[key]
		return &ev, ok
	}
	rv := uint64(100)
	for step := 0; step < 4; step++ {
		for _, name := range []string{"a", "b", "c"} {
			rv++
			status := StatusRunning
			if step == 0 {
				status = StatusPending
			}
			data := []byte(`{"n":` + strconv.FormatUint(rv, 10) + `}`)
			ev := &jobEvent{id: strconv.FormatUint(rv, 10), rv: rv, key: types.NamespacedName{Namespace: "ns", Name: name},
				tenant: "t", status: status, name: string(status), data: data, etag: etagOf(data)}
			cache[ev.key] = *ev
			h.observe(ev, step == 0, false)
		}
	}
	return h
}

// FuzzLastEventID: whatever a client sends as Last-Event-ID, resuming never
// fails, sends events in order with no duplicate, only ones after a known id,
// and, for an unknown or malformed id, each job's current state once.
func FuzzLastEventID(f *testing.F) {
	for _, s := range []string{"", "105", "110", "112", "113", "1", "abc", "-5", "0", "0105", " 105", "105 ", "18446744073709551615", "18446744073709551616", "1e3", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, last string) {
		h := fuzzHub()
		all := func(*jobEvent) bool { return true }
		sub, backlog, err := h.subscribe(all, last, true)
		if err != nil {
			t.Fatal(err)
		}
		defer h.unsubscribe(sub)
		n, valid := parseEventID(last)
		if valid != (strconv.FormatUint(n, 10) == last && n > 0) {
			t.Fatalf("%q: valid=%v for %d", last, valid, n)
		}
		known := valid && n >= h.coveredAfter
		seen := map[types.NamespacedName]bool{}
		var prev uint64
		for _, ev := range backlog {
			if ev.rv <= prev {
				t.Fatalf("%q: event %d after %d", last, ev.rv, prev)
			}
			prev = ev.rv
			if valid && ev.rv <= n {
				t.Fatalf("%q: event %d the client has", last, ev.rv)
			}
			if !known {
				if seen[ev.key] {
					t.Fatalf("%q: two current states of %s", last, ev.key)
				}
				if cur, _ := h.current(ev.key); cur.rv != ev.rv {
					t.Fatalf("%q: %s at %d, current %d", last, ev.key, ev.rv, cur.rv)
				}
				if len(ev.data) == 0 || ev.name != string(ev.status) {
					t.Fatalf("%q: current state of %s without data or named %q", last, ev.key, ev.name)
				}
			}
			seen[ev.key] = true
		}
		if !valid && len(backlog) != 3 {
			t.Fatalf("%q: %d events for an unknown id, want the 3 current states", last, len(backlog))
		}
	})
}
