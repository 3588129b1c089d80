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
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/test/wrappers"
)

// scanPage is the list as it was before the index: every job of the tenant,
// sorted newest first, filtered, resumed after the token. The index must
// answer exactly this.
func scanPage(jobs map[types.NamespacedName]*v1alpha1.AsyncJob, ns, tenant string, f listFilter, n int) []string {
	var all []*v1alpha1.AsyncJob
	for _, aj := range jobs {
		if aj.Namespace == ns && aj.Labels[v1alpha1.LabelTenant] == tenant {
			all = append(all, aj)
		}
	}
	sort.Slice(all, func(i, j int) bool { return newerFirst(all[i], all[j]) })
	var out []string
	for _, aj := range all {
		if !f.matches(aj) || (f.token != nil && !f.token.after(aj.CreationTimestamp.Time, aj.Name)) {
			continue
		}
		if len(out) == n {
			break
		}
		out = append(out, aj.Name)
	}
	return out
}

func namesOf(jobs []*v1alpha1.AsyncJob) []string {
	var out []string
	for _, aj := range jobs {
		out = append(out, aj.Name)
	}
	return out
}

var (
	indexStates = []v1alpha1.AsyncJobState{"", v1alpha1.StatePending, v1alpha1.StateRunning, v1alpha1.StateCompleted, v1alpha1.StateFailed, v1alpha1.StateCancelled}
	indexTypes  = []string{"convert", "render"}
)

// randomJob is a job of one of two tenants (or of no tenant), created in one of a few seconds (so ties on the second are
// common), with a random state, type and REST labels.
func randomJob(r *rand.Rand, name string) *v1alpha1.AsyncJob {
	w := wrappers.MakeAsyncJob(name, "ns").
		Type(indexTypes[r.IntN(len(indexTypes))]).
		State(indexStates[r.IntN(len(indexStates))]).
		Created(metav1.NewTime(time.Unix(1_700_000_000+int64(r.IntN(5)), 0)))
	if r.IntN(10) > 0 {
		w.Tenant([]string{"t1", "t2"}[r.IntN(2)])
	}
	if r.IntN(2) == 0 {
		w.Label(labelPrefix+"project", []string{"x", "y"}[r.IntN(2)])
	}
	if r.IntN(3) == 0 {
		w.Label(labelPrefix+"team", "red")
	}
	if r.IntN(4) == 0 {
		w.Label("other.example.com/project", "x") // not a REST label
	}
	return w.Obj()
}

// randomFilter is a filter of GET /v1/jobs: none, some or all of status
// (one or several), type and labels.
func randomFilter(r *rand.Rand) listFilter {
	f := listFilter{labels: map[string]string{}}
	if r.IntN(2) == 0 {
		f.statuses = map[v1alpha1.AsyncJobState]bool{}
		for range 1 + r.IntN(3) {
			f.statuses[indexStates[1+r.IntN(len(indexStates)-1)]] = true
		}
	}
	if r.IntN(3) == 0 {
		f.typ = []string{"convert", "render", "missing"}[r.IntN(3)]
	}
	if r.IntN(3) == 0 {
		f.labels["project"] = []string{"x", "y", "z"}[r.IntN(3)]
	}
	if r.IntN(4) == 0 {
		f.labels["team"] = "red"
	}
	return f
}

// TestIndexPagesAsTheScanDid: under random adds, updates (state, labels,
// tenant), deletes and a delete of a job it never saw, every page the index
// answers, for random filters, page sizes and tokens (at jobs that exist and
// at positions that do not), is the page the scan and sort gave; and the
// unfinished count is the count of unfinished jobs.
func TestIndexPagesAsTheScanDid(t *testing.T) {
	r := rand.New(rand.NewPCG(16, 1))
	x := newJobIndex()
	live := map[types.NamespacedName]*v1alpha1.AsyncJob{}
	for step := range 3000 {
		name := fmt.Sprintf("job-%03d", r.IntN(400))
		key := types.NamespacedName{Namespace: "ns", Name: name}
		switch op := r.IntN(10); {
		case op < 6: // add, or an update that keeps the namespace and creation time
			aj := randomJob(r, name)
			if prev := live[key]; prev != nil {
				aj.CreationTimestamp = prev.CreationTimestamp
			}
			x.observe(aj, false)
			live[key] = aj
		case op < 9:
			if prev := live[key]; prev != nil {
				x.observe(prev, true)
				delete(live, key)
			}
		default: // the informer's delete of something it never delivered
			x.observe(randomJob(r, "never-seen"), true)
		}
		if step%10 != 0 {
			continue
		}
		for range 5 {
			tenant := []string{"t1", "t2", "t3"}[r.IntN(3)]
			f := randomFilter(r)
			n := 1 + r.IntN(8)
			if r.IntN(2) == 0 {
				if want := scanPage(live, "ns", tenant, f, 1+r.IntN(30)); len(want) > 0 {
					pos := live[types.NamespacedName{Namespace: "ns", Name: want[len(want)-1]}]
					f.token = &pageToken{Created: pos.CreationTimestamp.Unix(), Name: pos.Name}
				} else {
					f.token = &pageToken{Created: 1_700_000_002, Name: fmt.Sprintf("job-%03d", r.IntN(400))}
				}
			}
			want := scanPage(live, "ns", tenant, f, n)
			if diff := cmp.Diff(want, namesOf(x.page("ns", tenant, f, n))); diff != "" {
				t.Fatalf("step %d, tenant %s, filter %+v, token %+v, n %d: page (-scan +index):\n%s", step, tenant, f, f.token, n, diff)
			}
		}
		for _, tenant := range []string{"t1", "t2", "t3"} {
			want := 0
			for _, aj := range live {
				if aj.Labels[v1alpha1.LabelTenant] == tenant && !aj.Status.State.IsFinished() {
					want++
				}
			}
			if got := x.unfinished("ns", tenant); got != want {
				t.Fatalf("step %d: tenant %s has %d unfinished jobs, the index counts %d", step, tenant, want, got)
			}
		}
	}
}

// TestIndexTenantsApart: a tenant's jobs are keyed by namespace and tenant
// label: neither another namespace's jobs of the same tenant nor jobs
// without a tenant appear, and a job whose tenant label changes moves.
func TestIndexTenantsApart(t *testing.T) {
	x := newJobIndex()
	created := metav1.NewTime(time.Unix(1_700_000_000, 0))
	a := wrappers.MakeAsyncJob("a", "ns1").Tenant("t1").Created(created).Obj()
	b := wrappers.MakeAsyncJob("b", "ns2").Tenant("t1").Created(created).Obj()
	c := wrappers.MakeAsyncJob("c", "ns1").Created(created).Obj()
	for _, aj := range []*v1alpha1.AsyncJob{a, b, c} {
		x.observe(aj, false)
	}
	all := listFilter{}
	if got := namesOf(x.page("ns1", "t1", all, 10)); !cmp.Equal(got, []string{"a"}) {
		t.Errorf("ns1/t1 lists %v, want [a]", got)
	}
	moved := a.DeepCopy()
	moved.Labels[v1alpha1.LabelTenant] = "t2"
	x.observe(moved, false)
	if got := namesOf(x.page("ns1", "t1", all, 10)); len(got) != 0 {
		t.Errorf("ns1/t1 still lists %v after its tenant label changed", got)
	}
	if got := namesOf(x.page("ns1", "t2", all, 10)); !cmp.Equal(got, []string{"a"}) {
		t.Errorf("ns1/t2 lists %v, want [a]", got)
	}
	if x.unfinished("ns1", "t1") != 0 || x.unfinished("ns1", "t2") != 1 || x.unfinished("ns2", "t1") != 1 {
		t.Errorf("unfinished counts: ns1/t1 %d, ns1/t2 %d, ns2/t1 %d; want 0, 1, 1",
			x.unfinished("ns1", "t1"), x.unfinished("ns1", "t2"), x.unfinished("ns2", "t1"))
	}
	x.observe(moved, true)
	if len(x.tenants) != 1 || len(x.indexed) != 1 {
		t.Errorf("after deleting a: %d tenants, %d jobs indexed; want 1 and 1 (ns2/t1's b)", len(x.tenants), len(x.indexed))
	}
}
