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
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/internal/httpapi"
	"github.com/asyncjob/asyncjob/test/localcluster"
	"github.com/asyncjob/asyncjob/test/stack"
	"github.com/asyncjob/asyncjob/test/wrappers"
)

// An evicted pod is the cluster's doing, not the job's: with no retries
// allowed at all (backoffLimit 0), a job whose running pod is evicted through
// the eviction API still completes, on a second pod, and its attempt history
// says why the first attempt ended.
func TestRealNodeEvictedPodIsRetriedWithoutUsingARetry(t *testing.T) {
	localcluster.SkipWithoutRealNode(t, "a worker on the real node")
	const typeNoRetries = "e2e-live-no-retries"
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	w := wrappers.MakeAsyncJobType(typeNoRetries).
		Description("the sample worker on the real node, no retries").
		Image(localcluster.SampleWorkerImage).Command("/sample-worker").
		Entrypoint(asyncjobv1alpha1.EntrypointInject).PollInterval(1).
		Defaults(asyncjobv1alpha1.JobLimits{BackoffLimit: ptr.To(int32(0))})
	w.PodSpec().Containers[0].ImagePullPolicy = corev1.PullNever
	// The worker stops at once on SIGTERM; a short grace period bounds a hang.
	w.PodSpec().TerminationGracePeriodSeconds = ptr.To(int64(30))
	if err := s.Client.Create(ctx, w.Obj()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Client.Delete(context.Background(), w.Obj()) })
	if err := waitSubmittable(ctx, typeNoRetries); err != nil {
		t.Fatal(err)
	}

	id := api.submit(t, typeNoRetries, map[string]any{"input": "https://example.com/in.mov", "format": "webm", "seconds": 6})
	logs := followLogs(ctx, t, id)
	waitLine(ctx, t, logs, workerStartedLog)

	ns := stack.Namespace(tenant)
	pods := &corev1.PodList{}
	if err := s.Client.List(ctx, pods, inNamespace(ns), byAsyncJob(id)); err != nil || len(pods.Items) != 1 {
		t.Fatalf("pods of %s: %v %d, want one", id, err, len(pods.Items))
	}
	evicted := pods.Items[0].Name
	eviction := &policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Name: evicted, Namespace: ns}}
	if err := s.Client.SubResource("eviction").Create(ctx, &pods.Items[0], eviction); err != nil {
		t.Fatalf("evicting %s: %v", evicted, err)
	}
	waitLine(ctx, t, logs, workerSIGTERMLog) // the eviction reached the worker

	done := api.waitStatus(t, id, httpapi.StatusCompleted, time.Until(deadline(ctx)))
	if done.Attempts != 2 {
		t.Errorf("attempts = %d, want 2 (the evicted pod and its replacement)\n%s", done.Attempts, describe(id))
	}
	h := done.AttemptHistory
	if len(h) != 2 {
		t.Fatalf("attemptHistory %+v, want two attempts\n%s", h, describe(id))
	}
	if h[0].Outcome != "DISRUPTED" || h[0].Reason != "EvictionByEvictionAPI" || h[0].CountsTowardsRetries {
		t.Errorf("first attempt %+v, want DISRUPTED by EvictionByEvictionAPI, not counted", h[0])
	}
	if h[1].Outcome != "SUCCEEDED" || h[1].ExitCode == nil || *h[1].ExitCode != 0 {
		t.Errorf("second attempt %+v, want SUCCEEDED with exit code 0", h[1])
	}
	// The record outlives the pod: the evicted pod is deleted by the eviction.
	err := wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		p := &corev1.Pod{}
		return client404(s.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: evicted}, p)), nil
	})
	if err != nil {
		t.Errorf("the evicted pod %s was not deleted: %v", evicted, err)
	}
	if j, _, err := api.get(ctx, id); err != nil || len(j.AttemptHistory) != 2 || j.AttemptHistory[0].Outcome != "DISRUPTED" {
		t.Errorf("after the evicted pod is gone: %+v (err %v), want its record kept", j.AttemptHistory, err)
	}
}
