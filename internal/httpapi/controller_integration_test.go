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
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	"github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/internal/controller"
	"github.com/asyncjob/asyncjob/test/wrappers"
)

// startController runs the real asyncjob controller against envtest for the
// rest of the test. envtest has no Job controller, kubelet or garbage
// collector; the tests below write what those would (Job status, pods,
// removing finalizers) through test/framework, as the controller's own
// integration tests do.
func startController(t *testing.T) {
	t.Helper()
	testEnv.StartManager(t, controller.CacheOptions(), func(mgr manager.Manager) error {
		return controller.Setup(mgr, controller.Options{})
	})
}

// integrationJob waits for the controller to create the batch Job of job id.
func (h *harness) integrationJob(ns, id string) *batchv1.Job {
	h.t.Helper()
	var job batchv1.Job
	h.eventually("the controller creates the Job of "+id, func() bool {
		var jobs batchv1.JobList
		err := h.env.Client.List(context.Background(), &jobs, client.InNamespace(ns), client.MatchingLabels{v1alpha1.LabelName: id})
		if err != nil || len(jobs.Items) != 1 {
			return false
		}
		job = jobs.Items[0]
		return true
	})
	return &job
}

// integrationStatus polls the API until the job has the status.
func (h *harness) integrationStatus(tenant, id string, want Status) response {
	h.t.Helper()
	var last response
	h.eventually("job "+id+" is "+string(want)+" through the API", func() bool {
		last = h.request(http.MethodGet, "/v1/jobs/"+id, tenant, nil)
		return last.StatusCode == http.StatusOK && last.job(h.t).Status == want
	})
	return last
}

// workerPod is a pod of job whose worker container is in the state a kubelet
// would report since start.
func workerPod(job *batchv1.Job, phase corev1.PodPhase, start time.Time) *wrappers.PodWrapper {
	return wrappers.MakeJobPod(job, "a").Phase(phase, metav1.NewTime(start))
}

// TestIntegrationWithController drives jobs submitted through the API to COMPLETED,
// FAILED and CANCELLED with the real controller deriving their status.
func TestIntegrationWithController(t *testing.T) {
	h := newHarness(t)
	startController(t)
	ctx := context.Background()
	// Pods need the namespace's default service account; envtest creates none.
	h.must(h.env.Client.Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: h.tenantA, Name: "default"}}))
	// A type only the controller declares Ready.
	typ := h.typ + "-ctrl"
	h.createType(typ, `{"type":"object","required":["format"],"properties":{"format":{"type":"string"}}}`, false)
	h.eventually("the controller makes the type submittable", func() bool {
		return h.request(http.MethodGet, "/v1/types/"+typ, h.tenantA, nil).StatusCode == http.StatusOK
	})
	submit := func() Job {
		return h.request(http.MethodPost, "/v1/jobs", h.tenantA, map[string]any{"type": typ, "parameters": map[string]any{"format": "webm"}}).
			expect(t, http.StatusAccepted).job(t)
	}
	start := time.Now().Add(-time.Minute).Truncate(time.Second)

	t.Run("completed", func(t *testing.T) {
		j := submit()
		job := h.integrationJob(h.tenantA, j.ID)
		h.env.CreatePod(t, workerPod(job, corev1.PodRunning, start).Running("worker").Obj())
		h.env.UpdateJobStatus(t, job, func(s *batchv1.JobStatus) { s.StartTime = ptr.To(metav1.NewTime(start)); s.Active = 1 })
		r := h.integrationStatus(h.tenantA, j.ID, StatusRunning)
		if r.Header.Get("Retry-After") == "" || r.job(t).StartedAt == nil {
			t.Errorf("running: Retry-After %q, job %s", r.Header.Get("Retry-After"), r.body)
		}

		h.env.SetPodStatus(t, workerPod(job, corev1.PodSucceeded, start).
			Terminated("worker", 0, `{"url":"s3://bucket/a.webm"}`, metav1.NewTime(start.Add(time.Second))).Obj())
		end := start.Add(30 * time.Second)
		h.env.UpdateJobStatus(t, job, func(s *batchv1.JobStatus) {
			s.Active, s.Succeeded = 0, 1
			s.CompletionTime = ptr.To(metav1.NewTime(end))
			s.Conditions = append(s.Conditions, wrappers.CompleteConditions(metav1.NewTime(end))...)
		})
		r = h.integrationStatus(h.tenantA, j.ID, StatusCompleted)
		if r.Header.Get("Sunset") == "" || r.Header.Get("Retry-After") != "" || r.job(t).CompletedAt == nil {
			t.Errorf("completed: Sunset %q, Retry-After %q, job %s", r.Header.Get("Sunset"), r.Header.Get("Retry-After"), r.body)
		}
		var result map[string]any
		h.request(http.MethodGet, "/v1/jobs/"+j.ID+"/result", h.tenantA, nil).expect(t, http.StatusOK).json(t, &result)
		if result["url"] != "s3://bucket/a.webm" {
			t.Errorf("result %v", result)
		}
	})

	t.Run("failed", func(t *testing.T) {
		j := submit()
		job := h.integrationJob(h.tenantA, j.ID)
		h.env.CreatePod(t, workerPod(job, corev1.PodFailed, start).
			Terminated("worker", 3, "codec unsupported", metav1.NewTime(start.Add(time.Second))).Obj())
		at := start.Add(20 * time.Second)
		h.env.UpdateJobStatus(t, job, func(s *batchv1.JobStatus) {
			s.StartTime = ptr.To(metav1.NewTime(start))
			s.Failed = 1
			s.Conditions = append(s.Conditions,
				wrappers.FailedConditions("BackoffLimitExceeded", "BackoffLimitExceeded", metav1.NewTime(at))...)
		})
		p := h.integrationStatus(h.tenantA, j.ID, StatusFailed).job(t).Problem
		if p == nil || p.Reason != "BackoffLimitExceeded" || p.Code != "BACKOFF_LIMIT_EXCEEDED" || p.Detail != "codec unsupported" ||
			p.ExitCode == nil || *p.ExitCode != 3 {
			t.Errorf("problem %+v", p)
		}
	})

	t.Run("cancelled", func(t *testing.T) {
		j := submit()
		job := h.integrationJob(h.tenantA, j.ID)
		r := h.request(http.MethodPost, "/v1/jobs/"+j.ID+"/cancel", h.tenantA, nil).expect(t, http.StatusAccepted)
		if !r.job(t).CancelRequested {
			t.Errorf("cancel: %s", r.body)
		}
		h.eventually("the controller deletes the Job in the foreground", func() bool {
			var cur batchv1.Job
			err := h.env.Client.Get(ctx, client.ObjectKeyFromObject(job), &cur)
			return err == nil && cur.DeletionTimestamp != nil
		})
		h.request(http.MethodPost, "/v1/jobs/"+j.ID+"/cancel", h.tenantA, nil).expect(t, http.StatusAccepted)
		// Play the garbage collector: the Job's foreground finalizer goes.
		h.eventually("the Job's finalizers are removed", func() bool {
			var cur batchv1.Job
			if err := h.env.Client.Get(ctx, client.ObjectKeyFromObject(job), &cur); err != nil {
				return client.IgnoreNotFound(err) == nil
			}
			cur.Finalizers = nil
			return h.env.Client.Update(ctx, &cur) == nil
		})
		h.integrationStatus(h.tenantA, j.ID, StatusCancelled)
		h.request(http.MethodPost, "/v1/jobs/"+j.ID+"/cancel", h.tenantA, nil).expect(t, http.StatusOK)
	})
}
