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
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	_ "gocloud.dev/blob/fileblob" // the stores these tests open by URL, as cmd does
	_ "gocloud.dev/blob/s3blob"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/internal/artifact"
	"github.com/asyncjob/asyncjob/internal/tombstone"
	"github.com/asyncjob/asyncjob/test/framework"
	"github.com/asyncjob/asyncjob/test/wrappers"
)

// fileStore is a real filesystem artifact store in a directory of the test's
// own, as the chart's default backend (a volume) is.
func fileStore(t *testing.T) (*artifact.Store, string) {
	t.Helper()
	u := framework.FileStore(t)
	store, err := artifact.Open(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	return store, strings.TrimSuffix(strings.TrimPrefix(u, "file://"), "?no_tmp_dir=true")
}

// artifactsOptions run the controller with a store, and with an entrypoint
// image, which a type with artifacts needs to be Ready.
func artifactsOptions(store *artifact.Store) Options {
	return Options{MaxConcurrentReconciles: 2, EntrypointImage: "example.com/asyncjob:test", ArtifactStore: store}
}

// filesType is convertType with artifacts: the input parameter "input", the
// outputs in the outputs directory.
func filesType(name string) *wrappers.AsyncJobTypeWrapper {
	return convertType(name).Entrypoint(asyncjobv1alpha1.EntrypointInject).Command("/convert").
		Artifacts([]string{"input"}, asyncjobv1alpha1.OutputsDir+"/*")
}

// filesJob is convertJob with the artifacts finalizer and an uploaded input,
// as the REST API creates it.
func filesJob(name, ns, jobType string, inputs ...asyncjobv1alpha1.Artifact) *wrappers.AsyncJobWrapper {
	return convertJob(name, ns, jobType).Params(`{"format":"webm","input":"clip.mov"}`).
		Inputs(inputs...).Finalizer(asyncjobv1alpha1.FinalizerArtifacts)
}

func putFile(t *testing.T, store *artifact.Store, ns, job string, kind artifact.Kind, name, content string) asyncjobv1alpha1.Artifact {
	t.Helper()
	a, err := store.Put(context.Background(), ns, job, kind, name, strings.NewReader(content), artifact.PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// expectKeys checks what the store holds of a job now.
func expectKeys(ctx context.Context, store *artifact.Store, ns, job string, want ...string) error {
	got, err := store.List(ctx, ns, job)
	if err != nil {
		return err
	}
	for i := range want {
		want[i] = artifact.Prefix(ns, job) + want[i]
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		return fmt.Errorf("the store holds %v, want %v", got, want)
	}
	return nil
}

// freeze makes a directory of the store refuse the removal of its files, as
// a store that is down does: immutable for root (chattr +i, which root is
// held to), read-only for anyone else. thaw, also at the test's end, undoes it.
func freeze(t *testing.T, dir string) (thaw func()) {
	t.Helper()
	if os.Geteuid() != 0 {
		if err := os.Chmod(dir, 0o500); err != nil {
			t.Fatal(err)
		}
		thaw = func() { _ = os.Chmod(dir, 0o755) }
	} else {
		if out, err := exec.Command("chattr", "+i", dir).CombinedOutput(); err != nil {
			t.Skipf("cannot make %s immutable to fake a store that is down (%v: %s)", dir, err, out)
		}
		thaw = func() { _ = exec.Command("chattr", "-i", dir).Run() }
	}
	t.Cleanup(thaw)
	return thaw
}

// recordOutputs writes status.outputs as the REST API does on the worker's PUT.
func recordOutputs(t *testing.T, ns, name string, outputs ...asyncjobv1alpha1.Artifact) {
	t.Helper()
	eventually(t, "record status.outputs", func(ctx context.Context) error {
		aj, err := getAJ(ctx, ns, name)
		if err != nil {
			return err
		}
		patch := client.MergeFromWithOptions(aj.DeepCopy(), client.MergeFromWithOptimisticLock{})
		aj.Status.Outputs = outputs
		return env.Client.Status().Patch(ctx, aj, patch)
	})
}

// playGarbageCollector finishes the foreground deletion of a Job as the
// garbage collector would, which envtest does not run: its pods go, then it.
func playGarbageCollector(t *testing.T, job *batchv1.Job) {
	t.Helper()
	if err := env.Client.DeleteAllOf(context.Background(), &corev1.Pod{}, client.InNamespace(job.Namespace), client.GracePeriodSeconds(0)); err != nil {
		t.Fatal(err)
	}
	removeFinalizers(t, job)
}

func waitJobDeleting(t *testing.T, job *batchv1.Job) {
	t.Helper()
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
}

func waitGone(t *testing.T, ns, name string) {
	t.Helper()
	eventually(t, "the AsyncJob is gone", func(ctx context.Context) error {
		aj, err := getAJ(ctx, ns, name)
		if isNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		return fmt.Errorf("still there: finalizers %v, conditions %+v", aj.Finalizers, aj.Status.Conditions)
	})
}

func waitArtifactsCondition(t *testing.T, ns, name string, status metav1.ConditionStatus, reason, message string) *asyncjobv1alpha1.AsyncJob {
	t.Helper()
	var aj *asyncjobv1alpha1.AsyncJob
	eventually(t, "ArtifactsRemoved="+string(status)+" "+reason, func(ctx context.Context) error {
		var err error
		if aj, err = getAJ(ctx, ns, name); err != nil {
			return err
		}
		c := meta.FindStatusCondition(aj.Status.Conditions, asyncjobv1alpha1.ConditionArtifactsRemoved)
		if c == nil || c.Status != status || c.Reason != reason || c.Message != message {
			return fmt.Errorf("ArtifactsRemoved %+v", c)
		}
		return nil
	})
	return aj
}

func deleteAJ(t *testing.T, ns, name string) {
	t.Helper()
	aj := &asyncjobv1alpha1.AsyncJob{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	// Background, as kubectl delete does: the garbage collector would leave
	// the Job alone until the AsyncJob is gone.
	if err := env.Client.Delete(context.Background(), aj, client.PropagationPolicy(metav1.DeletePropagationBackground)); err != nil {
		t.Fatal(err)
	}
}

// TestIntegrationDeleteRemovesTheFilesThenTheFinalizer: a job with files is
// given the files' volumes and environment; deleted while it runs, its Job is
// stopped first (a worker could still upload), then its inputs and outputs
// leave the store, then the finalizer, and the AsyncJob is gone. No second
// Job is ever made.
func TestIntegrationDeleteRemovesTheFilesThenTheFinalizer(t *testing.T) {
	needEnv(t)
	store, _ := fileStore(t)
	startControllerWith(t, artifactsOptions(store))
	ns := newNamespace(t)
	jobs := watchJobCreations(t, ns)
	jt := createReadyType(t, filesType(uniqueTypeName(t)).Obj())
	in := putFile(t, store, ns, "with-files", artifact.Input, "clip.mov", "a movie")
	mustCreate(t, filesJob("with-files", ns, jt.Name, in).Obj())

	job := waitJob(t, ns, "with-files")
	pod := job.Spec.Template.Spec
	first := pod.Containers[0]
	for name, want := range map[string]string{
		EnvInputsDir: asyncjobv1alpha1.InputsDir, EnvOutputsDir: asyncjobv1alpha1.OutputsDir,
		EnvInputs: `["clip.mov"]`, EnvOutputs: `["/asyncjob/outputs/*"]`,
	} {
		if got, ok := envValue(first, name); !ok || got != want {
			t.Errorf("env %s = %q (present %v), want %q", name, got, ok, want)
		}
	}
	for _, m := range []corev1.VolumeMount{{Name: inputsVolume, MountPath: asyncjobv1alpha1.InputsDir}, {Name: outputsVolume, MountPath: asyncjobv1alpha1.OutputsDir}} {
		if !slices.ContainsFunc(first.VolumeMounts, func(got corev1.VolumeMount) bool {
			return got.Name == m.Name && got.MountPath == m.MountPath && !got.ReadOnly
		}) {
			t.Errorf("the first container lacks the mount %+v: %+v", m, first.VolumeMounts)
		}
		if i := slices.IndexFunc(pod.Volumes, func(v corev1.Volume) bool { return v.Name == m.Name && v.EmptyDir != nil }); i < 0 {
			t.Errorf("no emptyDir volume %s: %+v", m.Name, pod.Volumes)
		}
	}

	env.CreatePod(t, runningPod(job, time.Now().Add(-time.Second)))
	waitState(t, ns, "with-files", asyncjobv1alpha1.StateRunning)
	out := putFile(t, store, ns, "with-files", artifact.Output, "part.webm", "half a movie")
	recordOutputs(t, ns, "with-files", out)

	deleteAJ(t, ns, "with-files")
	waitJobDeleting(t, job)
	consistently(t, "the files stay while the Job's pods may run", time.Second, func(ctx context.Context) error {
		aj, err := getAJ(ctx, ns, "with-files")
		if err != nil || !hasArtifactsFinalizer(aj) {
			return fmt.Errorf("the AsyncJob (err %v) lost its finalizer before its Job was gone", err)
		}
		return expectKeys(ctx, store, ns, "with-files", "inputs/clip.mov", "outputs/part.webm")
	})

	playGarbageCollector(t, job)
	waitGone(t, ns, "with-files")
	if err := expectKeys(context.Background(), store, ns, "with-files"); err != nil {
		t.Error(err)
	}
	jobs.expectCreated(t, "the only Job ever created is the first", job.UID)
}

// TestIntegrationDeleteWaitsForAStoreThatIsDown: files that cannot be removed
// keep the AsyncJob, with ArtifactsRemoved=False StoreUnavailable (and none
// of the store's own words); once the store answers again, the deletion
// finishes without anyone's help.
func TestIntegrationDeleteWaitsForAStoreThatIsDown(t *testing.T) {
	needEnv(t)
	store, dir := fileStore(t)
	startControllerWith(t, artifactsOptions(store))
	ns := newNamespace(t)
	// Of a type that does not exist: it never had a Job, only files.
	in := putFile(t, store, ns, "stuck", artifact.Input, "clip.mov", "a movie")
	mustCreate(t, filesJob("stuck", ns, uniqueTypeName(t), in).Obj())
	waitObserved(t, ns, "stuck", asyncjobv1alpha1.StatePending)
	thaw := freeze(t, filepath.Join(dir, ns, "stuck", "inputs"))

	deleteAJ(t, ns, "stuck")
	waitArtifactsCondition(t, ns, "stuck", metav1.ConditionFalse, asyncjobv1alpha1.ReasonStoreUnavailable, msgStoreUnavailableDelete)
	consistently(t, "the AsyncJob and its file stay while the store refuses", 2*time.Second, func(ctx context.Context) error {
		aj, err := getAJ(ctx, ns, "stuck")
		if err != nil || !hasArtifactsFinalizer(aj) {
			return fmt.Errorf("the AsyncJob (err %v) lost its finalizer with its files still stored", err)
		}
		return expectKeys(ctx, store, ns, "stuck", "inputs/clip.mov")
	})
	eventually(t, "a StoreUnavailable warning", func(ctx context.Context) error {
		return expectEventKeys(ctx, ns, "stuck", eventKey{corev1.EventTypeWarning, asyncjobv1alpha1.ReasonStoreUnavailable, "RemoveArtifacts", msgStoreUnavailableDelete})
	})

	thaw()
	waitGone(t, ns, "stuck")
	if err := expectKeys(context.Background(), store, ns, "stuck"); err != nil {
		t.Error(err)
	}
}

// TestIntegrationDeleteWaitsForS3: the same with an S3 store (versitygw)
// that is stopped: connections refused keep the AsyncJob, with the
// condition, until the server is back on its address.
func TestIntegrationDeleteWaitsForS3(t *testing.T) {
	needEnv(t)
	s3 := framework.StartS3(t)
	s3.SetEnv(t)
	store, err := artifact.Open(context.Background(), s3.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	startControllerWith(t, artifactsOptions(store))
	ns := newNamespace(t)
	in := putFile(t, store, ns, "on-s3", artifact.Input, "clip.mov", "a movie")
	putFile(t, store, ns, "on-s3", artifact.Output, "clip.webm", "a converted movie")
	mustCreate(t, filesJob("on-s3", ns, uniqueTypeName(t), in).Obj())
	waitObserved(t, ns, "on-s3", asyncjobv1alpha1.StatePending)

	s3.Stop()
	deleteAJ(t, ns, "on-s3")
	waitArtifactsCondition(t, ns, "on-s3", metav1.ConditionFalse, asyncjobv1alpha1.ReasonStoreUnavailable, msgStoreUnavailableDelete)
	consistently(t, "the AsyncJob stays while the store is down", 2*time.Second, func(ctx context.Context) error {
		aj, err := getAJ(ctx, ns, "on-s3")
		if err != nil || !hasArtifactsFinalizer(aj) {
			return fmt.Errorf("the AsyncJob (err %v) lost its finalizer while the store was down", err)
		}
		return nil
	})

	s3.Restart(t)
	eventuallyWithin(t, "the AsyncJob is gone once the store is back", time.Minute, func(ctx context.Context) error {
		if _, err := getAJ(ctx, ns, "on-s3"); !isNotFound(err) {
			return fmt.Errorf("still there (err %v)", err)
		}
		return nil
	})
	if err := expectKeys(context.Background(), store, ns, "on-s3"); err != nil {
		t.Error(err)
	}
}

// TestIntegrationDeleteWithoutAStoreKeepsTheFinalizer: a controller without
// --artifact-store-url cannot remove files; it says so and leaves the
// AsyncJob until someone removes the finalizer by hand.
func TestIntegrationDeleteWithoutAStoreKeepsTheFinalizer(t *testing.T) {
	needEnv(t)
	startControllerWith(t, Options{MaxConcurrentReconciles: 2, EntrypointImage: "example.com/asyncjob:test"})
	ns := newNamespace(t)
	mustCreate(t, filesJob("no-store", ns, uniqueTypeName(t)).Obj())
	waitObserved(t, ns, "no-store", asyncjobv1alpha1.StatePending)

	deleteAJ(t, ns, "no-store")
	waitArtifactsCondition(t, ns, "no-store", metav1.ConditionFalse, asyncjobv1alpha1.ReasonStoreNotConfigured, msgStoreNotConfigured)
	consistently(t, "the AsyncJob stays with its finalizer", 2*time.Second, func(ctx context.Context) error {
		aj, err := getAJ(ctx, ns, "no-store")
		if err != nil || !hasArtifactsFinalizer(aj) {
			return fmt.Errorf("the AsyncJob (err %v) lost its finalizer without a store", err)
		}
		return nil
	})
	removeFinalizers(t, &asyncjobv1alpha1.AsyncJob{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "no-store"}})
	waitGone(t, ns, "no-store")
}

// TestIntegrationCancelRemovesOutputsKeepsInputs: a cancelled job's outputs
// leave the store and status.outputs once its Job and pods are gone; a store
// that refuses delays it (the records stay meanwhile); the inputs stay until
// the AsyncJob is deleted, which then removes them.
func TestIntegrationCancelRemovesOutputsKeepsInputs(t *testing.T) {
	needEnv(t)
	store, dir := fileStore(t)
	startControllerWith(t, artifactsOptions(store))
	ns := newNamespace(t)
	jobs := watchJobCreations(t, ns)
	jt := createReadyType(t, filesType(uniqueTypeName(t)).Obj())
	in := putFile(t, store, ns, "stop-me", artifact.Input, "clip.mov", "a movie")
	mustCreate(t, filesJob("stop-me", ns, jt.Name, in).Obj())
	job := waitJob(t, ns, "stop-me")
	env.CreatePod(t, runningPod(job, time.Now().Add(-time.Second)))
	waitState(t, ns, "stop-me", asyncjobv1alpha1.StateRunning)
	out := putFile(t, store, ns, "stop-me", artifact.Output, "part.webm", "half a movie")
	recordOutputs(t, ns, "stop-me", out)
	thaw := freeze(t, filepath.Join(dir, ns, "stop-me", "outputs"))

	requestCancel(t, ns, "stop-me")
	waitJobDeleting(t, job)
	playGarbageCollector(t, job)
	got := waitArtifactsCondition(t, ns, "stop-me", metav1.ConditionFalse, asyncjobv1alpha1.ReasonStoreUnavailable, msgStoreUnavailableCancel)
	if got.Status.State != asyncjobv1alpha1.StateCancelled || !cmp.Equal(got.Status.Outputs, []asyncjobv1alpha1.Artifact{out}) {
		t.Errorf("state %s outputs %+v: want Cancelled, the outputs' records kept while their files are", got.Status.State, got.Status.Outputs)
	}

	thaw()
	got = waitArtifactsCondition(t, ns, "stop-me", metav1.ConditionTrue, asyncjobv1alpha1.ReasonArtifactsRemoved, msgOutputsRemoved)
	if got.Status.State != asyncjobv1alpha1.StateCancelled || len(got.Status.Outputs) != 0 || !cmp.Equal(got.Spec.Inputs, []asyncjobv1alpha1.Artifact{in}) {
		t.Errorf("state %s outputs %+v inputs %+v: want Cancelled, no outputs, the input", got.Status.State, got.Status.Outputs, got.Spec.Inputs)
	}
	if err := expectKeys(context.Background(), store, ns, "stop-me", "inputs/clip.mov"); err != nil {
		t.Error(err)
	}
	if !hasArtifactsFinalizer(got) {
		t.Error("a cancelled AsyncJob lost its finalizer: its inputs would leak when it is deleted")
	}
	jobs.expectCreated(t, "no Job after the cancellation", job.UID)

	deleteAJ(t, ns, "stop-me")
	waitGone(t, ns, "stop-me")
	if err := expectKeys(context.Background(), store, ns, "stop-me"); err != nil {
		t.Error(err)
	}
}

// TestIntegrationOutputsSurviveCompletion: status.outputs, which the REST API
// writes, is kept by every status write of the controller through to
// Completed, and a completed job's files stay.
func TestIntegrationOutputsSurviveCompletion(t *testing.T) {
	needEnv(t)
	store, _ := fileStore(t)
	startControllerWith(t, artifactsOptions(store))
	ns := newNamespace(t)
	jt := createReadyType(t, filesType(uniqueTypeName(t)).Obj())
	mustCreate(t, filesJob("done", ns, jt.Name).Obj())
	job := waitJob(t, ns, "done")
	start := time.Now().Add(-time.Minute).Truncate(time.Second)
	env.CreatePod(t, runningPod(job, start))
	waitState(t, ns, "done", asyncjobv1alpha1.StateRunning)
	out := putFile(t, store, ns, "done", artifact.Output, "clip.webm", "a converted movie")
	recordOutputs(t, ns, "done", out)

	env.CreatePod(t, terminatedPod(job, "b", corev1.PodSucceeded, start, 0, `{"ok":true}`))
	env.UpdateJobStatus(t, job, func(s *batchv1.JobStatus) {
		s.StartTime, s.Succeeded, s.CompletionTime = ptr.To(metav1.NewTime(start)), 1, ptr.To(metav1.Now())
		s.Conditions = append(s.Conditions, wrappers.CompleteConditions(metav1.Now())...)
	})
	done := waitState(t, ns, "done", asyncjobv1alpha1.StateCompleted)
	if !cmp.Equal(done.Status.Outputs, []asyncjobv1alpha1.Artifact{out}) {
		t.Errorf("outputs %+v after completion, want the recorded one", done.Status.Outputs)
	}
	if c := meta.FindStatusCondition(done.Status.Conditions, asyncjobv1alpha1.ConditionArtifactsRemoved); c != nil {
		t.Errorf("a completed job has ArtifactsRemoved %+v", c)
	}
	if err := expectKeys(context.Background(), store, ns, "done", "outputs/clip.webm"); err != nil {
		t.Error(err)
	}
}

// TestIntegrationTTLRemovesTheFiles: the TTL's foreground deletion, with its
// tombstone, goes through the finalizer too: the Job is stopped, the files
// go, then the finalizer; the garbage collector's own finalizer stays for it.
func TestIntegrationTTLRemovesTheFiles(t *testing.T) {
	needEnv(t)
	store, _ := fileStore(t)
	opts := artifactsOptions(store)
	opts.Tombstones = TombstoneOptions{Retention: time.Hour, MaxPerNamespace: 10}
	startControllerWith(t, opts)
	ns := newNamespace(t)
	jt := createReadyType(t, filesType(uniqueTypeName(t)).Obj())
	in := putFile(t, store, ns, "short-lived", artifact.Input, "clip.mov", "a movie")
	mustCreate(t, filesJob("short-lived", ns, jt.Name, in).Overrides(asyncjobv1alpha1.JobLimits{TTLSecondsAfterFinished: ptr.To[int32](1)}).Obj())
	job := waitJob(t, ns, "short-lived")
	now := time.Now().Truncate(time.Second)
	env.UpdateJobStatus(t, job, func(s *batchv1.JobStatus) {
		s.StartTime, s.Failed = ptr.To(metav1.NewTime(now)), 1
		s.Conditions = append(s.Conditions, wrappers.FailedConditions("DeadlineExceeded", "DeadlineExceeded", metav1.NewTime(now))...)
	})
	waitState(t, ns, "short-lived", asyncjobv1alpha1.StateFailed)
	waitJobDeleting(t, job) // by the controller, for the finalizer, or by nobody else: envtest has no garbage collector
	playGarbageCollector(t, job)

	eventually(t, "the files and the artifacts finalizer are gone; the foreground deletion's finalizer is left to the garbage collector", func(ctx context.Context) error {
		aj, err := getAJ(ctx, ns, "short-lived")
		if err != nil {
			return err
		}
		if aj.DeletionTimestamp.IsZero() || !slices.Equal(aj.Finalizers, []string{metav1.FinalizerDeleteDependents}) {
			return fmt.Errorf("deletionTimestamp %v finalizers %v", aj.DeletionTimestamp, aj.Finalizers)
		}
		return expectKeys(ctx, store, ns, "short-lived")
	})
	cm := &corev1.ConfigMap{}
	if err := env.Client.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: tombstone.ConfigMapName}, cm); err != nil ||
		!tombstone.Gone(cm.Data, "short-lived", "acme", time.Now()) {
		t.Errorf("no tombstone for the expired job (err %v, data %v)", err, cm.Data)
	}
}
