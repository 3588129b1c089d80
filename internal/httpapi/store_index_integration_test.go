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
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"k8s.io/apimachinery/pkg/types"

	"github.com/asyncjob/asyncjob/api/v1alpha1"
)

// TestListFromIndexAsFromTheCache: on envtest, with jobs of several states
// and labels in two tenants, every list (each filter, paged by 2 with
// pageToken) answers what a scan and sort of the informer cache gives (the
// list before the index, scanTenant), in the same order, and the quota's
// count is the cache's count of unfinished jobs; also after jobs change state
// and one is deleted.
func TestListFromIndexAsFromTheCache(t *testing.T) {
	h := newHarness(t)
	if h.server.store.index == nil {
		t.Fatal("the harness's server has no job index")
	}
	var ids []string
	for i := range 7 {
		labels := map[string]string{"project": []string{"x", "y"}[i%2]}
		if i%3 == 0 {
			labels["team"] = "red"
		}
		ids = append(ids, h.submit(h.tenantA, labels).ID)
	}
	h.submit(h.tenantB, map[string]string{"project": "x"})
	h.waitListed(h.tenantA, len(ids))
	h.waitListed(h.tenantB, 1)
	h.eventually("the index has synced", h.server.store.index.synced)

	queries := []string{"", "status=PENDING", "status=COMPLETED", "status=RUNNING,FAILED", "label=project%3Dx",
		"label=project%3Dx&label=team%3Dred", "type=" + h.typ, "type=other", "status=PENDING&label=project%3Dy"}
	check := func(when string) {
		t.Helper()
		for _, query := range queries {
			q, err := url.ParseQuery(query)
			h.must(err)
			c, _ := gin.CreateTestContext(httptest.NewRecorder())
			c.Request = httptest.NewRequest(http.MethodGet, "/v1/jobs?"+q.Encode(), nil)
			f, err := parseListQuery(c)
			h.must(err)
			scan, err := h.server.store.scanTenant(t.Context(), h.tenantA, h.tenantA)
			h.must(err)
			want := namesOf(scan.page(f, 1000))
			if got := h.listAll(h.tenantA, query+"&limit=2", nil); !cmp.Equal(got, want, cmpopts.EquateEmpty()) {
				t.Errorf("%s: GET /v1/jobs?%s&limit=2 pages through %v; the cache, scanned and sorted: %v", when, query, got, want)
			}
		}
		scan, err := h.server.store.scanTenant(t.Context(), h.tenantA, h.tenantA)
		h.must(err)
		if got, err := h.server.store.unfinishedJobs(t.Context(), h.tenantA, h.tenantA); err != nil || got != scan.unfinished {
			t.Errorf("%s: the quota counts %d unfinished jobs (%v); the cache has %d", when, got, err, scan.unfinished)
		}
	}
	check("submitted")

	h.setStatus(h.tenantA, ids[1], func(s *v1alpha1.AsyncJobStatus) { s.State = v1alpha1.StateRunning })
	h.setStatus(h.tenantA, ids[2], func(s *v1alpha1.AsyncJobStatus) { s.State = v1alpha1.StateCompleted })
	h.setStatus(h.tenantA, ids[3], func(s *v1alpha1.AsyncJobStatus) { s.State = v1alpha1.StateFailed })
	// Deleted directly: envtest has no garbage collector to end a REST
	// DELETE's foreground deletion.
	key := types.NamespacedName{Namespace: h.tenantA, Name: ids[4]}
	gone := &v1alpha1.AsyncJob{}
	h.must(h.env.Client.Get(t.Context(), key, gone))
	h.must(h.env.Client.Delete(t.Context(), gone))
	h.eventually("the deleted job leaves the index", func() bool { return h.server.store.index.resourceVersion(key) == "" })
	check("after changes")
}
