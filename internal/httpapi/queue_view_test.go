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
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/asyncjob/asyncjob/test/wrappers"
)

// TestIntegrationQueuePositions: with the real controller, a type with max 2
// runs two jobs; the others' GET says their place in line in submission
// order, a higher priority moves a job to the head, a priority beyond the
// type's bound is refused, and once a job of the type has completed the
// waiting ones get an estimated start.
func TestIntegrationQueuePositions(t *testing.T) {
	h := newHarness(t)
	startController(t)
	ctx := context.Background()
	h.must(h.env.Client.Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: h.tenantA, Name: "default"}}))
	typ := h.typ + "-queue"
	jt := wrappers.MakeAsyncJobType(typ).Description("queued").Schema(`{"type":"object"}`).Image("busybox").
		Concurrency(2, 0).MaxPriority(5).Obj()
	h.must(h.env.Client.Create(ctx, jt))
	t.Cleanup(func() { _ = h.env.Client.Delete(context.Background(), jt) })
	h.eventually("the controller makes the type submittable", func() bool {
		return h.request(http.MethodGet, "/v1/types/"+typ, h.tenantA, nil).StatusCode == http.StatusOK
	})
	var view jobType
	h.request(http.MethodGet, "/v1/types/"+typ, h.tenantA, nil).expect(t, http.StatusOK).json(t, &view)
	if view.MaxPriority != 5 {
		t.Errorf("type maxPriority %d, want 5", view.MaxPriority)
	}

	for _, bad := range []any{6, -1, 1.5, "1"} {
		p := h.request(http.MethodPost, "/v1/jobs", h.tenantA, map[string]any{"type": typ, "priority": bad}).
			expect(t, http.StatusUnprocessableEntity).problem(t)
		if len(p.Errors) != 1 || p.Errors[0].Pointer != "/priority" {
			t.Errorf("priority %v: errors %+v, want one at /priority", bad, p.Errors)
		}
	}
	submit := func(priority int) Job {
		return h.request(http.MethodPost, "/v1/jobs", h.tenantA, map[string]any{"type": typ, "priority": priority}).
			expect(t, http.StatusAccepted).job(t)
	}
	var ids []string
	for range 5 {
		ids = append(ids, submit(0).ID)
	}
	running := func(id string) bool {
		var job batchv1.Job
		return h.env.Client.Get(ctx, client.ObjectKey{Namespace: h.tenantA, Name: id}, &job) == nil && !ptr.Deref(job.Spec.Suspend, false)
	}
	h.eventually("the first two run", func() bool { return running(ids[0]) && running(ids[1]) })
	expectLine := func(line []string) {
		t.Helper()
		var last string
		h.eventually(fmt.Sprintf("the line is %v", line), func() bool {
			for i, id := range line {
				j := h.request(http.MethodGet, "/v1/jobs/"+id, h.tenantA, nil).expect(t, http.StatusOK).job(t)
				if j.Status != StatusPending || j.Queue == nil || j.Queue.Name != typ || j.Queue.Position != i+1 || j.Queue.Ahead != i {
					last = fmt.Sprintf("%s: status %s, queue %+v; want position %d", id, j.Status, j.Queue, i+1)
					return false
				}
			}
			return true
		})
		if last != "" && t.Failed() {
			t.Log(last)
		}
	}
	expectLine(ids[2:])
	for _, id := range ids[:2] {
		if j := h.request(http.MethodGet, "/v1/jobs/"+id, h.tenantA, nil).expect(t, http.StatusOK).job(t); j.Queue != nil {
			t.Errorf("admitted %s: queue %+v, want null", id, j.Queue)
		}
	}
	// No completed job of the type yet: no estimate.
	if j := h.request(http.MethodGet, "/v1/jobs/"+ids[2], h.tenantA, nil).expect(t, http.StatusOK).job(t); j.Queue.EstimatedStartAt != nil {
		t.Errorf("estimate without history: %v", j.Queue.EstimatedStartAt)
	}

	// A long-poll of a waiting job is held (its ETag covers its place in line).
	first := h.request(http.MethodGet, "/v1/jobs/"+ids[4], h.tenantA, nil).expect(t, http.StatusOK)
	held := h.request(http.MethodGet, "/v1/jobs/"+ids[4], h.tenantA, nil, "If-None-Match", first.Header.Get("ETag"), "Prefer", "wait=1").
		expect(t, http.StatusNotModified)
	if got := held.Header.Get("Preference-Applied"); got != "wait=1" {
		t.Errorf("held GET of a waiting job: Preference-Applied %q, want wait=1", got)
	}

	urgent := submit(5).ID
	expectLine([]string{urgent, ids[2], ids[3], ids[4]})

	// Idempotency: the priority is part of the fingerprint.
	h.request(http.MethodPost, "/v1/jobs", h.tenantA, map[string]any{"type": typ, "priority": 1}, "Idempotency-Key", "prio").expect(t, http.StatusAccepted)
	h.request(http.MethodPost, "/v1/jobs", h.tenantA, map[string]any{"type": typ, "priority": 2}, "Idempotency-Key", "prio").expect(t, http.StatusUnprocessableEntity)
	keyed := h.request(http.MethodPost, "/v1/jobs", h.tenantA, map[string]any{"type": typ, "priority": 1}, "Idempotency-Key", "prio").expect(t, http.StatusAccepted).job(t).ID
	expectLine([]string{urgent, keyed, ids[2], ids[3], ids[4]})

	// The first job completes after 40 s of running: the urgent one starts,
	// and the waiting ones get an estimate from that run and the 2 slots.
	job := h.integrationJob(h.tenantA, ids[0])
	start := time.Now().Add(-time.Minute).Truncate(time.Second)
	end := start.Add(40 * time.Second)
	h.env.CreatePod(t, workerPod(job, corev1.PodSucceeded, start).Terminated("worker", 0, "", metav1.NewTime(end)).Obj())
	h.env.UpdateJobStatus(t, job, func(s *batchv1.JobStatus) {
		s.StartTime, s.CompletionTime, s.Succeeded = ptr.To(metav1.NewTime(start)), ptr.To(metav1.NewTime(end)), 1
		s.Conditions = append(s.Conditions, wrappers.CompleteConditions(metav1.NewTime(end))...)
	})
	h.integrationStatus(h.tenantA, ids[0], StatusCompleted)
	h.eventually("the urgent job runs", func() bool { return running(urgent) })
	expectLine([]string{keyed, ids[2], ids[3], ids[4]})
	var est []time.Time
	for _, id := range []string{keyed, ids[2], ids[3]} {
		j := h.request(http.MethodGet, "/v1/jobs/"+id, h.tenantA, nil).expect(t, http.StatusOK).job(t)
		if j.Queue == nil || j.Queue.EstimatedStartAt == nil {
			t.Fatalf("%s: queue %+v, want an estimate", id, j.Queue)
		}
		est = append(est, *j.Queue.EstimatedStartAt)
	}
	// Positions 1 and 2 start in the same round, position 3 one mean (40 s) later.
	if !est[0].Equal(est[1]) || est[2].Sub(est[1]) != 40*time.Second {
		t.Errorf("estimates %v: want positions 1 and 2 equal and 3 40s later", est)
	}
	done := h.request(http.MethodGet, "/v1/jobs/"+ids[0], h.tenantA, nil).expect(t, http.StatusOK).job(t)
	if done.Timings.Running == nil || *done.Timings.Running != 40 || done.Timings.Queued == nil {
		t.Errorf("completed job's timings %+v, want running 40", done.Timings)
	}
}
