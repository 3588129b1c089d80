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

package framework

import (
	"context"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// envtest runs no Job controller and no kubelet. These stand-ins write what
// they would, as Kueue's integration tests do; build the objects with
// test/wrappers (MakeJobPod(job, "a").Phase(...).Running(...)).

// writeTimeout bounds a write that keeps conflicting with the controller's; it
// bounds a broken test, it does not measure speed.
const writeTimeout = 30 * time.Second

// CreatePod creates pod as the Job controller would, then writes the status it
// was built with, as a kubelet would report it.
func (e *Env) CreatePod(t testing.TB, pod *corev1.Pod) *corev1.Pod {
	t.Helper()
	status := *pod.Status.DeepCopy()
	if err := e.Client.Create(context.Background(), pod); err != nil {
		t.Fatalf("creating pod %s: %v", pod.Name, err)
	}
	pod.Status = status
	if err := e.Client.Status().Update(context.Background(), pod); err != nil {
		t.Fatalf("pod %s status: %v", pod.Name, err)
	}
	return pod
}

// SetPodStatus replaces the status of the stored pod named like pod with
// pod's, as a kubelet would report a change.
func (e *Env) SetPodStatus(t testing.TB, pod *corev1.Pod) {
	t.Helper()
	e.retryWrite(t, "pod "+pod.Name+" status", func(ctx context.Context) error {
		cur := &corev1.Pod{}
		if err := e.Client.Get(ctx, client.ObjectKeyFromObject(pod), cur); err != nil {
			return err
		}
		cur.Status = *pod.Status.DeepCopy()
		return e.Client.Status().Update(ctx, cur)
	})
}

// UpdateJobStatus applies f to the stored Job's status, as the Job controller
// would.
func (e *Env) UpdateJobStatus(t testing.TB, job *batchv1.Job, f func(*batchv1.JobStatus)) {
	t.Helper()
	e.retryWrite(t, "Job "+job.Name+" status", func(ctx context.Context) error {
		cur := &batchv1.Job{}
		if err := e.Client.Get(ctx, client.ObjectKeyFromObject(job), cur); err != nil {
			return err
		}
		f(&cur.Status)
		return e.Client.Status().Update(ctx, cur)
	})
}

// retryWrite tries write until it succeeds (a read-modify-write can conflict
// with the controller's own writes), failing the test with its last error.
func (e *Env) retryWrite(t testing.TB, what string, write func(ctx context.Context) error) {
	t.Helper()
	var last error
	err := wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, writeTimeout, true,
		func(ctx context.Context) (bool, error) {
			last = write(ctx)
			return last == nil, nil
		})
	if err != nil {
		t.Fatalf("writing %s: %v (%v)", what, last, err)
	}
}
