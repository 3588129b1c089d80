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

package queue

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/asyncjob/asyncjob/api/v1alpha1"
)

var t0 = time.Date(2026, 12, 2, 6, 0, 0, 0, time.UTC)

func entry(name, tenant string, prio int32, sec int) Entry {
	return Entry{Namespace: "ns-" + tenant, Name: name, Tenant: tenant, Priority: prio, Created: t0.Add(time.Duration(sec) * time.Second)}
}

func names(es []Entry) []string {
	out := []string{}
	for _, e := range es {
		out = append(out, e.Name)
	}
	return out
}

func TestAdmit(t *testing.T) {
	cases := []struct {
		name    string
		waiting []Entry
		running Running
		bounds  Bounds
		want    []string
	}{{
		name:    "FIFO: the oldest first, as many as slots",
		waiting: []Entry{entry("c", "a", 0, 3), entry("a", "a", 0, 1), entry("b", "a", 0, 2)},
		bounds:  Bounds{Max: 2},
		want:    []string{"a", "b"},
	}, {
		name:    "equal creation times: by name",
		waiting: []Entry{entry("y", "a", 0, 1), entry("x", "a", 0, 1)},
		bounds:  Bounds{Max: 1},
		want:    []string{"x"},
	}, {
		name:    "priority before age",
		waiting: []Entry{entry("old", "a", 0, 1), entry("urgent", "a", 5, 9), entry("mid", "a", 1, 5)},
		bounds:  Bounds{Max: 2},
		want:    []string{"urgent", "mid"},
	}, {
		name:    "slots taken by running jobs",
		waiting: []Entry{entry("a", "a", 0, 1), entry("b", "a", 0, 2)},
		running: Running{Total: 1, PerTenant: map[string]int{"a": 1}},
		bounds:  Bounds{Max: 2},
		want:    []string{"a"},
	}, {
		name:    "full: nothing starts",
		waiting: []Entry{entry("a", "a", 0, 1)},
		running: Running{Total: 2},
		bounds:  Bounds{Max: 2},
		want:    []string{},
	}, {
		name:    "over the bound (it was lowered): nothing starts",
		waiting: []Entry{entry("a", "a", 0, 1)},
		running: Running{Total: 5},
		bounds:  Bounds{Max: 2},
		want:    []string{},
	}, {
		name: "fairness: a tenant at its bound is skipped, not waited for",
		waiting: []Entry{
			entry("a1", "a", 0, 1), entry("a2", "a", 0, 2), entry("a3", "a", 0, 3),
			entry("b1", "b", 0, 4),
		},
		running: Running{Total: 1, PerTenant: map[string]int{"a": 1}},
		bounds:  Bounds{Max: 4, PerTenant: 2},
		want:    []string{"a1", "b1"},
	}, {
		name:    "fairness: the per-tenant bound counts the jobs admitted in this pass",
		waiting: []Entry{entry("a1", "a", 0, 1), entry("a2", "a", 0, 2), entry("a3", "a", 0, 3), entry("b1", "b", 0, 9)},
		bounds:  Bounds{Max: 10, PerTenant: 2},
		want:    []string{"a1", "a2", "b1"},
	}, {
		name:    "unbounded: everything starts, in order",
		waiting: []Entry{entry("b", "a", 0, 2), entry("a", "b", 0, 1)},
		want:    []string{"a", "b"},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := names(Admit(tc.waiting, tc.running, tc.bounds))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Admit (-want +got):\n%s", diff)
			}
		})
	}
}

// TestAdmitNeverExceedsBounds simulates a queue through random finishes,
// submissions and cancellations (a cancelled or deleted job simply leaves the
// waiting list): the running count never passes either bound, every job starts
// once, and each tenant's jobs start in its own order.
func TestAdmitNeverExceedsBounds(t *testing.T) {
	for seed := range uint64(50) {
		r := rand.New(rand.NewPCG(seed, 1))
		b := Bounds{Max: 1 + r.IntN(4), PerTenant: r.IntN(3)}
		tenants := []string{"a", "b", "c"}
		var waiting, running []Entry
		var started []Entry
		cancelled := map[string]bool{}
		next := 0
		for step := range 400 {
			switch k := r.IntN(10); {
			case k < 4: // submit
				waiting = append(waiting, entry(fmt.Sprintf("j%03d", next), tenants[r.IntN(3)], int32(r.IntN(2)), step))
				next++
			case k < 7 && len(running) > 0: // a running job finishes
				i := r.IntN(len(running))
				running = append(running[:i], running[i+1:]...)
			case k < 8 && len(waiting) > 0: // a waiting job is cancelled or deleted
				i := r.IntN(len(waiting))
				cancelled[waiting[i].Name] = true
				waiting = append(waiting[:i], waiting[i+1:]...)
			}
			cnt := Running{PerTenant: map[string]int{}}
			for _, e := range running {
				cnt.Total++
				cnt.PerTenant[e.Tenant]++
			}
			admitted := Admit(waiting, cnt, b)
			for _, e := range admitted {
				if cancelled[e.Name] {
					t.Fatalf("seed %d: cancelled %s admitted", seed, e.Name)
				}
				running = append(running, e)
				started = append(started, e)
				waiting = remove(waiting, e)
			}
			per := map[string]int{}
			for _, e := range running {
				per[e.Tenant]++
				if b.PerTenant > 0 && per[e.Tenant] > b.PerTenant {
					t.Fatalf("seed %d step %d: tenant %s runs %d > perTenant %d", seed, step, e.Tenant, per[e.Tenant], b.PerTenant)
				}
			}
			if len(running) > b.Max {
				t.Fatalf("seed %d step %d: %d running > max %d", seed, step, len(running), b.Max)
			}
			// A slot is never left idle while a job that may take it waits.
			if len(running) < b.Max {
				for _, w := range waiting {
					if b.PerTenant == 0 || per[w.Tenant] < b.PerTenant {
						t.Fatalf("seed %d step %d: %s waits with a free slot", seed, step, w.Name)
					}
				}
			}
		}
		// Within a tenant and a priority, jobs started in submission order.
		last := map[string]Entry{}
		for _, e := range started {
			k := fmt.Sprint(e.Tenant, e.Priority)
			if p, ok := last[k]; ok && Compare(p, e) > 0 {
				t.Fatalf("seed %d: %s started after %s", seed, p.Name, e.Name)
			}
			last[k] = e
		}
	}
}

func remove(es []Entry, e Entry) []Entry {
	for i := range es {
		if es[i] == e {
			return append(es[:i], es[i+1:]...)
		}
	}
	return es
}

func TestAheadMatchesOrder(t *testing.T) {
	waiting := []Entry{entry("c", "a", 0, 3), entry("a", "b", 0, 1), entry("p", "a", 2, 9), entry("b", "a", 0, 2)}
	for i, e := range Order(waiting) {
		if got := Ahead(waiting, e); got != i {
			t.Errorf("Ahead(%s) = %d, want %d", e.Name, got, i)
		}
	}
}

func TestEstimateStart(t *testing.T) {
	mean := 10 * time.Second
	cases := []struct {
		position, slots int
		mean            time.Duration
		want            time.Duration
		ok              bool
	}{
		{1, 2, mean, 10 * time.Second, true},
		{2, 2, mean, 10 * time.Second, true},
		{3, 2, mean, 20 * time.Second, true},
		{18, 2, mean, 90 * time.Second, true},
		{1, 2, 0, 0, false}, // no history
	}
	for _, tc := range cases {
		got, ok := EstimateStart(t0, tc.position, tc.slots, tc.mean)
		if ok != tc.ok || (ok && got.Sub(t0) != tc.want) {
			t.Errorf("EstimateStart(pos %d, slots %d, mean %v) = %v, %v; want +%v, %v", tc.position, tc.slots, tc.mean, got.Sub(t0), ok, tc.want, tc.ok)
		}
	}
}

func TestSubmittedAt(t *testing.T) {
	created := metav1.NewTime(t0)
	at := func(v string) *v1alpha1.AsyncJob {
		aj := &v1alpha1.AsyncJob{ObjectMeta: metav1.ObjectMeta{CreationTimestamp: created}}
		if v != "" {
			aj.Annotations = map[string]string{v1alpha1.AnnotationSubmittedAt: v}
		}
		return aj
	}
	for v, want := range map[string]time.Time{
		"":                        t0,
		"2026-12-02T06:00:00.25Z": t0.Add(250 * time.Millisecond),
		"2026-12-02T05:59:59.9Z":  t0.Add(-100 * time.Millisecond),
		"not a time":              t0,
		"2026-12-02T06:00:05Z":    t0, // later than its own creation: not believed
		"2026-12-01T06:00:00Z":    t0, // far earlier: not believed
	} {
		if got := SubmittedAt(at(v)); !got.Equal(want) {
			t.Errorf("SubmittedAt(%q) = %v, want %v", v, got, want)
		}
	}
}
