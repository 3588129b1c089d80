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

package localcluster_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/asyncjob/asyncjob/internal/ociimage"
	"github.com/asyncjob/asyncjob/test/framework"
	"github.com/asyncjob/asyncjob/test/localcluster"
)

// TestRealNodeRunsAPod runs the worker image, built in the test, on a real
// kubelet and reads its JSON termination message and its logs back through
// the API server.
func TestRealNodeRunsAPod(t *testing.T) {
	skipIfShort(t)
	localcluster.SkipWithoutRealNode(t, "running a pod on a real kubelet")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	c, err := localcluster.Start(ctx, localcluster.Options{RealNode: true})
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() { _ = c.Stop() })
	t.Cleanup(func() { dumpLogsOnFailure(t, c) }) // runs first: the logs still exist
	cs, err := kubernetes.NewForConfig(c.Config())
	if err != nil {
		t.Fatal(err)
	}

	const result = `{"answer":42,"ran":"for real"}`
	job := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: "real"},
		Spec: batchv1.JobSpec{
			BackoffLimit: ptr.To[int32](0),
			Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
				RestartPolicy: corev1.RestartPolicyNever,
				NodeSelector:  map[string]string{"kubernetes.io/hostname": c.RealNodeName()},
				Containers: []corev1.Container{{
					Name:            "worker",
					Image:           localcluster.WorkerImage,
					ImagePullPolicy: corev1.PullNever, // no registry: the image was imported
					Env:             []corev1.EnvVar{{Name: "WORKER_RESULT", Value: result}},
				}},
			}},
		},
	}
	created, err := cs.BatchV1().Jobs("default").Create(ctx, job, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waitForJobCondition(t, cs, "default", created.Name, batchv1.JobComplete)

	pods, err := jobPods(ctx, cs, "default", created)
	if err != nil {
		t.Fatal(err)
	}
	if len(pods) != 1 {
		t.Fatalf("job has %d pods, want 1", len(pods))
	}
	pod := pods[0]
	if pod.Spec.NodeName != c.RealNodeName() {
		t.Errorf("pod ran on %q, want the real node %q", pod.Spec.NodeName, c.RealNodeName())
	}
	var got, want map[string]any
	if err := json.Unmarshal([]byte(terminationMessage(pod)), &got); err != nil {
		t.Fatalf("termination message %q is not JSON: %v", terminationMessage(pod), err)
	}
	_ = json.Unmarshal([]byte(result), &want)
	if got["answer"] != want["answer"] || got["ran"] != want["ran"] {
		t.Errorf("termination message = %v, want %v", got, want)
	}

	logs, err := cs.CoreV1().Pods("default").GetLogs(pod.Name, &corev1.PodLogOptions{}).DoRaw(ctx)
	if err != nil {
		t.Fatalf("read logs: %v", err)
	}
	if !strings.Contains(string(logs), "worker: result written") {
		t.Errorf("logs = %q, want the worker's lines", logs)
	}

	checkRegistryAndServices(ctx, t, c, cs)

	// A pod still running at Stop must not outlive the cluster.
	sleeper := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "still-running"},
		Spec: corev1.PodSpec{
			NodeName: c.RealNodeName(),
			Containers: []corev1.Container{{
				Name: "sleeper", Image: localcluster.PauseImage, ImagePullPolicy: corev1.PullNever,
			}},
		},
	}
	if _, err := cs.CoreV1().Pods("default").Create(ctx, sleeper, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	err = wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, eventually, true, func(ctx context.Context) (bool, error) {
		pod, err := cs.CoreV1().Pods("default").Get(ctx, sleeper.Name, metav1.GetOptions{})
		return err == nil && pod.Status.Phase == corev1.PodRunning, nil
	})
	if err != nil {
		t.Fatalf("pod %s never ran: %v", sleeper.Name, err)
	}

	pids := c.PIDs()
	if err := c.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	for component, pid := range pids {
		if alive(pid) {
			t.Errorf("%s (pid %d) still running after Stop", component, pid)
		}
	}
	if left := containerProcesses(t); len(left) > 0 {
		t.Errorf("container processes still running after Stop: %v", left)
	}
	if out, err := exec.Command("iptables-save", "-t", "nat").CombinedOutput(); err != nil || strings.Contains(string(out), "KUBE-SERVICES") {
		t.Errorf("kube-proxy's rules are still there after Stop (err %v):\n%s", err, out)
	}
}

// checkRegistryAndServices pushes the worker image to the cluster's
// registry and runs it from there as an HTTP server behind a Service; this
// machine reaches it at the Service's ClusterIP (kube-proxy), and it reaches
// the API server the in-cluster way (the kubernetes Service's IP, its service
// account token).
func checkRegistryAndServices(ctx context.Context, t *testing.T, c *localcluster.Cluster, cs kubernetes.Interface) {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "worker")
	if err := ociimage.BuildBinary(ctx, framework.RepoRoot(), "./test/localcluster/images/worker", bin, ""); err != nil {
		t.Fatal(err)
	}
	img, err := ociimage.New(bin, ociimage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ref := c.Registry() + "/worker:pushed"
	if err := ociimage.Push(ctx, ref, img); err != nil {
		t.Fatal(err)
	}
	digest, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}

	labels := map[string]string{"app": "server"}
	server := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "server", Labels: labels},
		Spec: corev1.PodSpec{
			NodeName: c.RealNodeName(),
			Containers: []corev1.Container{{
				Name: "server", Image: ref, // pulled: the default policy for a tag
				Env:   []corev1.EnvVar{{Name: "WORKER_SERVE", Value: ":8080"}},
				Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}},
			}},
		},
	}
	if _, err := cs.CoreV1().Pods("default").Create(ctx, server, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	svc, err := cs.CoreV1().Services("default").Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "server"},
		Spec: corev1.ServiceSpec{
			Selector: labels,
			Ports:    []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromString("http")}},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var pod *corev1.Pod
	err = wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		pod, err = cs.CoreV1().Pods("default").Get(ctx, server.Name, metav1.GetOptions{})
		return err == nil && pod.Status.Phase == corev1.PodRunning, nil
	})
	if err != nil {
		t.Fatalf("pod %s from %s never ran: %v (status %+v)", server.Name, ref, err, pod.Status)
	}
	if id := pod.Status.ContainerStatuses[0].ImageID; !strings.HasSuffix(id, digest.String()) {
		t.Errorf("the pod's imageID is %q, want the pushed digest %s", id, digest)
	}

	url := "http://" + svc.Spec.ClusterIP + "/apiserver-version"
	var body string
	client := &http.Client{Timeout: 3 * time.Second}
	err = wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		resp, err := client.Get(url)
		if err != nil {
			body = err.Error()
			return false, nil
		}
		defer func() { _ = resp.Body.Close() }()
		raw, _ := io.ReadAll(resp.Body)
		body = string(raw)
		return resp.StatusCode == http.StatusOK, nil
	})
	if err != nil {
		t.Fatalf("GET %s (the Service's ClusterIP): %v; last answer %q", url, err, body)
	}
	var version struct{ GitVersion string }
	if err := json.Unmarshal([]byte(body), &version); err != nil || !strings.HasPrefix(version.GitVersion, "v1.") {
		t.Errorf("the pod's in-cluster GET /version answered %q, want the API server's version", body)
	}
}

// containerProcesses lists the processes of the images' binaries and
// containerd shims on this machine (one real node at a time runs here).
func containerProcesses(t *testing.T) []string {
	t.Helper()
	var left []string
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || len(cmdline) == 0 {
			continue
		}
		argv0 := strings.SplitN(string(cmdline), "\x00", 2)[0]
		if argv0 == "/pause" || argv0 == "/worker" || strings.Contains(argv0, "containerd-shim") {
			left = append(left, e.Name()+":"+argv0)
		}
	}
	return left
}
