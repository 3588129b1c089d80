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
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/asyncjob/asyncjob/test/localcluster"
)

// Generous: the machines are small and kwok adds seconds per pod step.
const eventually = 3 * time.Minute

var shared struct {
	once    sync.Once
	cluster *localcluster.Cluster
	err     error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.cluster != nil {
		if err := shared.cluster.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stop shared cluster:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// sharedCluster starts one cluster for the Job tests on first use; each test
// works in its own namespace.
func sharedCluster(t *testing.T) (kubernetes.Interface, string) {
	t.Helper()
	skipIfShort(t)
	shared.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute) // a cold cache builds binaries
		defer cancel()
		shared.cluster, shared.err = localcluster.Start(ctx, localcluster.Options{SimulatedNodes: 2})
	})
	if shared.err != nil {
		t.Fatalf("start cluster: %v", shared.err)
	}
	c := shared.cluster
	t.Cleanup(func() { dumpLogsOnFailure(t, c) })
	cs, err := kubernetes.NewForConfig(c.Config())
	if err != nil {
		t.Fatal(err)
	}
	ns, err := cs.CoreV1().Namespaces().Create(context.Background(),
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "localcluster-"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return cs, ns.Name
}

func skipIfShort(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("skipped under -short: starts a real control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler) and kwok")
	}
}

func dumpLogsOnFailure(t *testing.T, c *localcluster.Cluster) {
	if !t.Failed() {
		return
	}
	t.Log(c.LogTails(4000))
}

// simulatedJob is a one-pod Job that runs on a simulated node as b says.
func simulatedJob(name string, backoffLimit int32, b localcluster.PodBehavior) *batchv1.Job {
	job := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: batchv1.JobSpec{
			BackoffLimit: ptr.To(backoffLimit),
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Annotations: b.Annotations(nil)},
				Spec: corev1.PodSpec{
					RestartPolicy: corev1.RestartPolicyNever,
					// kwok removes a deleted pod at a random moment before its
					// deletionTimestamp, so a short grace period keeps deletion quick.
					TerminationGracePeriodSeconds: ptr.To[int64](1),
					Containers:                    []corev1.Container{{Name: "work", Image: "example.invalid/never-pulled"}},
				},
			},
		},
	}
	localcluster.SimulateOn(&job.Spec.Template.Spec)
	return job
}

func jobPods(ctx context.Context, cs kubernetes.Interface, ns string, job *batchv1.Job) ([]corev1.Pod, error) {
	pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "batch.kubernetes.io/controller-uid=" + string(job.UID)})
	if err != nil {
		return nil, err
	}
	return pods.Items, nil
}

// waitForJobCondition polls until the Job has condition type True and
// returns the Job as it was then.
func waitForJobCondition(t *testing.T, cs kubernetes.Interface, ns, name string, condition batchv1.JobConditionType) *batchv1.Job {
	t.Helper()
	var job *batchv1.Job
	err := wait.PollUntilContextTimeout(context.Background(), 250*time.Millisecond, eventually, true, func(ctx context.Context) (bool, error) {
		var err error
		job, err = cs.BatchV1().Jobs(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		for _, c := range job.Status.Conditions {
			if c.Type == condition && c.Status == corev1.ConditionTrue {
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		t.Fatalf("job %s/%s never got condition %s: %v; status: %+v", ns, name, condition, err, job.Status)
	}
	return job
}

func TestJobRunsToComplete(t *testing.T) {
	cs, ns := sharedCluster(t)
	ctx := context.Background()

	created, err := cs.BatchV1().Jobs(ns).Create(ctx, simulatedJob("succeeds", 0, localcluster.PodBehavior{
		Quick: true, RunFor: 2 * time.Second, TerminationMessage: `{"answer":42}`,
	}), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	job := waitForJobCondition(t, cs, ns, created.Name, batchv1.JobComplete)
	if job.Status.Succeeded != 1 {
		t.Errorf("succeeded = %d, want 1", job.Status.Succeeded)
	}

	pods, err := jobPods(ctx, cs, ns, created)
	if err != nil {
		t.Fatal(err)
	}
	if len(pods) != 1 {
		t.Fatalf("job has %d pods, want 1", len(pods))
	}
	pod := pods[0]
	if owner := metav1.GetControllerOf(&pod); owner == nil || owner.UID != created.UID {
		t.Errorf("pod %s is not controlled by the Job: %v", pod.Name, pod.OwnerReferences)
	}
	if pod.Status.Phase != corev1.PodSucceeded {
		t.Errorf("pod phase = %s, want Succeeded", pod.Status.Phase)
	}
	if !isSimulatedNode(pod.Spec.NodeName) {
		t.Errorf("pod ran on %q, want a simulated node", pod.Spec.NodeName)
	}
	if got := terminationMessage(pod); got != `{"answer":42}` {
		t.Errorf("termination message = %q, want the annotation's JSON", got)
	}
}

// TestJobWithInitContainerCompletes needs kwok's init-container stages:
// without them such a pod stays Pending.
func TestJobWithInitContainerCompletes(t *testing.T) {
	cs, ns := sharedCluster(t)
	job := simulatedJob("with-init", 0, localcluster.PodBehavior{Quick: true})
	job.Spec.Template.Spec.InitContainers = []corev1.Container{{Name: "init", Image: "example.invalid/never-pulled"}}
	created, err := cs.BatchV1().Jobs(ns).Create(context.Background(), job, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waitForJobCondition(t, cs, ns, created.Name, batchv1.JobComplete)
}

func TestFailingPodsExhaustBackoffLimit(t *testing.T) {
	cs, ns := sharedCluster(t)
	ctx := context.Background()

	created, err := cs.BatchV1().Jobs(ns).Create(ctx, simulatedJob("fails", 1, localcluster.PodBehavior{
		Quick: true, Fail: true,
	}), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	job := waitForJobCondition(t, cs, ns, created.Name, batchv1.JobFailed)
	for _, c := range job.Status.Conditions {
		if c.Type == batchv1.JobFailed && c.Reason != batchv1.JobReasonBackoffLimitExceeded {
			t.Errorf("Failed reason = %q, want %q", c.Reason, batchv1.JobReasonBackoffLimitExceeded)
		}
	}
	// backoffLimit 1 allows one retry: two pods fail in all.
	if job.Status.Failed != 2 {
		t.Errorf("failed = %d, want 2", job.Status.Failed)
	}
}

func TestForegroundDeletionRemovesPodsThenJob(t *testing.T) {
	cs, ns := sharedCluster(t)
	ctx := context.Background()

	created, err := cs.BatchV1().Jobs(ns).Create(ctx, simulatedJob("deleted", 0, localcluster.PodBehavior{
		Quick: true, RunFor: time.Hour,
	}), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	err = wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, eventually, true, func(ctx context.Context) (bool, error) {
		pods, err := jobPods(ctx, cs, ns, created)
		return err == nil && len(pods) == 1 && pods[0].Status.Phase == corev1.PodRunning, err
	})
	if err != nil {
		t.Fatalf("the Job's pod never ran: %v", err)
	}

	err = cs.BatchV1().Jobs(ns).Delete(ctx, created.Name, metav1.DeleteOptions{
		PropagationPolicy: ptr.To(metav1.DeletePropagationForeground),
	})
	if err != nil {
		t.Fatal(err)
	}
	err = wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, eventually, true, func(ctx context.Context) (bool, error) {
		_, err := cs.BatchV1().Jobs(ns).Get(ctx, created.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		return false, err
	})
	if err != nil {
		t.Fatalf("the Job was never deleted: %v", err)
	}
	// The garbage collector removes the Job only after its pods (which block
	// owner deletion) are gone, so none may remain now.
	pods, err := jobPods(ctx, cs, ns, created)
	if err != nil {
		t.Fatal(err)
	}
	if len(pods) != 0 {
		t.Errorf("%d pods remain after the Job was deleted in the foreground", len(pods))
	}
}

// TestStopLeavesNothingRunning starts a second cluster beside the shared one
// (fresh ports and directory, as after a crash) and checks that Stop ends
// every process it started and removes its directory.
func TestStopLeavesNothingRunning(t *testing.T) {
	skipIfShort(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	c, err := localcluster.Start(ctx, localcluster.Options{SimulatedNodes: 1})
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() { _ = c.Stop() }) // in case an assertion below fails first
	pids := c.PIDs()
	for _, name := range []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"} {
		if pid, ok := pids[name]; !ok || !alive(pid) {
			t.Errorf("%s is not running (pid %d)", name, pid)
		}
	}
	dir := c.Dir()

	if err := c.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	for name, pid := range pids {
		if alive(pid) {
			t.Errorf("%s (pid %d) still running after Stop", name, pid)
		}
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("directory %s still exists after Stop (err %v)", dir, err)
	}
}

// alive reports whether pid exists; Stop has reaped its children, so a
// leftover zombie cannot make this true.
func alive(pid int) bool {
	return syscall.Kill(pid, 0) == nil
}

func isSimulatedNode(name string) bool {
	for i := range 2 {
		if name == localcluster.SimulatedNodeName(i) {
			return true
		}
	}
	return false
}

func terminationMessage(pod corev1.Pod) string {
	for _, s := range pod.Status.ContainerStatuses {
		if s.State.Terminated != nil {
			return s.State.Terminated.Message
		}
	}
	return ""
}
