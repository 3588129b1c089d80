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
	"net/http"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/asyncjob/asyncjob/test/wrappers"
)

// TestEventsWithController: with the real controller deriving the job's
// status from its batch Job and pod (written as kube-controller-manager and
// the kubelet would), one stream sees PENDING, RUNNING and COMPLETED with the
// result, with increasing ids, and then ends.
func TestEventsWithController(t *testing.T) {
	h := newHarness(t)
	t.Cleanup(h.server.CloseStreams)
	startController(t)
	ctx := context.Background()
	h.must(h.env.Client.Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: h.tenantA, Name: "default"}}))
	typ := h.typ + "-ctrl"
	h.createType(typ, `{"type":"object","required":["format"],"properties":{"format":{"type":"string"}}}`, false)
	h.eventually("the controller makes the type submittable", func() bool {
		return h.request(http.MethodGet, "/v1/types/"+typ, h.tenantA, nil).StatusCode == http.StatusOK
	})
	j := h.request(http.MethodPost, "/v1/jobs", h.tenantA, map[string]any{"type": typ, "parameters": map[string]any{"format": "webm"}}).
		expect(t, http.StatusAccepted).job(t)
	s := h.openStream("/v1/jobs/"+j.ID+"/events", h.tenantA)

	// statuses reads events until one has the status, checking the order.
	var prevID uint64
	rank := map[Status]int{StatusPending: 0, StatusRunning: 1, StatusCompleted: 2}
	until := func(want Status) Job {
		t.Helper()
		for {
			ev := s.nextEvent()
			id, ok := parseEventID(ev.id)
			if !ok || id <= prevID {
				t.Fatalf("event id %q after %d", ev.id, prevID)
			}
			prevID = id
			got := ev.job(t)
			if rank[got.Status] > rank[want] {
				t.Fatalf("event %s before %s", got.Status, want)
			}
			if got.Status == want {
				if ev.name != string(want) {
					t.Errorf("event name %q for a change to %s", ev.name, want)
				}
				return got
			}
		}
	}
	until(StatusPending)
	job := h.integrationJob(h.tenantA, j.ID)
	start := time.Now().Add(-time.Minute).Truncate(time.Second)
	h.env.CreatePod(t, workerPod(job, corev1.PodRunning, start).Running("worker").Obj())
	h.env.UpdateJobStatus(t, job, func(st *batchv1.JobStatus) { st.StartTime = ptr.To(metav1.NewTime(start)); st.Active = 1 })
	if got := until(StatusRunning); got.StartedAt == nil {
		t.Errorf("RUNNING without startedAt: %+v", got)
	}
	h.env.SetPodStatus(t, workerPod(job, corev1.PodSucceeded, start).
		Terminated("worker", 0, `{"url":"s3://bucket/a.webm"}`, metav1.NewTime(start.Add(time.Second))).Obj())
	end := start.Add(30 * time.Second)
	h.env.UpdateJobStatus(t, job, func(st *batchv1.JobStatus) {
		st.Active, st.Succeeded = 0, 1
		st.CompletionTime = ptr.To(metav1.NewTime(end))
		st.Conditions = append(st.Conditions, wrappers.CompleteConditions(metav1.NewTime(end))...)
	})
	if got := until(StatusCompleted); string(got.Result) != `{"url":"s3://bucket/a.webm"}` {
		t.Errorf("COMPLETED with result %s", got.Result)
	}
	s.expectEnd()
}
