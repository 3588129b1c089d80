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

package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/internal/httpapi"
	"github.com/asyncjob/asyncjob/test/localcluster"
	"github.com/asyncjob/asyncjob/test/stack"
)

// realLogsPause is how long the follow test's container sleeps between two
// lines: longer than the API's 10 s Kubernetes deadline and its 30 s read
// timeout, so the stream only reaches the second line if neither cuts it.
const realLogsPause = 40 * time.Second

// A real container's log read through the REST API: followed live while the
// container runs, to its end; then whole, by tail and by size.
func TestRealPodLogsFollow(t *testing.T) {
	localcluster.SkipWithoutRealNode(t, "logs of a real container")
	t.Parallel()
	typ := realWorkerType(t, "e2e-real-logs", corev1.EnvVar{Name: "WORKER_PAUSE", Value: realLogsPause.String()}, nil)
	id := api.submit(t, typ, map[string]any{})

	resp := openLogs(t, id, "?follow=true")
	defer func() { _ = resp.Body.Close() }()
	if resp.Header.Get("Content-Type") != "text/plain; charset=utf-8" || resp.Header.Get("Job-Attempt") != "1" {
		t.Errorf("Content-Type %q, Job-Attempt %q", resp.Header.Get("Content-Type"), resp.Header.Get("Job-Attempt"))
	}
	lines := bufio.NewScanner(resp.Body)
	var got []string
	for lines.Scan() {
		got = append(got, lines.Text())
		if strings.HasPrefix(lines.Text(), "worker: pausing") {
			break
		}
	}
	// The line came while the container still runs: streamed, not buffered
	// until the end.
	if st := workerState(t, id); st.Running == nil {
		t.Fatalf("the followed log's line %q arrived, and the worker is not running: %+v", got, st)
	}
	for lines.Scan() {
		got = append(got, lines.Text())
	}
	if err := lines.Err(); err != nil {
		t.Fatalf("reading the followed log: %v (after %q)", err, got)
	}
	// The stream ended with the container, not before it (the Kubernetes
	// deadline, the server's timeouts): the lines after the pause came.
	for _, want := range []string{"worker: started", "worker: resumed", "worker: result written"} {
		if !slices.Contains(got, want) {
			t.Errorf("followed log %q lacks %q", got, want)
		}
	}
	api.waitStatus(t, id, httpapi.StatusCompleted, time.Minute)
	if st := workerState(t, id); st.Terminated == nil {
		t.Errorf("the stream ended and the worker has not: %+v", st)
	}

	whole := readLogs(t, id, "")
	if want := strings.Join(got, "\n") + "\n"; whole != want {
		t.Errorf("whole log %q, want what was followed, %q", whole, want)
	}
	if tail := readLogs(t, id, "?tailLines=1"); tail != "worker: result written\n" {
		t.Errorf("tailLines=1: %q", tail)
	}
	if head := readLogs(t, id, "?limitBytes=10"); head != whole[:10] {
		t.Errorf("limitBytes=10: %q, want %q", head, whole[:10])
	}
}

// attempt=N reads an earlier retry's log while its pod exists: every attempt
// of this type fails, and there is one retry.
func TestRealPodLogsAttempts(t *testing.T) {
	localcluster.SkipWithoutRealNode(t, "logs of a real container's retries")
	t.Parallel()
	ctx := context.Background()
	typ := realWorkerType(t, "e2e-real-retry", corev1.EnvVar{Name: "WORKER_EXIT_CODE", Value: "1"}, ptr.To[int32](1))
	id := api.submit(t, typ, map[string]any{})
	api.waitStatus(t, id, httpapi.StatusFailed, 3*time.Minute)

	pods := &corev1.PodList{}
	if err := s.Client.List(ctx, pods, inNamespace(stack.Namespace(tenant)), byAsyncJob(id)); err != nil || len(pods.Items) != 2 {
		t.Fatalf("pods of the job: %d (err %v), want 2", len(pods.Items), err)
	}
	slices.SortFunc(pods.Items, func(a, b corev1.Pod) int { return a.CreationTimestamp.Compare(b.CreationTimestamp.Time) })
	for _, tc := range []struct{ query, pod, attempt string }{
		{"?attempt=1", pods.Items[0].Name, "1"},
		{"?attempt=2", pods.Items[1].Name, "2"},
		{"", pods.Items[1].Name, "2"},
	} {
		resp := openLogs(t, id, tc.query)
		raw, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if err != nil || !strings.Contains(string(raw), "worker: pod "+tc.pod+"\n") || resp.Header.Get("Job-Attempt") != tc.attempt {
			t.Errorf("%q: log %q (err %v), Job-Attempt %q; want pod %s's, attempt %s", tc.query, raw, err, resp.Header.Get("Job-Attempt"), tc.pod, tc.attempt)
		}
	}
	resp, raw, err := api.Do(ctx, http.MethodGet, "/v1/jobs/"+id+"/logs?attempt=3", nil)
	if err != nil || resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("attempt=3: %v %s (err %v), want 422", resp.Status, raw, err)
	}
}

// realWorkerType creates a type running the test worker image on the real
// node with env, and waits until it can be submitted.
func realWorkerType(t *testing.T, name string, env corev1.EnvVar, backoffLimit *int32) string {
	t.Helper()
	ctx := context.Background()
	typ := &asyncjobv1alpha1.AsyncJobType{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: asyncjobv1alpha1.AsyncJobTypeSpec{
			Description:      "runs the test worker image on the real node",
			ParametersSchema: &apiextensionsv1.JSON{Raw: []byte(`{"type":"object"}`)},
			Template: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
				RestartPolicy: corev1.RestartPolicyNever,
				Containers: []corev1.Container{{
					Name: "worker", Image: localcluster.WorkerImage, ImagePullPolicy: corev1.PullNever,
					Env: []corev1.EnvVar{env},
				}},
			}}}},
			Defaults:            asyncjobv1alpha1.JobLimits{BackoffLimit: backoffLimit},
			PollIntervalSeconds: 1,
		},
	}
	if err := s.Client.Create(ctx, typ); err != nil {
		t.Fatal(err)
	}
	if err := waitSubmittable(ctx, name); err != nil {
		t.Fatal(err)
	}
	return name
}

// openLogs GETs the job's logs with query, as a client honouring
// LOGS_NOT_READY's Retry-After would (faster), until the API answers 200.
// The response's body is the caller's to read and close.
func openLogs(t *testing.T, id, query string) *http.Response {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.APIURL+"/v1/jobs/"+id+"/logs"+query, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+s.APIKeys[tenant])
		// No client timeout: a followed log lasts as long as its container.
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("GET logs%s: %v", query, err)
		}
		if resp.StatusCode == http.StatusOK {
			return resp
		}
		raw, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		var p struct{ Code string }
		_ = json.Unmarshal(raw, &p)
		if resp.StatusCode != http.StatusConflict || p.Code != "LOGS_NOT_READY" || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("GET logs%s: %d %s; want 200, or 409 LOGS_NOT_READY with Retry-After", query, resp.StatusCode, raw)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("GET logs%s: still %s", query, raw)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// readLogs is the whole body of a GET of the job's logs.
func readLogs(t *testing.T, id, query string) string {
	t.Helper()
	resp := openLogs(t, id, query)
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET logs%s: %v", query, err)
	}
	return string(raw)
}

// workerState is the worker container's state in the job's only pod.
func workerState(t *testing.T, id string) corev1.ContainerState {
	t.Helper()
	pods := &corev1.PodList{}
	if err := s.Client.List(context.Background(), pods, inNamespace(stack.Namespace(tenant)), byAsyncJob(id)); err != nil || len(pods.Items) != 1 {
		t.Fatalf("pods of job %s: %d (err %v), want 1", id, len(pods.Items), err)
	}
	for _, cs := range pods.Items[0].Status.ContainerStatuses {
		if cs.Name == "worker" {
			return cs.State
		}
	}
	return corev1.ContainerState{}
}
