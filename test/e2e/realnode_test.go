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
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/asyncjob/asyncjob/internal/httpapi"
	"github.com/asyncjob/asyncjob/test/localcluster"
	"github.com/asyncjob/asyncjob/test/stack"
	"github.com/asyncjob/asyncjob/test/wrappers"
)

// A job whose pod runs for real: a container built in the test, on a real
// kubelet with containerd. Its result comes from its termination message, and
// the worker contract's $(ASYNCJOB_PARAM_...) expansion is Kubernetes' own.
func TestRealPodResultAndLogs(t *testing.T) {
	localcluster.SkipWithoutRealNode(t, "a job with a real container")
	ctx := context.Background()
	realType := wrappers.MakeAsyncJobType("e2e-real").Description("runs the test worker image on the real node").
		Schema(`{"type":"object","required":["input","format"]}`).
		// Simulated nodes are tainted; this pod lands on the real one.
		Containers(corev1.Container{
			Name: "worker", Image: localcluster.WorkerImage, ImagePullPolicy: corev1.PullNever,
			Env: []corev1.EnvVar{{Name: "WORKER_RESULT", Value: `{"converted":"$(ASYNCJOB_PARAM_INPUT)","format":"$(ASYNCJOB_PARAM_FORMAT)"}`}},
		}).
		PollInterval(1).Obj()
	if err := s.Client.Create(ctx, realType); err != nil {
		t.Fatal(err)
	}
	if err := waitSubmittable(ctx, realType.Name); err != nil {
		t.Fatal(err)
	}
	id := api.submit(t, realType.Name, map[string]any{"input": "https://example.com/in.mov", "format": "webm"})
	done := api.waitStatus(t, id, httpapi.StatusCompleted, 3*time.Minute)

	var result map[string]string
	if err := json.Unmarshal(done.Result, &result); err != nil ||
		result["converted"] != "https://example.com/in.mov" || result["format"] != "webm" {
		t.Errorf("result %s (err %v): want the container's termination message with the parameters expanded", done.Result, err)
	}

	cs, err := kubernetes.NewForConfig(s.Cluster.Config())
	if err != nil {
		t.Fatal(err)
	}
	pods := &corev1.PodList{}
	if err := s.Client.List(ctx, pods, inNamespace(stack.Namespace(tenant)), byAsyncJob(id)); err != nil || len(pods.Items) != 1 {
		t.Fatalf("pods of the job: %d (err %v), want 1", len(pods.Items), err)
	}
	if node := pods.Items[0].Spec.NodeName; node != s.Cluster.RealNodeName() {
		t.Errorf("the pod ran on %q, want the real node %q", node, s.Cluster.RealNodeName())
	}
	logs, err := cs.CoreV1().Pods(stack.Namespace(tenant)).GetLogs(pods.Items[0].Name, &corev1.PodLogOptions{}).DoRaw(ctx)
	if err != nil || !strings.Contains(string(logs), "worker: started") {
		t.Errorf("logs through the Kubernetes API: %q (err %v), want the worker's output", logs, err)
	}
}
