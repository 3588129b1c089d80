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
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asyncjob/asyncjob/api/v1alpha1"
)

// listAll pages through GET /v1/jobs?query, returning the ids in order.
func (h *harness) listAll(tenant, query string, between func(page int)) []string {
	h.t.Helper()
	var ids []string
	token := ""
	for page := 0; ; page++ {
		q, err := url.ParseQuery(query)
		h.must(err)
		if token != "" {
			q.Set("pageToken", token)
		}
		var list jobList
		h.request(http.MethodGet, "/v1/jobs?"+q.Encode(), tenant, nil).expect(h.t, http.StatusOK).json(h.t, &list)
		for _, j := range list.Items {
			ids = append(ids, j.ID)
		}
		if list.NextPageToken == "" {
			return ids
		}
		token = list.NextPageToken
		if between != nil {
			between(page)
		}
		if page > 100 {
			h.t.Fatal("pagination does not end")
		}
	}
}

// TestListPaginationIsStableUnderInserts: paging with limit=2 while other jobs
// are created between pages returns every job that existed at the start,
// exactly once, newest first.
func TestListPaginationIsStableUnderInserts(t *testing.T) {
	h := newHarness(t)
	var before []string
	for range 7 {
		before = append(before, h.submit(h.tenantA, nil).ID)
	}
	h.waitListed(h.tenantA, len(before))
	want := h.listAll(h.tenantA, "limit=100", nil) // the order at the start
	if len(want) != len(before) {
		t.Fatalf("listed %d, created %d", len(want), len(before))
	}
	got := h.listAll(h.tenantA, "limit=2", func(page int) {
		// Concurrent inserts between pages, visible to the cache before the next page.
		var wg sync.WaitGroup
		for range 2 {
			wg.Add(1)
			go func() { defer wg.Done(); h.submit(h.tenantA, nil) }()
		}
		wg.Wait()
		h.waitListed(h.tenantA, len(before)+2*(page+1))
	})
	seen := map[string]int{}
	for _, id := range got {
		seen[id]++
	}
	for _, id := range want {
		if seen[id] != 1 {
			t.Errorf("job %s listed %d times, want once", id, seen[id])
		}
	}
	// The original jobs keep their relative order.
	var order []string
	for _, id := range got {
		for _, w := range want {
			if id == w {
				order = append(order, id)
			}
		}
	}
	for i := range want {
		if i < len(order) && order[i] != want[i] {
			t.Fatalf("order changed: %v vs %v", order, want)
		}
	}
}

func TestListNewestFirstAndFilters(t *testing.T) {
	h := newHarness(t)
	a := h.submit(h.tenantA, map[string]string{"project": "x", "team": "red"})
	b := h.submit(h.tenantA, map[string]string{"project": "y"})
	c := h.submit(h.tenantA, map[string]string{"project": "x"})
	h.waitListed(h.tenantA, 3)
	h.setStatus(h.tenantA, b.ID, func(s *v1alpha1.AsyncJobStatus) { s.State = v1alpha1.StateRunning })

	all := h.listAll(h.tenantA, "", nil)
	if len(all) != 3 {
		t.Fatalf("listed %v", all)
	}
	cases := map[string][]string{
		"label=project%3Dx":                  {a.ID, c.ID},
		"label=project%3Dx&label=team%3Dred": {a.ID},
		"status=RUNNING":                     {b.ID},
		"status=PENDING":                     {a.ID, c.ID},
		"status=PENDING,RUNNING":             {a.ID, b.ID, c.ID},
		"type=" + h.typ:                      {a.ID, b.ID, c.ID},
		"type=other":                         {},
		"status=COMPLETED&label=project%3Dx": {},
	}
	for query, want := range cases {
		got := h.listAll(h.tenantA, query, nil)
		if !sameSet(got, want) {
			t.Errorf("%s: got %v, want %v", query, got, want)
		}
	}
	// Newest first: creation order reversed, names break same-second ties, so
	// check against the server's own order being sorted by (created desc, name desc).
	var list jobList
	h.request(http.MethodGet, "/v1/jobs", h.tenantA, nil).expect(t, http.StatusOK).json(t, &list)
	for i := 1; i < len(list.Items); i++ {
		p, q := list.Items[i-1], list.Items[i]
		if p.CreatedAt.Before(q.CreatedAt) || (p.CreatedAt.Equal(q.CreatedAt) && p.ID < q.ID) {
			t.Errorf("not newest first: %s (%v) before %s (%v)", p.ID, p.CreatedAt, q.ID, q.CreatedAt)
		}
	}
}

// TestListNewestFirstAcrossSeconds: jobs created in different seconds
// (creationTimestamp has one-second resolution) list newest first, on one
// page and across pages. Their ids are chosen to sort the other way, so an
// order by name alone, the same-second tie-break, would fail.
func TestListNewestFirstAcrossSeconds(t *testing.T) {
	h := newHarness(t)
	// Idempotency keys fix the ids: create in descending id order.
	keys := []string{"first", "second", "third"}
	sort.Slice(keys, func(i, j int) bool { return jobIDForKey(h.tenantA, keys[i]) > jobIDForKey(h.tenantA, keys[j]) })
	body := map[string]any{"type": h.typ, "parameters": map[string]any{"input": "https://example.com/a", "format": "webm"}}
	var created []Job
	for i, key := range keys {
		if i > 0 {
			// The API server stamps creation with this machine's clock: wait
			// until it has passed the previous job's second.
			next := created[i-1].CreatedAt.Truncate(time.Second).Add(time.Second)
			time.Sleep(time.Until(next))
		}
		created = append(created, h.request(http.MethodPost, "/v1/jobs", h.tenantA, body, "Idempotency-Key", key).
			expect(t, http.StatusAccepted).job(t))
	}
	for i := 1; i < len(created); i++ {
		if !created[i].CreatedAt.After(created[i-1].CreatedAt) || created[i].ID > created[i-1].ID {
			t.Fatalf("set-up: want later seconds and smaller ids, got %+v then %+v", created[i-1], created[i])
		}
	}
	want := []string{created[2].ID, created[1].ID, created[0].ID}
	h.waitListed(h.tenantA, len(want))
	var list jobList
	h.request(http.MethodGet, "/v1/jobs", h.tenantA, nil).expect(t, http.StatusOK).json(t, &list)
	var got []string
	for _, j := range list.Items {
		got = append(got, j.ID)
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("one page: %v, want newest first %v", got, want)
	}
	if paged := h.listAll(h.tenantA, "limit=1", nil); strings.Join(paged, ",") != strings.Join(want, ",") {
		t.Errorf("pages of one: %v, want newest first %v", paged, want)
	}
}

func TestListLimits(t *testing.T) {
	h := newHarness(t)
	for range 3 {
		h.submit(h.tenantA, nil)
	}
	h.waitListed(h.tenantA, 3)
	var list jobList
	h.request(http.MethodGet, "/v1/jobs?limit=1", h.tenantA, nil).expect(t, http.StatusOK).json(t, &list)
	if len(list.Items) != 1 || list.NextPageToken == "" {
		t.Errorf("limit=1: %d items, token %q", len(list.Items), list.NextPageToken)
	}
	if _, err := url.Parse("/?pageToken=" + list.NextPageToken); err != nil || url.QueryEscape(list.NextPageToken) != list.NextPageToken {
		t.Errorf("page token %q is not URL-safe", list.NextPageToken)
	}
	// Larger than the maximum is clamped, not refused.
	list = jobList{}
	h.request(http.MethodGet, "/v1/jobs?limit=100000", h.tenantA, nil).expect(t, http.StatusOK).json(t, &list)
	if len(list.Items) != 3 || list.NextPageToken != "" {
		t.Errorf("clamped limit: %d items, token %q", len(list.Items), list.NextPageToken)
	}
	first := jobList{}
	h.request(http.MethodGet, "/v1/jobs?limit=1&status=PENDING", h.tenantA, nil).expect(t, http.StatusOK).json(t, &first)
	bad := []struct{ query, code string }{
		{"limit=-1", problemInvalidQuery.Code},
		{"limit=ten", problemInvalidQuery.Code},
		{"status=DONE", problemInvalidQuery.Code},
		{"sort=name", problemInvalidQuery.Code},
		{"label=noequals", problemInvalidQuery.Code},
		{"pageToken=garbage!", problemInvalidPageToken.Code},
		// The filters changed since the token was issued.
		{"status=RUNNING&pageToken=" + first.NextPageToken, problemInvalidPageToken.Code},
	}
	for _, tc := range bad {
		r := h.request(http.MethodGet, "/v1/jobs?"+tc.query, h.tenantA, nil).expect(t, http.StatusBadRequest)
		if p := r.problem(t); p.Code != tc.code {
			t.Errorf("%s: code %s, want %s", tc.query, p.Code, tc.code)
		}
	}
	// The same filters with the token work, and a different limit is fine.
	h.request(http.MethodGet, "/v1/jobs?limit=5&status=PENDING&pageToken="+first.NextPageToken, h.tenantA, nil).expect(t, http.StatusOK)
}

// TestListLimitZeroIsTheDefault: limit=0 means the default page size, as
// does no limit at all.
func TestListLimitZeroIsTheDefault(t *testing.T) {
	h := newHarness(t)
	for range defaultPageSize + 1 {
		h.submit(h.tenantA, nil)
	}
	h.waitListed(h.tenantA, defaultPageSize+1)
	for _, query := range []string{"?limit=0", ""} {
		var list jobList
		h.request(http.MethodGet, "/v1/jobs"+query, h.tenantA, nil).expect(t, http.StatusOK).json(t, &list)
		if len(list.Items) != defaultPageSize || list.NextPageToken == "" {
			t.Errorf("GET /v1/jobs%s: %d items, next page token %q; want %d and a token", query, len(list.Items), list.NextPageToken, defaultPageSize)
		}
	}
}

// waitListed waits until the server lists n jobs of tenant (its index, or
// the cache before the index has synced).
func (h *harness) waitListed(tenant string, n int) {
	h.t.Helper()
	h.eventually("the server lists the jobs", func() bool {
		jobs, err := h.server.store.listPage(h.t.Context(), tenant, tenant, listFilter{}, n)
		return err == nil && len(jobs) >= n
	})
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]bool{}
	for _, x := range a {
		m[x] = true
	}
	for _, x := range b {
		if !m[x] {
			return false
		}
	}
	return true
}
