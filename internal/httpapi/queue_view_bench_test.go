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
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/test/wrappers"
)

// BenchmarkQueueRead is the cost a queue adds to one GET of a waiting job: the
// scan of its type's jobs in the cache (placeInLine), for a line of n waiting
// jobs plus n/10 completed ones. The cache's List itself hands out the
// informer's objects without copying (UnsafeDisableDeepCopy).
//
//	go test ./internal/httpapi/ -run '^$' -bench BenchmarkQueueRead -benchmem
func BenchmarkQueueRead(b *testing.B) {
	jt := wrappers.MakeAsyncJobType("convert").Concurrency(2, 0).Obj()
	t0 := time.Date(2026, 12, 2, 6, 0, 0, 0, time.UTC)
	for _, n := range []int{100, 1000, 10000} {
		var items []v1alpha1.AsyncJob
		for i := range n + n/10 {
			aj := wrappers.MakeAsyncJob(fmt.Sprintf("j%06d", i), "ns").Type("convert").Tenant("acme").Obj()
			aj.CreationTimestamp = metav1.NewTime(t0.Add(time.Duration(i) * time.Second))
			if i >= n {
				start, end := metav1.NewTime(t0), metav1.NewTime(t0.Add(time.Minute))
				aj.Status = v1alpha1.AsyncJobStatus{State: v1alpha1.StateCompleted, StartTime: &start, CompletionTime: &end}
			}
			items = append(items, *aj)
		}
		last := &items[n-1] // the last in line: every other waiting job is ahead
		b.Run(fmt.Sprintf("waiting=%d", n), func(b *testing.B) {
			for b.Loop() {
				if q := placeInLine(last, jt, items); q == nil || q.Position != n {
					b.Fatalf("queue %+v, want position %d", q, n)
				}
			}
		})
	}
}
