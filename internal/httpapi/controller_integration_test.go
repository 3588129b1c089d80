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
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlconfig "sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/internal/controller"
)

// startController runs the real asyncjob controller against envtest for the
// rest of the test. envtest has no Job controller, kubelet or garbage
// collector; the tests below write what those would (Job status, pods,
// removing finalizers), as the controller's own integration tests do.
func startController(t *testing.T) {
	t.Helper()
	mgr, err := ctrl.NewManager(testEnv.Config, ctrl.Options{
		Scheme:     testEnv.Scheme,
		Cache:      controller.CacheOptions(),
		Metrics:    metricsserver.Options{BindAddress: "0"},
		Controller: ctrlconfig.Controller{SkipNameValidation: ptr.To(true)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := controller.Setup(mgr, controller.Options{}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("manager: %v", err)
		}
	})
}

// e2eJob waits for the controller to create the batch Job of job id.
func (h *harness) e2eJob(ns, id string) *batchv1.Job {
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

// e2ePod creates a pod of job with the status a kubelet would report.
func (h *harness) e2ePod(job *batchv1.Job, suffix string, status corev1.PodStatus) {
	h.t.Helper()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: job.Name + "-" + suffix, Namespace: job.Namespace, Labels: job.Spec.Template.Labels,
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(job, batchv1.SchemeGroupVersion.WithKind("Job"))},
		},
		Spec: *job.Spec.Template.Spec.DeepCopy(),
	}
	h.must(h.env.Client.Create(context.Background(), pod))
	pod.Status = status
	h.must(h.env.Client.Status().Update(context.Background(), pod))
}

// e2eJobStatus applies f to the Job's status as the Job controller would.
func (h *harness) e2eJobStatus(job *batchv1.Job, f func(*batchv1.JobStatus)) {
	h.t.Helper()
	h.eventually("the Job's status is written", func() bool {
		var cur batchv1.Job
		if err := h.env.Client.Get(context.Background(), client.ObjectKeyFromObject(job), &cur); err != nil {
			return false
		}
		f(&cur.Status)
		return h.env.Client.Status().Update(context.Background(), &cur) == nil
	})
}

// e2eStatus polls the API until the job has the status.
func (h *harness) e2eStatus(tenant, id string, want Status) response {
	h.t.Helper()
	var last response
	h.eventually("job "+id+" is "+string(want)+" through the API", func() bool {
		last = h.request(http.MethodGet, "/v1/jobs/"+id, tenant, nil)
		return last.StatusCode == http.StatusOK && last.job(h.t).Status == want
	})
	return last
}

func e2eContainer(state corev1.ContainerState) []corev1.ContainerStatus {
	return []corev1.ContainerStatus{{Name: "worker", Image: "busybox", ImageID: "sha256:1", State: state}}
}

func e2eJobCondition(t batchv1.JobConditionType, reason string, at time.Time) batchv1.JobCondition {
	return batchv1.JobCondition{Type: t, Status: corev1.ConditionTrue, Reason: reason, Message: reason,
		LastProbeTime: metav1.NewTime(at), LastTransitionTime: metav1.NewTime(at)}
}

// TestWithController drives jobs submitted through the API to COMPLETED,
// FAILED and CANCELLED with the real controller deriving their status.
func TestWithController(t *testing.T) {
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
		job := h.e2eJob(h.tenantA, j.ID)
		h.e2ePod(job, "a", corev1.PodStatus{Phase: corev1.PodRunning, StartTime: ptr.To(metav1.NewTime(start)),
			ContainerStatuses: e2eContainer(corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(start)}})})
		h.e2eJobStatus(job, func(s *batchv1.JobStatus) { s.StartTime = ptr.To(metav1.NewTime(start)); s.Active = 1 })
		r := h.e2eStatus(h.tenantA, j.ID, StatusRunning)
		if r.Header.Get("Retry-After") == "" || r.job(t).StartedAt == nil {
			t.Errorf("running: Retry-After %q, job %s", r.Header.Get("Retry-After"), r.body)
		}

		var pod corev1.Pod
		h.must(h.env.Client.Get(ctx, client.ObjectKey{Namespace: h.tenantA, Name: job.Name + "-a"}, &pod))
		pod.Status = corev1.PodStatus{Phase: corev1.PodSucceeded, StartTime: ptr.To(metav1.NewTime(start)),
			ContainerStatuses: e2eContainer(corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
				ExitCode: 0, Reason: "Completed", Message: `{"url":"s3://bucket/a.webm"}`,
				StartedAt: metav1.NewTime(start), FinishedAt: metav1.NewTime(start.Add(time.Second))}})}
		h.must(h.env.Client.Status().Update(ctx, &pod))
		end := start.Add(30 * time.Second)
		h.e2eJobStatus(job, func(s *batchv1.JobStatus) {
			s.Active, s.Succeeded = 0, 1
			s.CompletionTime = ptr.To(metav1.NewTime(end))
			s.Conditions = append(s.Conditions, e2eJobCondition(batchv1.JobSuccessCriteriaMet, "CompletionsReached", end),
				e2eJobCondition(batchv1.JobComplete, "CompletionsReached", end))
		})
		r = h.e2eStatus(h.tenantA, j.ID, StatusCompleted)
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
		job := h.e2eJob(h.tenantA, j.ID)
		h.e2ePod(job, "a", corev1.PodStatus{Phase: corev1.PodFailed, StartTime: ptr.To(metav1.NewTime(start)),
			ContainerStatuses: e2eContainer(corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
				ExitCode: 3, Reason: "Error", Message: "codec unsupported",
				StartedAt: metav1.NewTime(start), FinishedAt: metav1.NewTime(start.Add(time.Second))}})})
		at := start.Add(20 * time.Second)
		h.e2eJobStatus(job, func(s *batchv1.JobStatus) {
			s.StartTime = ptr.To(metav1.NewTime(start))
			s.Failed = 1
			s.Conditions = append(s.Conditions, e2eJobCondition(batchv1.JobFailureTarget, "BackoffLimitExceeded", at),
				e2eJobCondition(batchv1.JobFailed, "BackoffLimitExceeded", at))
		})
		p := h.e2eStatus(h.tenantA, j.ID, StatusFailed).job(t).Problem
		if p == nil || p.Reason != "BackoffLimitExceeded" || p.Code != "BACKOFF_LIMIT_EXCEEDED" || p.Detail != "codec unsupported" ||
			p.ExitCode == nil || *p.ExitCode != 3 {
			t.Errorf("problem %+v", p)
		}
	})

	t.Run("cancelled", func(t *testing.T) {
		j := submit()
		job := h.e2eJob(h.tenantA, j.ID)
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
		h.e2eStatus(h.tenantA, j.ID, StatusCancelled)
		h.request(http.MethodPost, "/v1/jobs/"+j.ID+"/cancel", h.tenantA, nil).expect(t, http.StatusOK)
	})
}
