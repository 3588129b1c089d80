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
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/internal/paramschema"
	"github.com/asyncjob/asyncjob/test/wrappers"
)

// envtest has no kubelet, so these tests cover everything about the logs
// route but a log's content: test/e2e/realnode_test.go reads real ones.

func TestLogsQueryValidation(t *testing.T) {
	h := newHarness(t)
	j := h.submit(h.tenantA, nil)
	r := h.request(http.MethodGet, "/v1/jobs/"+j.ID+"/logs?follow=yes&tailLines=-1&limitBytes=0&attempt=x&since=1h&follow=true", h.tenantA, nil).
		expect(t, http.StatusBadRequest)
	p := r.problem(t)
	want := []paramschema.FieldError{
		{Pointer: "/attempt", Detail: "must be an integer of at least 1"},
		{Pointer: "/follow", Detail: "may be given once"},
		{Pointer: "/limitBytes", Detail: "must be an integer of at least 1"},
		{Pointer: "/since", Detail: "unknown query parameter; allowed: follow, tailLines, limitBytes, attempt"},
		{Pointer: "/tailLines", Detail: "must be an integer of at least 0"},
	}
	if p.Code != problemInvalidQuery.Code {
		t.Errorf("code %s, want %s", p.Code, problemInvalidQuery.Code)
	}
	if d := cmp.Diff(want, p.Errors); d != "" {
		t.Errorf("field errors (-want +got):\n%s", d)
	}
	// The query is checked before anything else: even for no job at all.
	r = h.request(http.MethodGet, "/v1/jobs/6f1c6c1e-4f0e-4a53-9a8e-2b8f0f0f7a21/logs?follow=1", h.tenantA, nil).
		expect(t, http.StatusBadRequest)
	if p := r.problem(t); len(p.Errors) != 1 || p.Errors[0].Pointer != "/follow" {
		t.Errorf("follow=1: %+v", p)
	}
}

// TestLogsTenantIsolation: another tenant's job is not found, with the very
// body a job that never existed gets.
func TestLogsTenantIsolation(t *testing.T) {
	h := newHarness(t)
	j := h.submit(h.tenantA, nil)
	job := h.addJob(h.tenantA, j.ID)
	h.addPod(wrappers.MakeJobPod(job, "a").Phase(corev1.PodPending, metav1.Time{}))

	other := h.request(http.MethodGet, "/v1/jobs/"+j.ID+"/logs", h.tenantB, nil).expect(t, http.StatusNotFound)
	const never = "6f1c6c1e-4f0e-4a53-9a8e-2b8f0f0f7a21"
	none := h.request(http.MethodGet, "/v1/jobs/"+never+"/logs", h.tenantB, nil).expect(t, http.StatusNotFound)
	if got, want := strings.ReplaceAll(string(other.body), j.ID, never), string(none.body); got != want {
		t.Errorf("another tenant's job:\n%s\na job that never existed:\n%s", got, want)
	}
	if other.problem(t).Code != problemJobNotFound.Code {
		t.Errorf("another tenant's job: %s", other.body)
	}
	// Still there for its owner.
	h.request(http.MethodGet, "/v1/jobs/"+j.ID+"/logs", h.tenantA, nil).expect(t, http.StatusConflict)
	// Metrics name the route template, never a job's id.
	rec := httptest.NewRecorder()
	h.server.MetricsHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	metrics := rec.Body.String()
	if !strings.Contains(metrics, `asyncjob_http_requests_total{code="404",method="GET",route="/v1/jobs/:id/logs"}`) || strings.Contains(metrics, j.ID) {
		t.Errorf("metrics lack the logs route's template, or show a job id")
	}
}

func TestLogsWithoutPods(t *testing.T) {
	h := newHarness(t)

	t.Run("no pod yet", func(t *testing.T) {
		j := h.submit(h.tenantA, nil)
		r := h.request(http.MethodGet, "/v1/jobs/"+j.ID+"/logs?follow=true", h.tenantA, nil).expect(t, http.StatusConflict)
		p := r.problem(t)
		if p.Code != problemLogsNotReady.Code || !strings.Contains(p.Detail, "no pod yet") || r.Header.Get("Retry-After") != "7" {
			t.Errorf("problem %+v, Retry-After %q; want LOGS_NOT_READY saying there is no pod yet, Retry-After 7 (the type's poll interval)",
				p, r.Header.Get("Retry-After"))
		}
	})

	t.Run("finished, pods gone", func(t *testing.T) {
		j := h.submit(h.tenantA, nil)
		now := metav1.Now()
		h.setStatus(h.tenantA, j.ID, func(s *v1alpha1.AsyncJobStatus) {
			s.State = v1alpha1.StateCancelled
			s.CompletionTime = &now
		})
		r := h.request(http.MethodGet, "/v1/jobs/"+j.ID+"/logs", h.tenantA, nil).expect(t, http.StatusConflict)
		if p := r.problem(t); p.Code != problemNoLogs.Code || r.Header.Get("Retry-After") != "" {
			t.Errorf("problem %+v, Retry-After %q; want NO_LOGS without Retry-After", p, r.Header.Get("Retry-After"))
		}
	})
}

// TestLogsAttempts: attempts are the Job's own pods, oldest first (not by
// name), the default is the latest, and the worker container is the one read.
func TestLogsAttempts(t *testing.T) {
	h := newHarness(t)
	j := h.submit(h.tenantA, nil)
	job := h.addJob(h.tenantA, j.ID)
	// Names in the opposite order of creation, so ordering by name would pick
	// the wrong pods.
	h.addPod(wrappers.MakeJobPod(job, "zz").Phase(corev1.PodFailed, metav1.Now()))
	h.addPod(wrappers.MakeJobPod(job, "mm").Phase(corev1.PodPending, metav1.Now()).
		ContainerStatus(corev1.ContainerStatus{Name: "worker", State: corev1.ContainerState{
			Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating", Message: "internal detail"}}}))
	// The third attempt's worker waits while its init container has run: the
	// worker's state is the one that counts.
	third := wrappers.MakeJobPod(job, "aa").Phase(corev1.PodPending, metav1.Now())
	third.Status.InitContainerStatuses = []corev1.ContainerStatus{{Name: "entrypoint",
		State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 0}}}}
	third.ContainerStatus(corev1.ContainerStatus{Name: "worker", State: corev1.ContainerState{
		Waiting: &corev1.ContainerStateWaiting{Reason: "PodInitializing"}}})
	h.addPod(third)
	// Not an attempt, though the newest: labelled as the job's, but not the Job's pod.
	stray := wrappers.MakePod(job.Name+"-stray", h.tenantA).Label(v1alpha1.LabelName, j.ID).Phase(corev1.PodPending, metav1.Now())
	stray.Spec.Containers = []corev1.Container{{Name: "worker", Image: "busybox"}}
	h.addPod(stray)

	logs := func(query string, status int) problemDetails {
		t.Helper()
		r := h.request(http.MethodGet, "/v1/jobs/"+j.ID+"/logs"+query, h.tenantA, nil).expect(t, status)
		return r.problem(t)
	}
	for _, tc := range []struct {
		query, code, detail string
	}{
		{"?attempt=1", problemNoLogs.Code, "attempt 1 of job " + j.ID + " ended before its container started"},
		{"?attempt=2", problemLogsNotReady.Code, "the container of attempt 2 of job " + j.ID + " has not started yet (ContainerCreating); retry later"},
		{"?attempt=3", problemLogsNotReady.Code, "the container of attempt 3 of job " + j.ID + " has not started yet (PodInitializing); retry later"},
		{"", problemLogsNotReady.Code, "the container of attempt 3 of job " + j.ID + " has not started yet (PodInitializing); retry later"},
	} {
		if p := logs(tc.query, http.StatusConflict); p.Code != tc.code || p.Detail != tc.detail {
			t.Errorf("%q: %s %q, want %s %q", tc.query, p.Code, p.Detail, tc.code, tc.detail)
		}
	}
	p := logs("?attempt=4", http.StatusUnprocessableEntity)
	want := []paramschema.FieldError{{Pointer: "/attempt", Detail: "must be between 1 and 3, the attempts whose pod exists"}}
	if p.Code != problemValidationFailed.Code || !cmp.Equal(want, p.Errors) {
		t.Errorf("attempt=4: %+v", p)
	}
}

// TestLogsKubeletErrors: the API server's refusals to read a started
// container's log become problems of the API's own words.
func TestLogsKubeletErrors(t *testing.T) {
	h := newHarness(t)
	j := h.submit(h.tenantA, nil)
	job := h.addJob(h.tenantA, j.ID)
	pod := wrappers.MakeJobPod(job, "a").Phase(corev1.PodRunning, metav1.Now()).Running("worker")

	t.Run("node gone", func(t *testing.T) {
		pod.Spec.NodeName = "gone-" + randomSuffix()
		h.addPod(pod)
		r := h.request(http.MethodGet, "/v1/jobs/"+j.ID+"/logs", h.tenantA, nil).expect(t, http.StatusConflict)
		if p := r.problem(t); p.Code != problemNoLogs.Code || strings.Contains(p.Detail, pod.Spec.NodeName) {
			t.Errorf("problem %+v: want NO_LOGS, without the node's name", p)
		}
	})

	t.Run("kubelet not answering", func(t *testing.T) {
		node := h.addNode(closedPort(t))
		// A later attempt, on a node whose kubelet does not answer.
		next := wrappers.MakeJobPod(job, "b").Phase(corev1.PodRunning, metav1.Now()).Running("worker")
		next.Spec.NodeName = node
		h.addPod(next)
		r := h.request(http.MethodGet, "/v1/jobs/"+j.ID+"/logs?follow=true", h.tenantA, nil).expect(t, http.StatusServiceUnavailable)
		p := r.problem(t)
		if p.Code != problemUnavailable.Code || r.Header.Get("Retry-After") == "" || !strings.Contains(p.Detail, "attempt 2") {
			t.Errorf("problem %+v, Retry-After %q: want BACKEND_UNAVAILABLE about attempt 2, with Retry-After", p, r.Header.Get("Retry-After"))
		}
		for _, internal := range []string{"127.0.0.1", "containerLogs", "dial", node} {
			if strings.Contains(string(r.body), internal) {
				t.Errorf("the problem shows internal text %q: %s", internal, r.body)
			}
		}
	})
}

// addJob creates the batch Job of tenant's AsyncJob id, as the controller
// would: controlled by the AsyncJob, its pods labelled with its name.
func (h *harness) addJob(tenant, id string) *batchv1.Job {
	h.t.Helper()
	ctx := context.Background()
	var aj v1alpha1.AsyncJob
	h.must(h.env.Client.Get(ctx, types.NamespacedName{Namespace: tenant, Name: id}, &aj))
	job := wrappers.MakeJob(id, tenant).ControlledBy(&aj).PodTemplate(corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{v1alpha1.LabelName: id, v1alpha1.LabelTenant: tenant}},
		Spec: corev1.PodSpec{
			RestartPolicy:  corev1.RestartPolicyNever,
			InitContainers: []corev1.Container{{Name: "entrypoint", Image: "busybox"}},
			Containers:     []corev1.Container{{Name: "worker", Image: "busybox"}, {Name: "sidecar", Image: "busybox"}},
		},
	}).Obj()
	h.must(h.env.Client.Create(ctx, job))
	return job
}

// addPod creates the pod with the status it was built with, in a later second
// than the pods before it: creation times are what orders attempts.
func (h *harness) addPod(w *wrappers.PodWrapper) {
	h.t.Helper()
	ctx := context.Background()
	pod := w.Obj()
	status := pod.Status
	h.must(h.env.Client.Create(ctx, pod))
	pod.Status = status
	h.must(h.env.Client.Status().Update(ctx, pod))
	created := pod.CreationTimestamp.Unix()
	for time.Now().Unix() <= created {
		time.Sleep(50 * time.Millisecond)
	}
}

// addNode creates a Node whose kubelet is said to listen on 127.0.0.1:port.
func (h *harness) addNode(port int32) string {
	h.t.Helper()
	ctx := context.Background()
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-" + randomSuffix()}}
	h.must(h.env.Client.Create(ctx, node))
	h.t.Cleanup(func() { _ = h.env.Client.Delete(context.Background(), node) })
	node.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "127.0.0.1"}}
	node.Status.DaemonEndpoints.KubeletEndpoint.Port = port
	h.must(h.env.Client.Status().Update(ctx, node))
	return node.Name
}

// closedPort is a local port nothing listens on.
func closedPort(t *testing.T) int32 {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	return int32(port)
}
