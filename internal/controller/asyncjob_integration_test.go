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
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/test/wrappers"
)

func TestIntegrationCreatesOneJobWithTheWorkerContract(t *testing.T) {
	needEnv(t)
	startController(t)
	ns := newNamespace(t)
	jt := createReadyType(t, convertType(uniqueTypeName(t)).Obj())
	aj := convertJob("job-1", ns, jt.Name).Obj()
	mustCreate(t, aj)

	job := waitJob(t, ns, "job-1")
	ref := metav1.GetControllerOf(job)
	if ref == nil || ref.UID != aj.UID || ref.Kind != "AsyncJob" || ref.APIVersion != "asyncjob.io/v1alpha1" ||
		!ptr.Deref(ref.BlockOwnerDeletion, false) {
		t.Errorf("controller reference = %+v, want the AsyncJob with blockOwnerDeletion", ref)
	}
	for k, v := range map[string]string{asyncjobv1alpha1.LabelName: "job-1", asyncjobv1alpha1.LabelType: jt.Name, asyncjobv1alpha1.LabelTenant: "acme"} {
		if job.Labels[k] != v || job.Spec.Template.Labels[k] != v {
			t.Errorf("label %s: Job %q, pod template %q, want %q", k, job.Labels[k], job.Spec.Template.Labels[k], v)
		}
	}
	if job.Spec.Template.Spec.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("restartPolicy %q, want Never", job.Spec.Template.Spec.RestartPolicy)
	}
	if got := ptr.Deref(job.Spec.BackoffLimit, -1); got != 2 {
		t.Errorf("backoffLimit %d, want the type's default 2", got)
	}
	if got := ptr.Deref(job.Spec.ActiveDeadlineSeconds, -1); got != 600 {
		t.Errorf("activeDeadlineSeconds %d, want the type's default 600", got)
	}
	// Labels and annotations of the type's pod template survive the CRD's
	// pruning (generateEmbeddedObjectMeta) and reach the Job's pods.
	if job.Spec.Template.Annotations["example.com/profile"] != "fast" || job.Spec.Template.Labels["app"] != "convert" {
		t.Errorf("pod template metadata lost: labels %v annotations %v", job.Spec.Template.Labels, job.Spec.Template.Annotations)
	}
	c := job.Spec.Template.Spec.Containers[0]
	for name, want := range map[string]string{
		EnvID: "job-1", EnvType: jt.Name, "ASYNCJOB_PARAM_FORMAT": "webm", "ASYNCJOB_PARAM_CRF": "23",
		"ASYNCJOB_PARAM_INPUT": "https://example.com/a.mov",
	} {
		if got, ok := envValue(c, name); !ok || got != want {
			t.Errorf("env %s = %q (present %v), want %q", name, got, ok, want)
		}
	}
	if got, _ := envValue(c, EnvParameters); mustJSON(t, []byte(got))["format"] != "webm" {
		t.Errorf("ASYNCJOB_PARAMETERS = %s", got)
	}
	if c.Args[0] != "--format=$(ASYNCJOB_PARAM_FORMAT)" {
		t.Errorf("args %v: the template's args must be kept for Kubernetes' own $(VAR) expansion", c.Args)
	}

	got := waitState(t, ns, "job-1", asyncjobv1alpha1.StatePending)
	eventually(t, "status names the Job and Accepted is True", func(ctx context.Context) error {
		got, _ = getAJ(ctx, ns, "job-1")
		if got.Status.JobName != "job-1" || !meta.IsStatusConditionTrue(got.Status.Conditions, asyncjobv1alpha1.ConditionAccepted) {
			return fmt.Errorf("status %+v", got.Status)
		}
		return nil
	})
	if got.Status.ObservedGeneration != got.Generation {
		t.Errorf("observedGeneration %d, generation %d", got.Status.ObservedGeneration, got.Generation)
	}
}

func TestIntegrationLifecycleToCompletedWithResult(t *testing.T) {
	needEnv(t)
	startController(t)
	ns := newNamespace(t)
	jt := createReadyType(t, convertType(uniqueTypeName(t)).Obj())
	mustCreate(t, convertJob("done", ns, jt.Name).Obj())
	job := waitJob(t, ns, "done")
	start := time.Now().Add(-time.Minute).Truncate(time.Second)

	env.CreatePod(t, runningPod(job, start))
	env.UpdateJobStatus(t, job, func(s *batchv1.JobStatus) {
		s.StartTime = ptr.To(metav1.NewTime(start))
		s.Active = 1
	})
	running := waitState(t, ns, "done", asyncjobv1alpha1.StateRunning)
	eventually(t, "attempts follow the Job's counters", func(ctx context.Context) error {
		running, _ = getAJ(ctx, ns, "done")
		if running.Status.Attempts != 1 {
			return fmt.Errorf("attempts %d, want 1", running.Status.Attempts)
		}
		return nil
	})
	if running.Status.StartTime == nil || !running.Status.StartTime.Time.Equal(start) {
		t.Errorf("running: startTime %v, want the pod's start %v", running.Status.StartTime, start)
	}
	if !meta.IsStatusConditionTrue(running.Status.Conditions, asyncjobv1alpha1.ConditionRunning) {
		t.Errorf("Running condition not True: %+v", running.Status.Conditions)
	}

	env.SetPodStatus(t, terminatedPod(job, "a", corev1.PodSucceeded, start, 0, `{"output":"s3://bucket/a.webm","bytes":1234}`))
	end := start.Add(30 * time.Second)
	env.UpdateJobStatus(t, job, func(s *batchv1.JobStatus) {
		s.Active, s.Succeeded = 0, 1
		s.CompletionTime = ptr.To(metav1.NewTime(end))
		s.Conditions = append(s.Conditions, wrappers.CompleteConditions(metav1.NewTime(end))...)
	})
	done := waitState(t, ns, "done", asyncjobv1alpha1.StateCompleted)
	if r := mustJSON(t, done.Status.Result.Raw); r["output"] != "s3://bucket/a.webm" || r["bytes"] != float64(1234) {
		t.Errorf("result %s", done.Status.Result.Raw)
	}
	if done.Status.CompletionTime == nil || !done.Status.CompletionTime.Time.Equal(end) {
		t.Errorf("completionTime %v, want %v", done.Status.CompletionTime, end)
	}
	if done.Status.ExpireTime == nil || !done.Status.ExpireTime.Time.Equal(end.Add(24*time.Hour)) {
		t.Errorf("expireTime %v, want completion + the default TTL of 24h", done.Status.ExpireTime)
	}
	if !meta.IsStatusConditionTrue(done.Status.Conditions, asyncjobv1alpha1.ConditionComplete) ||
		meta.IsStatusConditionTrue(done.Status.Conditions, asyncjobv1alpha1.ConditionRunning) {
		t.Errorf("conditions %+v", done.Status.Conditions)
	}
	eventually(t, "events for the transitions", func(ctx context.Context) error {
		return expectEvents(ctx, ns, "done", asyncjobv1alpha1.ReasonJobCreated, string(asyncjobv1alpha1.StateRunning), string(asyncjobv1alpha1.StateCompleted))
	})
	// The type is unique to this test, so its series count only this AsyncJob.
	if got := testutil.ToFloat64(jobsCreated.WithLabelValues(jt.Name)); got != 1 {
		t.Errorf("asyncjob_jobs_created_total{type=%s} = %v, want 1", jt.Name, got)
	}
	if got := testutil.ToFloat64(jobsFinished.WithLabelValues(jt.Name, "completed")); got != 1 {
		t.Errorf("asyncjob_jobs_finished_total{state=completed} = %v, want 1", got)
	}
	if got := histogramCount(t, timeToStart.WithLabelValues(jt.Name)); got != 1 {
		t.Errorf("asyncjob_time_to_start_seconds{type=%s} count = %d, want 1", jt.Name, got)
	}
	if got := histogramCount(t, runDuration.WithLabelValues(jt.Name, "completed")); got != 1 {
		t.Errorf("asyncjob_run_duration_seconds{state=completed} count = %d, want 1", got)
	}
}

func histogramCount(t *testing.T, o prometheus.Observer) uint64 {
	t.Helper()
	m := &dto.Metric{}
	if err := o.(prometheus.Metric).Write(m); err != nil {
		t.Fatal(err)
	}
	return m.GetHistogram().GetSampleCount()
}

func TestIntegrationFailedWithReasonAndMessage(t *testing.T) {
	needEnv(t)
	startController(t)
	ns := newNamespace(t)
	jt := createReadyType(t, convertType(uniqueTypeName(t)).Obj())
	mustCreate(t, convertJob("bad", ns, jt.Name).Obj())
	job := waitJob(t, ns, "bad")
	start := time.Now().Add(-time.Minute).Truncate(time.Second)
	env.CreatePod(t, terminatedPod(job, "a", corev1.PodFailed, start, 2, "input not found"))
	env.CreatePod(t, terminatedPod(job, "b", corev1.PodFailed, start.Add(10*time.Second), 3, "codec unsupported"))
	env.CreatePod(t, terminatedPod(job, "c", corev1.PodFailed, start.Add(5*time.Second), 4, "older failure"))
	env.UpdateJobStatus(t, job, func(s *batchv1.JobStatus) {
		s.StartTime = ptr.To(metav1.NewTime(start))
		s.Failed = 3
		s.Conditions = append(s.Conditions, wrappers.FailedConditions("BackoffLimitExceeded", "BackoffLimitExceeded", metav1.NewTime(start.Add(20*time.Second)))...)
	})
	failed := waitState(t, ns, "bad", asyncjobv1alpha1.StateFailed)
	f := failed.Status.Failure
	if f == nil || f.Reason != "BackoffLimitExceeded" || f.Message != "codec unsupported" || ptr.Deref(f.ExitCode, 0) != 3 {
		t.Fatalf("failure %+v, want BackoffLimitExceeded from the latest failed container (exit 3, codec unsupported)", f)
	}
	if failed.Status.Attempts != 3 {
		t.Errorf("attempts %d, want 3", failed.Status.Attempts)
	}
	if c := meta.FindStatusCondition(failed.Status.Conditions, asyncjobv1alpha1.ConditionFailed); c == nil || c.Reason != "BackoffLimitExceeded" {
		t.Errorf("Failed condition %+v", c)
	}
	eventually(t, "a Failed event with the reason and message", func(ctx context.Context) error {
		return expectEventKeys(ctx, ns, "bad", eventKey{corev1.EventTypeWarning, string(asyncjobv1alpha1.StateFailed), "Fail", "BackoffLimitExceeded: codec unsupported"})
	})
}

func TestIntegrationCancelDeletesTheJobInTheForeground(t *testing.T) {
	needEnv(t)
	startController(t)
	ns := newNamespace(t)
	jobs := watchJobCreations(t, ns)
	jt := createReadyType(t, convertType(uniqueTypeName(t)).Obj())
	mustCreate(t, convertJob("stop-me", ns, jt.Name).Obj())
	job := waitJob(t, ns, "stop-me")
	env.CreatePod(t, runningPod(job, time.Now().Add(-time.Second)))
	waitState(t, ns, "stop-me", asyncjobv1alpha1.StateRunning)

	requestCancel(t, ns, "stop-me")
	// envtest has no garbage collector: the foreground deletion shows as a
	// deletion timestamp plus the foregroundDeletion finalizer, and stays.
	eventually(t, "the Job is being deleted in the foreground", func(ctx context.Context) error {
		cur := &batchv1.Job{}
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(job), cur); err != nil {
			return err
		}
		if cur.DeletionTimestamp.IsZero() || !controllerHasFinalizer(cur.Finalizers, metav1.FinalizerDeleteDependents) {
			return fmt.Errorf("deletionTimestamp %v finalizers %v", cur.DeletionTimestamp, cur.Finalizers)
		}
		return nil
	})
	stopping := waitState(t, ns, "stop-me", asyncjobv1alpha1.StateRunning)
	eventually(t, "Cancelled=False Stopping while the Job is torn down", func(ctx context.Context) error {
		stopping, _ = getAJ(ctx, ns, "stop-me")
		if c := meta.FindStatusCondition(stopping.Status.Conditions, asyncjobv1alpha1.ConditionCancelled); c == nil ||
			c.Status != metav1.ConditionFalse || c.Reason != asyncjobv1alpha1.ReasonStopping {
			return fmt.Errorf("Cancelled condition %+v", c)
		}
		return nil
	})

	// Play the garbage collector: the pods go, then the Job's finalizer.
	if err := env.Client.DeleteAllOf(context.Background(), &corev1.Pod{}, client.InNamespace(ns), client.GracePeriodSeconds(0)); err != nil {
		t.Fatal(err)
	}
	removeFinalizers(t, job)
	cancelled := waitState(t, ns, "stop-me", asyncjobv1alpha1.StateCancelled)
	if cancelled.Status.CompletionTime == nil || !meta.IsStatusConditionTrue(cancelled.Status.Conditions, asyncjobv1alpha1.ConditionCancelled) {
		t.Errorf("cancelled status %+v", cancelled.Status)
	}
	// Cancelled is final: no new Job appears.
	expectNoJobs(t, ns, "no second Job after cancellation", 2*time.Second)
	jobs.expectCreated(t, "the only Job ever created is the cancelled one", job.UID)
	eventually(t, "Stopping and Cancelled events", func(ctx context.Context) error {
		return expectEventKeys(ctx, ns, "stop-me",
			eventKey{corev1.EventTypeNormal, asyncjobv1alpha1.ReasonStopping, "Cancel", "deleting the Job and its pods (foreground)"},
			eventKey{corev1.EventTypeNormal, string(asyncjobv1alpha1.StateCancelled), "Cancel", "the Job and its pods are gone"})
	})
}

func TestIntegrationCancelBeforeTheTypeExistsNeverCreatesAJob(t *testing.T) {
	needEnv(t)
	startController(t)
	ns := newNamespace(t)
	jobs := watchJobCreations(t, ns)
	typeName := uniqueTypeName(t)
	mustCreate(t, convertJob("early", ns, typeName).Obj())
	waitState(t, ns, "early", asyncjobv1alpha1.StatePending)
	requestCancel(t, ns, "early")
	waitObserved(t, ns, "early", asyncjobv1alpha1.StateCancelled)
	createReadyType(t, convertType(typeName).Obj())
	// A finished AsyncJob is not woken by its type appearing; lose its status
	// so that a pass must decide again, now with the type Ready.
	aj, err := getAJ(context.Background(), ns, "early")
	if err != nil {
		t.Fatal(err)
	}
	aj.Status = asyncjobv1alpha1.AsyncJobStatus{}
	if err := env.Client.Status().Update(context.Background(), aj); err != nil {
		t.Fatal(err)
	}
	waitObserved(t, ns, "early", asyncjobv1alpha1.StateCancelled)
	expectNoJobs(t, ns, "no Job for a cancelled AsyncJob", 2*time.Second)
	jobs.expectCreated(t, "no Job was ever created")
}

func TestIntegrationCreatedCancelledWithAReadyTypeNeverGetsAJob(t *testing.T) {
	needEnv(t)
	startController(t)
	ns := newNamespace(t)
	jobs := watchJobCreations(t, ns)
	jt := createReadyType(t, convertType(uniqueTypeName(t)).Obj())
	cancelledAtBirth := convertJob("never", ns, jt.Name).Obj()
	cancelledAtBirth.Spec.Cancel = true
	mustCreate(t, cancelledAtBirth)
	got := waitObserved(t, ns, "never", asyncjobv1alpha1.StateCancelled)
	if c := meta.FindStatusCondition(got.Status.Conditions, asyncjobv1alpha1.ConditionAccepted); c == nil ||
		c.Status != metav1.ConditionFalse || c.Reason != asyncjobv1alpha1.ReasonCancelled {
		t.Errorf("Accepted %+v, want False/Cancelled", c)
	}
	// A sibling created after it gets its Job: the controller is not idle.
	mustCreate(t, convertJob("sibling", ns, jt.Name).Obj())
	sibling := waitJob(t, ns, "sibling")
	jobs.expectCreated(t, "only the sibling got a Job", sibling.UID)
	eventually(t, "an Accepted=False Cancelled warning", func(ctx context.Context) error {
		return expectEventKeys(ctx, ns, "never", eventKey{corev1.EventTypeWarning, asyncjobv1alpha1.ReasonCancelled, "Accept", "cancelled before it started"})
	})
}

func TestIntegrationFinishedJobCannotBeCancelled(t *testing.T) {
	needEnv(t)
	startController(t)
	ns := newNamespace(t)
	jt := createReadyType(t, convertType(uniqueTypeName(t)).Obj())
	mustCreate(t, convertJob("finished", ns, jt.Name).Obj())
	job := waitJob(t, ns, "finished")
	now := time.Now().Truncate(time.Second)
	env.CreatePod(t, terminatedPod(job, "a", corev1.PodSucceeded, now, 0, "plain text, not JSON"))
	env.UpdateJobStatus(t, job, func(s *batchv1.JobStatus) {
		s.StartTime, s.CompletionTime, s.Succeeded = ptr.To(metav1.NewTime(now)), ptr.To(metav1.NewTime(now)), 1
		s.Conditions = append(s.Conditions, wrappers.CompleteConditions(metav1.NewTime(now))...)
	})
	done := waitState(t, ns, "finished", asyncjobv1alpha1.StateCompleted)
	if string(done.Status.Result.Raw) != `"plain text, not JSON"` {
		t.Errorf("a non-JSON termination message must be kept as a JSON string, got %s", done.Status.Result.Raw)
	}
	requestCancel(t, ns, "finished")
	consistently(t, "a Completed job stays Completed and keeps its Job", 2*time.Second, func(ctx context.Context) error {
		aj, err := getAJ(ctx, ns, "finished")
		if err != nil || aj.Status.State != asyncjobv1alpha1.StateCompleted {
			return fmt.Errorf("state %v err %v", aj.Status.State, err)
		}
		cur := &batchv1.Job{}
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(job), cur); err != nil || !cur.DeletionTimestamp.IsZero() {
			return fmt.Errorf("the Job of a finished AsyncJob was deleted (err %v)", err)
		}
		return nil
	})
}

func TestIntegrationTTLDeletesFinishedAsyncJobInTheForeground(t *testing.T) {
	needEnv(t)
	startController(t)
	ns := newNamespace(t)
	jt := createReadyType(t, convertType(uniqueTypeName(t)).Obj())
	mustCreate(t, convertJob("short-lived", ns, jt.Name).Overrides(asyncjobv1alpha1.JobLimits{TTLSecondsAfterFinished: ptr.To[int32](2)}).Obj())
	job := waitJob(t, ns, "short-lived")
	now := time.Now().Truncate(time.Second)
	env.UpdateJobStatus(t, job, func(s *batchv1.JobStatus) {
		s.StartTime, s.Failed = ptr.To(metav1.NewTime(now)), 1
		s.Conditions = append(s.Conditions, wrappers.FailedConditions("DeadlineExceeded", "DeadlineExceeded", metav1.NewTime(now))...)
	})
	failed := waitState(t, ns, "short-lived", asyncjobv1alpha1.StateFailed)
	if failed.Status.Failure.Reason != "DeadlineExceeded" {
		t.Errorf("failure %+v", failed.Status.Failure)
	}
	if failed.Status.ExpireTime == nil || !failed.Status.ExpireTime.Time.Equal(now.Add(2*time.Second)) {
		t.Errorf("expireTime %v, want completion + 2s", failed.Status.ExpireTime)
	}
	// No garbage collector in envtest: a foreground deletion leaves the
	// AsyncJob with a deletion timestamp and the foregroundDeletion finalizer,
	// for good; a background deletion would remove it at once (NotFound).
	eventually(t, "the AsyncJob is deleted in the foreground after its TTL", func(ctx context.Context) error {
		aj, err := getAJ(ctx, ns, "short-lived")
		if err != nil {
			return err
		}
		if aj.DeletionTimestamp.IsZero() || !controllerHasFinalizer(aj.Finalizers, metav1.FinalizerDeleteDependents) {
			return fmt.Errorf("deletionTimestamp %v finalizers %v", aj.DeletionTimestamp, aj.Finalizers)
		}
		return nil
	})
}

func TestIntegrationUnknownTypeWaitsThenStarts(t *testing.T) {
	needEnv(t)
	startController(t)
	ns := newNamespace(t)
	typeName := uniqueTypeName(t)
	mustCreate(t, convertJob("waiting", ns, typeName).Obj())
	eventually(t, "Pending with Accepted=False TypeNotFound", func(ctx context.Context) error {
		aj, err := getAJ(ctx, ns, "waiting")
		if err != nil {
			return err
		}
		c := meta.FindStatusCondition(aj.Status.Conditions, asyncjobv1alpha1.ConditionAccepted)
		if aj.Status.State != asyncjobv1alpha1.StatePending || c == nil || c.Status != metav1.ConditionFalse || c.Reason != asyncjobv1alpha1.ReasonTypeNotFound {
			return fmt.Errorf("state %q accepted %+v", aj.Status.State, c)
		}
		return nil
	})
	jobs, _ := jobsIn(context.Background(), ns)
	if len(jobs) != 0 {
		t.Fatalf("a Job was created for an unknown type")
	}
	eventually(t, "a TypeNotFound warning", func(ctx context.Context) error {
		return expectEventKeys(ctx, ns, "waiting", eventKey{corev1.EventTypeWarning, asyncjobv1alpha1.ReasonTypeNotFound, "Accept",
			fmt.Sprintf("AsyncJobType %q does not exist; the AsyncJob starts when it does", typeName)})
	})
	createReadyType(t, convertType(typeName).Obj())
	waitJob(t, ns, "waiting")
}

func TestIntegrationInvalidParametersFailWithoutAJob(t *testing.T) {
	needEnv(t)
	startController(t)
	ns := newNamespace(t)
	jobs := watchJobCreations(t, ns)
	jt := createReadyType(t, convertType(uniqueTypeName(t)).Obj())
	mustCreate(t, convertJob("invalid", ns, jt.Name).Params(`{"format":"avi"}`).Obj())
	mustCreate(t, convertJob("too-many-retries", ns, jt.Name).Overrides(asyncjobv1alpha1.JobLimits{BackoffLimit: ptr.To[int32](9)}).Obj())
	f := waitState(t, ns, "invalid", asyncjobv1alpha1.StateFailed).Status.Failure
	if f == nil || f.Reason != asyncjobv1alpha1.ReasonInvalidParameters || f.Message != "/format: value must be one of 'webm', 'mp4'" {
		t.Errorf("failure %+v", f)
	}
	f = waitState(t, ns, "too-many-retries", asyncjobv1alpha1.StateFailed).Status.Failure
	if f == nil || f.Reason != asyncjobv1alpha1.ReasonInvalidSpec || f.Message != "backoffLimit 9 exceeds the type's maximum of 5" {
		t.Errorf("failure %+v", f)
	}
	waitObserved(t, ns, "invalid", asyncjobv1alpha1.StateFailed)
	waitObserved(t, ns, "too-many-retries", asyncjobv1alpha1.StateFailed)
	expectNoJobs(t, ns, "no Job for a rejected AsyncJob", time.Second)
	// A valid sibling created after them gets its Job, and it is the only one.
	mustCreate(t, convertJob("valid", ns, jt.Name).Obj())
	valid := waitJob(t, ns, "valid")
	jobs.expectCreated(t, "only the valid sibling got a Job", valid.UID)
	eventually(t, "InvalidParameters and InvalidSpec warnings, and Failed", func(ctx context.Context) error {
		if err := expectEventKeys(ctx, ns, "invalid",
			eventKey{corev1.EventTypeWarning, asyncjobv1alpha1.ReasonInvalidParameters, "Accept", "/format: value must be one of 'webm', 'mp4'"},
			eventKey{corev1.EventTypeWarning, string(asyncjobv1alpha1.StateFailed), "Fail", "InvalidParameters: /format: value must be one of 'webm', 'mp4'"}); err != nil {
			return err
		}
		return expectEventKeys(ctx, ns, "too-many-retries",
			eventKey{corev1.EventTypeWarning, asyncjobv1alpha1.ReasonInvalidSpec, "Accept", "backoffLimit 9 exceeds the type's maximum of 5"})
	})
}

func TestIntegrationBrokenTypeIsNotReady(t *testing.T) {
	needEnv(t)
	startController(t)
	ns := newNamespace(t)
	broken := convertType(uniqueTypeName(t)).Schema(`{"type":"object","properties":{"x":{"type":7}}}`)
	mustCreate(t, broken.Obj())
	t.Cleanup(func() { _ = env.Client.Delete(context.Background(), broken.Obj()) })
	eventually(t, "Ready=False InvalidSchema", func(ctx context.Context) error {
		got := &asyncjobv1alpha1.AsyncJobType{}
		if err := env.Client.Get(ctx, types.NamespacedName{Name: broken.Name}, got); err != nil {
			return err
		}
		c := meta.FindStatusCondition(got.Status.Conditions, asyncjobv1alpha1.TypeConditionReady)
		if c == nil || c.Status != metav1.ConditionFalse || c.Reason != asyncjobv1alpha1.ReasonInvalidSchema || got.Status.ObservedGeneration != got.Generation {
			return fmt.Errorf("ready %+v", c)
		}
		return nil
	})
	mustCreate(t, convertJob("of-broken-type", ns, broken.Name).Obj())
	eventually(t, "Accepted=False TypeNotReady", func(ctx context.Context) error {
		aj, err := getAJ(ctx, ns, "of-broken-type")
		if err != nil {
			return err
		}
		if c := meta.FindStatusCondition(aj.Status.Conditions, asyncjobv1alpha1.ConditionAccepted); c == nil || c.Reason != asyncjobv1alpha1.ReasonTypeNotReady {
			return fmt.Errorf("accepted %+v", c)
		}
		return nil
	})
	eventually(t, "a TypeNotReady warning", func(ctx context.Context) error {
		return expectEventKeys(ctx, ns, "of-broken-type", eventKey{corev1.EventTypeWarning, asyncjobv1alpha1.ReasonTypeNotReady, "Accept",
			fmt.Sprintf("AsyncJobType %q is not ready; see its Ready condition", broken.Name)})
	})
	expectNoJobs(t, ns, "no Job for a type that is not Ready", time.Second)
}

func TestIntegrationAPIServerRejectsSpecChanges(t *testing.T) {
	needEnv(t)
	ns := newNamespace(t)
	aj := convertJob("immutable", ns, "some-type").Obj()
	aj.Spec.Cancel = false
	mustCreate(t, aj)
	tests := map[string]struct {
		mutate func(*asyncjobv1alpha1.AsyncJob)
		want   string
	}{
		"type":               {func(a *asyncjobv1alpha1.AsyncJob) { a.Spec.Type = "other" }, "type is immutable"},
		"parameters changed": {func(a *asyncjobv1alpha1.AsyncJob) { a.Spec.Parameters.Raw = []byte(`{"format":"mp4"}`) }, "parameters are immutable"},
		"parameters removed": {func(a *asyncjobv1alpha1.AsyncJob) { a.Spec.Parameters = nil }, "parameters are immutable"},
		"overrides added": {func(a *asyncjobv1alpha1.AsyncJob) {
			a.Spec.Overrides = &asyncjobv1alpha1.JobLimits{BackoffLimit: ptr.To[int32](1)}
		}, "overrides are immutable"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			cur, err := getAJ(context.Background(), ns, "immutable")
			if err != nil {
				t.Fatal(err)
			}
			tc.mutate(cur)
			err = env.Client.Update(context.Background(), cur)
			if err == nil || !containsAll(err.Error(), tc.want) {
				t.Errorf("update error %v, want one containing %q", err, tc.want)
			}
		})
	}
	t.Run("cancel cannot be withdrawn", func(t *testing.T) {
		requestCancel(t, ns, "immutable")
		cur, _ := getAJ(context.Background(), ns, "immutable")
		cur.Spec.Cancel = false
		if err := env.Client.Update(context.Background(), cur); err == nil || !containsAll(err.Error(), "a cancellation cannot be withdrawn") {
			t.Errorf("update error %v", err)
		}
	})
	t.Run("name longer than a Job name may be", func(t *testing.T) {
		long := convertJob("a123456789-123456789-123456789-123456789-123456789-123456789-1234", ns, "t").Obj()
		if err := env.Client.Create(context.Background(), long); err == nil || !containsAll(err.Error(), "at most 63 characters") {
			t.Errorf("create error %v", err)
		}
	})
}

func TestIntegrationRestartedControllerCreatesNoSecondJob(t *testing.T) {
	needEnv(t)
	stop := startController(t)
	ns := newNamespace(t)
	jobs := watchJobCreations(t, ns)
	jt := createReadyType(t, convertType(uniqueTypeName(t)).Obj())
	mustCreate(t, convertJob("survivor", ns, jt.Name).Obj())
	first := waitJob(t, ns, "survivor")
	env.CreatePod(t, runningPod(first, time.Now().Add(-time.Second)))
	env.UpdateJobStatus(t, first, func(s *batchv1.JobStatus) { s.Active = 1 })
	eventually(t, "status records the Job and its one attempt", func(ctx context.Context) error {
		aj, err := getAJ(ctx, ns, "survivor")
		if err == nil && (aj.Status.JobName == "" || aj.Status.Attempts != 1) {
			err = fmt.Errorf("jobName %q attempts %d", aj.Status.JobName, aj.Status.Attempts)
		}
		return err
	})
	stop()

	// A lost status write: the new controller sees no jobName, must find the
	// existing Job rather than create another.
	// The stopped controller's last write may still land: retry the clearing
	// on a conflict, so it is the last word.
	if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		aj, err := getAJ(context.Background(), ns, "survivor")
		if err != nil {
			return err
		}
		aj.Status = asyncjobv1alpha1.AsyncJobStatus{}
		return env.Client.Status().Update(context.Background(), aj)
	}); err != nil {
		t.Fatal(err)
	}
	startController(t)
	eventually(t, "the new controller adopts nothing new and records the same Job", func(ctx context.Context) error {
		aj, err := getAJ(ctx, ns, "survivor")
		if err != nil || aj.Status.JobName != "survivor" || aj.Status.Attempts != 1 || aj.Status.State != asyncjobv1alpha1.StateRunning {
			return fmt.Errorf("jobName %q attempts %d state %q err %v", aj.Status.JobName, aj.Status.Attempts, aj.Status.State, err)
		}
		return nil
	})
	consistently(t, "exactly one Job, the original", 2*time.Second, func(ctx context.Context) error {
		jobs, err := jobsIn(ctx, ns)
		if err != nil || len(jobs) != 1 || jobs[0].UID != first.UID {
			return fmt.Errorf("jobs %d (want 1 with UID %s), err %v", len(jobs), first.UID, err)
		}
		return nil
	})
	jobs.expectCreated(t, "one Job created over both controllers' lifetimes", first.UID)
}

func TestIntegrationForeignJobIsLeftAloneThenItsNameIsUsed(t *testing.T) {
	needEnv(t)
	startController(t)
	ns := newNamespace(t)
	jobs := watchJobCreations(t, ns)
	jt := createReadyType(t, convertType(uniqueTypeName(t)).Obj())
	foreign := wrappers.MakeJob("taken", ns).Label("owner", "someone-else").
		PodTemplate(*jt.Spec.Template.Spec.Template.DeepCopy()).Obj()
	mustCreate(t, foreign)
	mustCreate(t, convertJob("taken", ns, jt.Name).Obj())
	eventually(t, "Accepted=False JobNameConflict", func(ctx context.Context) error {
		aj, err := getAJ(ctx, ns, "taken")
		if err != nil {
			return err
		}
		if c := meta.FindStatusCondition(aj.Status.Conditions, asyncjobv1alpha1.ConditionAccepted); c == nil || c.Reason != asyncjobv1alpha1.ReasonJobNameConflict ||
			aj.Status.State != asyncjobv1alpha1.StatePending {
			return fmt.Errorf("state %q accepted %+v", aj.Status.State, c)
		}
		return nil
	})
	cur := &batchv1.Job{}
	if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(foreign), cur); err != nil {
		t.Fatal(err)
	}
	if len(cur.OwnerReferences) != 0 || cur.ResourceVersion != foreign.ResourceVersion {
		t.Errorf("the foreign Job was changed: owners %v, resourceVersion %s -> %s", cur.OwnerReferences, foreign.ResourceVersion, cur.ResourceVersion)
	}
	eventually(t, "a JobNameConflict warning", func(ctx context.Context) error {
		return expectEventKeys(ctx, ns, "taken", eventKey{corev1.EventTypeWarning, asyncjobv1alpha1.ReasonJobNameConflict, "Accept",
			`a Job named "taken" exists that this AsyncJob does not own; it is left alone`})
	})

	// Once its owner removes it, the AsyncJob starts. Nothing watches a foreign
	// Job (it is not in the cache), so this is the AsyncJob's own retry.
	if err := env.Client.Delete(context.Background(), foreign, client.PropagationPolicy(metav1.DeletePropagationBackground)); err != nil {
		t.Fatal(err)
	}
	aj, _ := getAJ(context.Background(), ns, "taken")
	var own *batchv1.Job
	eventuallyWithin(t, "the AsyncJob's own Job replaces the foreign one", 2*conflictRetryAfter+10*time.Second, func(ctx context.Context) error {
		own = &batchv1.Job{}
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(foreign), own); err != nil {
			return err
		}
		if !metav1.IsControlledBy(own, aj) {
			return fmt.Errorf("Job %s owners %v: still the foreign one", own.UID, own.OwnerReferences)
		}
		return nil
	})
	eventually(t, "Accepted=True JobCreated", func(ctx context.Context) error {
		aj, err := getAJ(ctx, ns, "taken")
		if err != nil {
			return err
		}
		if c := meta.FindStatusCondition(aj.Status.Conditions, asyncjobv1alpha1.ConditionAccepted); c == nil || c.Status != metav1.ConditionTrue || aj.Status.JobName != "taken" {
			return fmt.Errorf("jobName %q accepted %+v", aj.Status.JobName, c)
		}
		return nil
	})
	jobs.expectCreated(t, "the foreign Job, then the AsyncJob's own", foreign.UID, own.UID)
}

func TestIntegrationJobDeletedByOthersIsJobLost(t *testing.T) {
	needEnv(t)
	startController(t)
	ns := newNamespace(t)
	jobs := watchJobCreations(t, ns)
	jt := createReadyType(t, convertType(uniqueTypeName(t)).Obj())
	mustCreate(t, convertJob("lost", ns, jt.Name).Obj())
	job := waitJob(t, ns, "lost")
	env.CreatePod(t, runningPod(job, time.Now().Add(-time.Second)))
	running := waitState(t, ns, "lost", asyncjobv1alpha1.StateRunning)
	eventually(t, "status records the Job", func(ctx context.Context) error {
		var err error
		if running, err = getAJ(ctx, ns, "lost"); err == nil && running.Status.JobName != "lost" {
			err = fmt.Errorf("jobName %q", running.Status.JobName)
		}
		return err
	})

	// Someone else deletes the Job (no cancellation), as kubectl does: in the
	// background (batch/v1 would default to orphaning, which needs a garbage
	// collector to finish). envtest has none, so its pod stays.
	if err := env.Client.Delete(context.Background(), job, client.PropagationPolicy(metav1.DeletePropagationBackground)); err != nil {
		t.Fatal(err)
	}
	lost := waitState(t, ns, "lost", asyncjobv1alpha1.StateFailed)
	if f := lost.Status.Failure; f == nil || f.Reason != asyncjobv1alpha1.ReasonJobLost || f.Message != "the Job was deleted by someone other than asyncjob" {
		t.Errorf("failure %+v, want JobLost", f)
	}
	if c := meta.FindStatusCondition(lost.Status.Conditions, asyncjobv1alpha1.ConditionFailed); c == nil || c.Status != metav1.ConditionTrue || c.Reason != asyncjobv1alpha1.ReasonJobLost {
		t.Errorf("Failed condition %+v", c)
	}
	if lost.Status.CompletionTime == nil || lost.Status.ExpireTime == nil ||
		!lost.Status.ExpireTime.Time.Equal(lost.Status.CompletionTime.Add(24*time.Hour)) {
		t.Errorf("completionTime %v expireTime %v, want the recorded TTL of 24h after completion", lost.Status.CompletionTime, lost.Status.ExpireTime)
	}
	// An AsyncJob that had a Job never gets another.
	expectNoJobs(t, ns, "no replacement Job", 2*time.Second)
	jobs.expectCreated(t, "the lost Job was the only one", job.UID)
	eventually(t, "a Failed event", func(ctx context.Context) error {
		return expectEventKeys(ctx, ns, "lost", eventKey{corev1.EventTypeWarning, string(asyncjobv1alpha1.StateFailed), "Fail",
			"JobLost: the Job was deleted by someone other than asyncjob"})
	})
}

// TestIntegrationCompletedWaitsForALaggingPod: the Job reports completion before
// its succeeded pod is seen; Completed comes with the result, not before it.
func TestIntegrationCompletedWaitsForALaggingPod(t *testing.T) {
	needEnv(t)
	startController(t)
	ns := newNamespace(t)
	jt := createReadyType(t, convertType(uniqueTypeName(t)).Obj())
	mustCreate(t, convertJob("lagging", ns, jt.Name).Obj())
	job := waitJob(t, ns, "lagging")
	now := time.Now().Truncate(time.Second)
	env.UpdateJobStatus(t, job, func(s *batchv1.JobStatus) {
		s.StartTime, s.CompletionTime, s.Succeeded = ptr.To(metav1.NewTime(now)), ptr.To(metav1.NewTime(now)), 1
		s.Conditions = append(s.Conditions, wrappers.CompleteConditions(metav1.NewTime(now))...)
	})
	// attempts follow the Job's counters: a pass has seen the completed Job.
	eventually(t, "a pass saw the completed Job", func(ctx context.Context) error {
		aj, err := getAJ(ctx, ns, "lagging")
		if err == nil && aj.Status.Attempts != 1 {
			err = fmt.Errorf("attempts %d", aj.Status.Attempts)
		}
		return err
	})
	aj, err := getAJ(context.Background(), ns, "lagging")
	if err != nil {
		t.Fatal(err)
	}
	if aj.Status.State.IsFinished() || aj.Status.Result != nil || aj.Status.CompletionTime != nil {
		t.Fatalf("without its pod: state %q result %v completionTime %v, want it still unfinished", aj.Status.State, aj.Status.Result, aj.Status.CompletionTime)
	}

	env.CreatePod(t, terminatedPod(job, "a", corev1.PodSucceeded, now, 0, `{"frames":42}`))
	done := waitState(t, ns, "lagging", asyncjobv1alpha1.StateCompleted)
	if done.Status.Result == nil || string(done.Status.Result.Raw) != `{"frames":42}` {
		t.Errorf("result %v, want the pod's termination message", done.Status.Result)
	}
}

// expectNoJobs checks that the namespace holds no Job for a while.
func expectNoJobs(t *testing.T, ns, what string, d time.Duration) {
	t.Helper()
	consistently(t, what, d, func(ctx context.Context) error {
		jobs, err := jobsIn(ctx, ns)
		if err != nil || len(jobs) != 0 {
			return fmt.Errorf("jobs %d, err %v", len(jobs), err)
		}
		return nil
	})
}

func requestCancel(t *testing.T, ns, name string) {
	t.Helper()
	aj, err := getAJ(context.Background(), ns, name)
	if err != nil {
		t.Fatal(err)
	}
	patch := client.MergeFrom(aj.DeepCopy())
	aj.Spec.Cancel = true
	if err := env.Client.Patch(context.Background(), aj, patch); err != nil {
		t.Fatal(err)
	}
}

func removeFinalizers(t *testing.T, o client.Object) {
	t.Helper()
	eventually(t, "remove finalizers", func(ctx context.Context) error {
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(o), o); err != nil {
			return client.IgnoreNotFound(err)
		}
		o.SetFinalizers(nil)
		return env.Client.Update(ctx, o)
	})
}

func controllerHasFinalizer(fs []string, f string) bool {
	return slices.Contains(fs, f)
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// eventKey is what identifies an Event of an AsyncJob in these tests.
type eventKey struct{ Type, Reason, Action, Note string }

// expectEventKeys checks that events.k8s.io Events with exactly these type,
// reason, action and note were recorded for the AsyncJob.
func expectEventKeys(ctx context.Context, ns, name string, want ...eventKey) error {
	list := &eventsv1.EventList{}
	if err := env.Client.List(ctx, list, client.InNamespace(ns)); err != nil {
		return err
	}
	var seen []eventKey
	for _, e := range list.Items {
		if e.Regarding.Name == name && e.Regarding.Kind == "AsyncJob" {
			seen = append(seen, eventKey{e.Type, e.Reason, e.Action, e.Note})
		}
	}
	for _, w := range want {
		if !slices.Contains(seen, w) {
			return fmt.Errorf("no event %+v; saw %+v", w, seen)
		}
	}
	return nil
}

// expectEvents checks that events.k8s.io Events with these reasons were
// recorded for the AsyncJob.
func expectEvents(ctx context.Context, ns, name string, reasons ...string) error {
	list := &eventsv1.EventList{}
	if err := env.Client.List(ctx, list, client.InNamespace(ns)); err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, e := range list.Items {
		if e.Regarding.Name == name && e.Regarding.Kind == "AsyncJob" {
			seen[e.Reason] = true
		}
	}
	for _, r := range reasons {
		if !seen[r] {
			return fmt.Errorf("no %s event; saw %v", r, seen)
		}
	}
	return nil
}
