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
	"slices"
	"strings"
	"sync"

	"github.com/google/btree"
	"k8s.io/apimachinery/pkg/types"

	"github.com/asyncjob/asyncjob/api/v1alpha1"
)

// btreeDegree is the index's B-tree node width: wide nodes keep the trees
// shallow and their items (16 bytes each) close together in memory.
const btreeDegree = 32

// listEntry is one job in an index tree: its creation second, for ordering
// without a pointer chase, and the cache's object (read-only: never modified,
// replaced by the informer on every change).
type listEntry struct {
	created int64
	aj      *v1alpha1.AsyncJob
}

// listOrder is newerFirst over entries: creationTimestamp descending, then
// name descending. Trees iterate in this order, the order of GET /v1/jobs.
func listOrder(a, b listEntry) bool {
	if a.created != b.created {
		return a.created > b.created
	}
	return a.aj.Name > b.aj.Name
}

func newTree() *btree.BTreeG[listEntry] { return btree.NewG(btreeDegree, listOrder) }

// tenantJobs is one tenant's jobs in one namespace, in list order, once in
// full and once per value of each filter of GET /v1/jobs, so a page of a
// filtered list walks only jobs of the filter's value. It also counts the
// unfinished jobs, for the submission quota.
type tenantJobs struct {
	all     *btree.BTreeG[listEntry]
	byState map[v1alpha1.AsyncJobState]*btree.BTreeG[listEntry]
	byType  map[string]*btree.BTreeG[listEntry]
	// byLabel is keyed by the Kubernetes label, "key=value", of REST labels only.
	byLabel    map[string]*btree.BTreeG[listEntry]
	unfinished int
}

func newTenantJobs() *tenantJobs {
	return &tenantJobs{all: newTree(), byState: map[v1alpha1.AsyncJobState]*btree.BTreeG[listEntry]{},
		byType: map[string]*btree.BTreeG[listEntry]{}, byLabel: map[string]*btree.BTreeG[listEntry]{}}
}

func entryFor(aj *v1alpha1.AsyncJob) listEntry {
	return listEntry{created: aj.CreationTimestamp.Unix(), aj: aj}
}

// restLabelKeys are aj's REST labels as byLabel keys.
func restLabelKeys(aj *v1alpha1.AsyncJob) []string {
	var keys []string
	for k, v := range aj.Labels {
		if strings.HasPrefix(k, labelPrefix) {
			keys = append(keys, k+"="+v)
		}
	}
	return keys
}

func insertInto[K comparable](m map[K]*btree.BTreeG[listEntry], k K, e listEntry) {
	t := m[k]
	if t == nil {
		t = newTree()
		m[k] = t
	}
	t.ReplaceOrInsert(e)
}

func deleteFrom[K comparable](m map[K]*btree.BTreeG[listEntry], k K, e listEntry) {
	if t := m[k]; t != nil {
		t.Delete(e)
		if t.Len() == 0 {
			delete(m, k) // values come and go (labels): keep no empty trees
		}
	}
}

// add indexes aj, which must not be in t.
func (t *tenantJobs) add(aj *v1alpha1.AsyncJob) {
	e := entryFor(aj)
	t.all.ReplaceOrInsert(e)
	insertInto(t.byState, stateForFilter(aj), e)
	insertInto(t.byType, aj.Spec.Type, e)
	for _, k := range restLabelKeys(aj) {
		insertInto(t.byLabel, k, e)
	}
	if !aj.Status.State.IsFinished() {
		t.unfinished++
	}
}

// remove un-indexes aj, exactly as add indexed it.
func (t *tenantJobs) remove(aj *v1alpha1.AsyncJob) {
	e := entryFor(aj)
	t.all.Delete(e)
	deleteFrom(t.byState, stateForFilter(aj), e)
	deleteFrom(t.byType, aj.Spec.Type, e)
	for _, k := range restLabelKeys(aj) {
		deleteFrom(t.byLabel, k, e)
	}
	if !aj.Status.State.IsFinished() {
		t.unfinished--
	}
}

// matches reports whether aj passes every filter of f (not its token).
func (f listFilter) matches(aj *v1alpha1.AsyncJob) bool {
	if f.typ != "" && aj.Spec.Type != f.typ {
		return false
	}
	if f.statuses != nil && !f.statuses[stateForFilter(aj)] {
		return false
	}
	for k, v := range f.labels {
		if got, ok := aj.Labels[labelPrefix+k]; !ok || got != v {
			return false
		}
	}
	return true
}

// candidates picks the trees to walk for f: those of the filter whose value
// holds the fewest jobs (for statuses, one tree per status, disjoint). Every
// job matching f is in one of them; the walk checks the other filters.
func (t *tenantJobs) candidates(f listFilter) []*btree.BTreeG[listEntry] {
	best, bestLen := []*btree.BTreeG[listEntry]{t.all}, t.all.Len()
	consider := func(trees []*btree.BTreeG[listEntry]) {
		n := 0
		for _, tr := range trees {
			n += tr.Len()
		}
		if n < bestLen {
			best, bestLen = trees, n
		}
	}
	if f.statuses != nil {
		var trees []*btree.BTreeG[listEntry]
		for s := range f.statuses {
			if tr := t.byState[s]; tr != nil {
				trees = append(trees, tr)
			}
		}
		consider(trees)
	}
	if f.typ != "" {
		consider(nonNil(t.byType[f.typ]))
	}
	for k, v := range f.labels {
		consider(nonNil(t.byLabel[labelPrefix+k+"="+v]))
	}
	return best
}

// nonNil is tr as a list of trees, empty for a value no job has.
func nonNil(tr *btree.BTreeG[listEntry]) []*btree.BTreeG[listEntry] {
	if tr == nil {
		return nil
	}
	return []*btree.BTreeG[listEntry]{tr}
}

// page returns the first n jobs matching f after f's token, in list order.
// It walks at most n matches per candidate tree, from the token's position
// (a B-tree seek), so its cost is that of the page, plus the jobs of the
// chosen trees that fail the other filters.
func (t *tenantJobs) page(f listFilter, n int) []*v1alpha1.AsyncJob {
	var pivot *listEntry
	if f.token != nil {
		pivot = &listEntry{created: f.token.Created, aj: &v1alpha1.AsyncJob{}}
		pivot.aj.Name = f.token.Name
	}
	var out []listEntry
	for _, tr := range t.candidates(f) {
		found := 0
		visit := func(e listEntry) bool {
			if pivot != nil && e.created == pivot.created && e.aj.Name == pivot.aj.Name {
				return true // the token's own job: the page starts after it
			}
			if f.matches(e.aj) {
				out = append(out, e)
				found++
			}
			return found < n
		}
		if pivot != nil {
			tr.AscendGreaterOrEqual(*pivot, visit)
		} else {
			tr.Ascend(visit)
		}
	}
	slices.SortFunc(out, func(a, b listEntry) int {
		switch {
		case listOrder(a, b):
			return -1
		case listOrder(b, a):
			return 1
		}
		return 0
	})
	jobs := make([]*v1alpha1.AsyncJob, 0, min(n, len(out)))
	for _, e := range out[:min(n, len(out))] {
		jobs = append(jobs, e.aj)
	}
	return jobs
}

// tenantKey names one tenant's jobs: the tenant label within a namespace, as
// the list's selector reads them.
type tenantKey struct{ namespace, tenant string }

// jobIndex is every tenant's tenantJobs, kept by the API's AsyncJob informer
// (observe, from its event handlers), so neither a list page nor the quota
// check scans or copies the tenant's jobs. It lags the cache by the
// informer's delivery to handlers, as every handler does.
type jobIndex struct {
	mu      sync.RWMutex
	tenants map[tenantKey]*tenantJobs
	// indexed is each job as it was indexed, so an update or delete removes
	// exactly what was added, whatever the informer says the old object was.
	indexed map[types.NamespacedName]*v1alpha1.AsyncJob
	// synced reports whether the informer's initial list has been indexed;
	// until then the index is partial and the store scans the cache instead.
	synced func() bool
}

func newJobIndex() *jobIndex {
	return &jobIndex{tenants: map[tenantKey]*tenantJobs{}, indexed: map[types.NamespacedName]*v1alpha1.AsyncJob{},
		synced: func() bool { return false }}
}

// observe indexes aj as it now is; deleted removes it.
func (x *jobIndex) observe(aj *v1alpha1.AsyncJob, deleted bool) {
	key := types.NamespacedName{Namespace: aj.Namespace, Name: aj.Name}
	x.mu.Lock()
	defer x.mu.Unlock()
	if prev := x.indexed[key]; prev != nil {
		tk := tenantKey{prev.Namespace, prev.Labels[v1alpha1.LabelTenant]}
		t := x.tenants[tk]
		t.remove(prev)
		if t.all.Len() == 0 {
			delete(x.tenants, tk)
		}
		delete(x.indexed, key)
	}
	tenant, ok := aj.Labels[v1alpha1.LabelTenant]
	if deleted || !ok {
		return
	}
	tk := tenantKey{aj.Namespace, tenant}
	t := x.tenants[tk]
	if t == nil {
		t = newTenantJobs()
		x.tenants[tk] = t
	}
	t.add(aj)
	x.indexed[key] = aj
}

// page is tenantJobs.page for the tenant's jobs in ns.
func (x *jobIndex) page(ns, tenant string, f listFilter, n int) []*v1alpha1.AsyncJob {
	x.mu.RLock()
	defer x.mu.RUnlock()
	t := x.tenants[tenantKey{ns, tenant}]
	if t == nil {
		return nil
	}
	return t.page(f, n)
}

// unfinished counts the tenant's jobs in ns that are not finished.
func (x *jobIndex) unfinished(ns, tenant string) int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if t := x.tenants[tenantKey{ns, tenant}]; t != nil {
		return t.unfinished
	}
	return 0
}

// resourceVersion is the version of the job key as indexed ("" when it is
// not), for tests that must wait for the index rather than the cache.
func (x *jobIndex) resourceVersion(key types.NamespacedName) string {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if aj := x.indexed[key]; aj != nil {
		return aj.ResourceVersion
	}
	return ""
}
