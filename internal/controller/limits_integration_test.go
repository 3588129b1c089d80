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

package controller

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/test/wrappers"
)

// TestIntegrationLimitsAreFrozenWhenTheJobIsCreated: editing and then deleting
// the type after the AsyncJob finished moves neither its expireTime nor its
// recorded limits.
func TestIntegrationLimitsAreFrozenWhenTheJobIsCreated(t *testing.T) {
	needEnv(t)
	startController(t)
	ns := newNamespace(t)
	w := convertType(uniqueTypeName(t)).PollInterval(3)
	w.Spec.Defaults.TTLSecondsAfterFinished = ptr.To[int32](3600)
	w.Spec.Maximums.TTLSecondsAfterFinished = ptr.To[int32](7200)
	jt := createReadyType(t, w.Obj())
	mustCreate(t, convertJob("frozen", ns, jt.Name).Obj())

	job := waitJob(t, ns, "frozen")
	if got := job.Annotations; got[asyncjobv1alpha1.AnnotationTTLSecondsAfterFinished] != "3600" || got[asyncjobv1alpha1.AnnotationPollIntervalSeconds] != "3" {
		t.Errorf("Job annotations %v, want the TTL (3600) and the poll hint (3)", got)
	}
	want := &asyncjobv1alpha1.AppliedLimits{ActiveDeadlineSeconds: ptr.To[int64](600), BackoffLimit: ptr.To[int32](2),
		TTLSecondsAfterFinished: ptr.To[int32](3600), PollIntervalSeconds: ptr.To[int32](3)}
	eventually(t, "status.limits is recorded with the Job", func(ctx context.Context) error {
		aj, err := getAJ(ctx, ns, "frozen")
		if err != nil {
			return err
		}
		if diff := cmp.Diff(want, aj.Status.Limits); aj.Status.JobName != "frozen" || diff != "" {
			return fmt.Errorf("jobName %q, limits (-want +got):\n%s", aj.Status.JobName, diff)
		}
		return nil
	})

	end := time.Now().Add(-time.Minute).Truncate(time.Second)
	env.CreatePod(t, terminatedPod(job, "a", corev1.PodSucceeded, end.Add(-time.Minute), 0, `{"ok":true}`))
	env.UpdateJobStatus(t, job, func(s *batchv1.JobStatus) {
		s.StartTime, s.CompletionTime, s.Succeeded = ptr.To(metav1.NewTime(end.Add(-time.Minute))), ptr.To(metav1.NewTime(end)), 1
		s.Conditions = append(s.Conditions, wrappers.CompleteConditions(metav1.NewTime(end))...)
	})
	done := waitState(t, ns, "frozen", asyncjobv1alpha1.StateCompleted)
	wantExpire := end.Add(time.Hour)
	if done.Status.ExpireTime == nil || !done.Status.ExpireTime.Time.Equal(wantExpire) {
		t.Fatalf("expireTime %v, want completion + the type's TTL of 1h (%v)", done.Status.ExpireTime, wantExpire)
	}
	unchanged := func(t *testing.T, aj *asyncjobv1alpha1.AsyncJob, after string) {
		t.Helper()
		if aj.Status.ExpireTime == nil || !aj.Status.ExpireTime.Time.Equal(wantExpire) {
			t.Errorf("after %s: expireTime %v, want it unchanged at %v", after, aj.Status.ExpireTime, wantExpire)
		}
		if diff := cmp.Diff(want, aj.Status.Limits); diff != "" {
			t.Errorf("after %s: limits changed (-recorded +now):\n%s", after, diff)
		}
	}

	// Edit the type's limits. A finished AsyncJob is not woken by its type, so
	// make its Job change (a pass follows its counters into attempts).
	eventually(t, "edit the type", func(ctx context.Context) error {
		cur := &asyncjobv1alpha1.AsyncJobType{}
		if err := env.Client.Get(ctx, types.NamespacedName{Name: jt.Name}, cur); err != nil {
			return err
		}
		cur.Spec.Defaults.TTLSecondsAfterFinished = ptr.To[int32](7200)
		cur.Spec.Defaults.ActiveDeadlineSeconds = ptr.To[int64](60)
		cur.Spec.PollIntervalSeconds = 30
		return env.Client.Update(ctx, cur)
	})
	waitTypeReady(t, jt.Name)
	env.UpdateJobStatus(t, job, func(s *batchv1.JobStatus) { s.Failed = 1 })
	var aj *asyncjobv1alpha1.AsyncJob
	eventually(t, "a pass after the edit", func(ctx context.Context) error {
		var err error
		if aj, err = getAJ(ctx, ns, "frozen"); err == nil && aj.Status.Attempts != 2 {
			err = fmt.Errorf("attempts %d, want 2", aj.Status.Attempts)
		}
		return err
	})
	unchanged(t, aj, "editing the type")

	// Delete the type; a cancellation request (a no-op for a finished
	// AsyncJob) bumps the generation, so observedGeneration proves the pass.
	if err := env.Client.Delete(context.Background(), jt); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the type is gone", func(ctx context.Context) error {
		if err := env.Client.Get(ctx, types.NamespacedName{Name: jt.Name}, &asyncjobv1alpha1.AsyncJobType{}); !isNotFound(err) {
			return fmt.Errorf("get: %v", err)
		}
		return nil
	})
	requestCancel(t, ns, "frozen")
	aj = waitObserved(t, ns, "frozen", asyncjobv1alpha1.StateCompleted)
	unchanged(t, aj, "deleting the type")
	if aj.Status.Result == nil || string(aj.Status.Result.Raw) != `{"ok":true}` {
		t.Errorf("result %v, want it kept without the type", aj.Status.Result)
	}
}

// waitTypeReady waits for the type controller to mark the type's current
// generation Ready.
func waitTypeReady(t *testing.T, name string) {
	t.Helper()
	eventually(t, "the type is Ready for its generation", func(ctx context.Context) error {
		got := &asyncjobv1alpha1.AsyncJobType{}
		if err := env.Client.Get(ctx, types.NamespacedName{Name: name}, got); err != nil {
			return err
		}
		if !got.IsReady() {
			return fmt.Errorf("generation %d conditions %+v", got.Generation, got.Status.Conditions)
		}
		return nil
	})
}
