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
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/google/uuid"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/test/framework"
	"github.com/asyncjob/asyncjob/test/wrappers"
)

// benchIndexedJobs is n jobs of tenant "dev" as the scale mode of hack/bench
// leaves them: Completed with a 125-byte result, ten per second of creation;
// the oldest tenth labelled batch=b1, the rest batch=b2; one in a hundred
// still PENDING, of another type.
func benchIndexedJobs(n int) []*v1alpha1.AsyncJob {
	result := `{"output":"s3://bucket/` + strings.Repeat("x", 90) + `","bytes":1048576}`
	start := time.Unix(1_700_000_000, 0)
	jobs := make([]*v1alpha1.AsyncJob, 0, n)
	for i := range n {
		batch := "b2"
		if i < n/10 {
			batch = "b1"
		}
		created := metav1.NewTime(start.Add(time.Duration(i) * 100 * time.Millisecond).Truncate(time.Second))
		w := wrappers.MakeAsyncJob(uuid.NewString(), "dev").Tenant("dev").Type("convert").
			Params(`{"input":"https://example.com/a.mov","format":"webm"}`).
			Label(labelPrefix+"batch", batch).Created(created)
		if i%100 == 50 {
			w.Type("render").State(v1alpha1.StatePending)
		} else {
			done := metav1.NewTime(created.Add(3 * time.Second))
			expires := metav1.NewTime(done.Add(24 * time.Hour))
			w.Status(v1alpha1.AsyncJobStatus{State: v1alpha1.StateCompleted, Attempts: 1,
				StartTime: &created, CompletionTime: &done, ExpireTime: &expires,
				Result: &apiextensionsv1.JSON{Raw: []byte(result)}})
			w.Condition(metav1.Condition{Type: v1alpha1.ConditionAccepted, Status: metav1.ConditionTrue, Reason: "Accepted", LastTransitionTime: created})
		}
		jobs = append(jobs, w.Obj())
	}
	return jobs
}

// heapInUse is the live heap after a collection.
func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkListPage: one GET /v1/jobs of 20 through the handler, in process
// (no network), the tenant's jobs in the index (store_index.go), as the
// informer feeds it (index-B/job: the index's own heap per job, the jobs
// themselves not counted). The first page, pages with each kind of filter, and a
// page that resumes from a token in the middle.
func BenchmarkListPage(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		jobs := benchIndexedJobs(n)
		c := fake.NewClientBuilder().WithScheme(framework.Scheme()).Build()
		s := newUnitServer(b, func(cfg *Config) { cfg.Cache, cfg.APIReader = c, c; cfg.Log = logr.Discard() })
		before := heapInUse()
		x := newJobIndex()
		for _, aj := range jobs {
			x.observe(aj, false)
		}
		indexBytes := float64(heapInUse()-before) / float64(n)
		x.synced = func() bool { return true }
		s.store.index = x
		h := s.Handler()
		mid := jobs[n/2]
		token := pageToken{Version: pageTokenVersion, Created: mid.CreationTimestamp.Unix(), Name: mid.Name, Filter: listFilter{}.fingerprint()}.encode()
		for _, tc := range []struct{ name, query string }{
			{"first", "limit=20"},
			{"status=COMPLETED", "limit=20&status=COMPLETED"},
			{"status=PENDING", "limit=20&status=PENDING"},
			{"label=batch=b1", "limit=20&label=batch%3Db1"},
			{"type=render&status=COMPLETED", "limit=20&type=render&status=COMPLETED"},
			{"middle", "limit=20&pageToken=" + token},
		} {
			b.Run(fmt.Sprintf("jobs=%d/%s", n, tc.name), func(b *testing.B) {
				req := httptest.NewRequest(http.MethodGet, "/v1/jobs?"+tc.query, nil)
				b.ReportAllocs()
				for b.Loop() {
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, req)
					if rec.Code != http.StatusOK {
						b.Fatalf("%s: %d %s", tc.query, rec.Code, rec.Body)
					}
				}
				b.ReportMetric(indexBytes, "index-B/job")
			})
		}
	}
}
