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

package controller

import (
	"context"
	"fmt"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/asyncjob/asyncjob/test/wrappers"
)

// BenchmarkQueueAdmissionLatency measures the built-in queue's admission
// latency on envtest: from the write that finishes the running Job of a type
// with max 1 to the next waiting Job seen unsuspended through the API server
// (polled every millisecond), one slot at a time. envtest has no Job
// controller, so this is the controller's own part: the Job event, the
// admission pass (one list from the API server) and the unsuspend.
//
//	KUBEBUILDER_ASSETS=... go test ./internal/controller/ -run '^$' -bench BenchmarkQueueAdmissionLatency -benchtime 50x
func BenchmarkQueueAdmissionLatency(b *testing.B) {
	if env == nil {
		b.Skip("needs envtest")
	}
	ctx := context.Background()
	env.StartManager(b, CacheOptions(), func(m ctrl.Manager) error { return Setup(m, Options{}) })
	ns := fmt.Sprintf("bench-%d", time.Now().UnixNano()%100000)
	must := func(err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	must(env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))
	jt := convertType("bench-queue-"+ns).Concurrency(1, 0).Obj()
	must(env.Client.Create(ctx, jt))
	b.Cleanup(func() { _ = env.Client.Delete(context.Background(), jt) })
	job := func(name string) *batchv1.Job {
		j := &batchv1.Job{}
		if env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, j) != nil {
			return nil
		}
		return j
	}
	waitFor := func(what string, cond func() bool) {
		deadline := time.Now().Add(30 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				b.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(time.Millisecond)
		}
	}
	unsuspended := func(name string) bool { j := job(name); return j != nil && !ptr.Deref(j.Spec.Suspend, false) }
	submit := func(name string) {
		var err error
		for range 100 { // the type may not be Ready yet
			if err = env.Client.Create(ctx, convertJob(name, ns, jt.Name).Obj()); err == nil {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		b.Fatal(err)
	}
	running := "r0"
	submit(running)
	waitFor("the first job to run", func() bool { return unsuspended(running) })
	var total time.Duration
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		next := fmt.Sprintf("r%d", i+1)
		submit(next)
		waitFor("the next Job, suspended", func() bool { j := job(next); return j != nil && ptr.Deref(j.Spec.Suspend, false) })
		b.StartTimer()
		start := time.Now()
		now := metav1.Now()
		env.UpdateJobStatus(b, job(running), func(s *batchv1.JobStatus) {
			s.StartTime, s.CompletionTime, s.Succeeded = ptr.To(now), ptr.To(now), 1
			s.Conditions = append(s.Conditions, wrappers.CompleteConditions(now)...)
		})
		waitFor("the next Job to be admitted", func() bool { return unsuspended(next) })
		total += time.Since(start)
		running = next
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/admission")
}
