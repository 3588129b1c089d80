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
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/internal/workertoken"
)

// workerOptions configure the controller as the chart does: callbacks and the
// entrypoint image.
func workerOptions() Options {
	return Options{MaxConcurrentReconciles: 2, CallbackURL: testWorker.CallbackURL, WorkerTokenKey: testWorker.TokenKey,
		EntrypointImage: testWorker.EntrypointImage}
}

func getSecret(ctx context.Context, ns, name string) (*corev1.Secret, error) {
	s := &corev1.Secret{}
	return s, env.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, s)
}

// TestIntegrationWorkerTokenIsDelivered: with callbacks configured, the
// AsyncJob's Job mounts a Secret the AsyncJob controls, whose token verifies
// for that AsyncJob only, and that the Job's spec does not contain.
func TestIntegrationWorkerTokenIsDelivered(t *testing.T) {
	needEnv(t)
	startControllerWith(t, workerOptions())
	ns := newNamespace(t)
	jt := createReadyType(t, convertType(uniqueTypeName(t)).Obj())
	aj := convertJob("called-back", ns, jt.Name).Obj()
	mustCreate(t, aj)
	job := waitJob(t, ns, "called-back")

	secret, err := getSecret(context.Background(), ns, "called-back-worker")
	if err != nil {
		t.Fatalf("the worker Secret: %v", err)
	}
	if ref := metav1.GetControllerOf(secret); ref == nil || ref.UID != aj.UID || ref.Kind != "AsyncJob" {
		t.Errorf("the Secret's controller is %+v, want the AsyncJob %s", ref, aj.UID)
	}
	if secret.Labels[asyncjobv1alpha1.LabelName] != "called-back" {
		t.Errorf("the Secret's labels %v, want %s=called-back", secret.Labels, asyncjobv1alpha1.LabelName)
	}
	if secret.Immutable == nil || !*secret.Immutable {
		t.Errorf("the Secret is not immutable")
	}
	token := string(secret.Data[WorkerSecretKey])
	if !workertoken.Verify(testWorker.TokenKey, token, ns, "called-back", string(aj.UID)) {
		t.Errorf("the token %q does not verify for the AsyncJob's uid %s", token, aj.UID)
	}
	if ns, ok := workertoken.Parse(token); !ok || ns != aj.Namespace {
		t.Errorf("the token names namespace %q (%v), want %q", ns, ok, aj.Namespace)
	}

	raw, err := json.Marshal(job)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), token) {
		t.Errorf("the Job as the API server stores it contains the token")
	}
	pod := job.Spec.Template.Spec
	if i := slices.IndexFunc(pod.Volumes, func(v corev1.Volume) bool { return v.Secret != nil && v.Secret.SecretName == "called-back-worker" }); i < 0 {
		t.Errorf("the pod does not mount the Secret: volumes %+v", pod.Volumes)
	}
	c := pod.Containers[0]
	if got, _ := envValue(c, EnvCallbackURL); got != testWorker.CallbackURL {
		t.Errorf("%s = %q, want %q", EnvCallbackURL, got, testWorker.CallbackURL)
	}
	if got, _ := envValue(c, EnvTokenFile); got != "/var/run/asyncjob/token" {
		t.Errorf("%s = %q", EnvTokenFile, got)
	}
	if i := slices.IndexFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool { return m.MountPath == TokenDir && m.ReadOnly }); i < 0 {
		t.Errorf("the container does not mount the token read-only at %s: %+v", TokenDir, c.VolumeMounts)
	}
}

// TestIntegrationWorkerSecretCreateIsIdempotent drives act against the API
// server: a second pass, and a Secret left by a pass whose Job create failed,
// both go on to the Job; a Secret of the name that the AsyncJob does not
// control stops it.
func TestIntegrationWorkerSecretCreateIsIdempotent(t *testing.T) {
	needEnv(t)
	ctx := context.Background()
	ns := newNamespace(t)
	r := &AsyncJobReconciler{Client: env.Client, APIReader: env.Client, Recorder: &recordedEvents{}, Worker: testWorker}
	create := func(aj *asyncjobv1alpha1.AsyncJob) action {
		job, err := buildJob(aj, readyType(), readyTypeLimits, testWorker)
		if err != nil {
			t.Fatal(err)
		}
		return action{Kind: actCreateJob, Job: job, Secret: buildWorkerSecret(aj, testWorker)}
	}

	t.Run("twice", func(t *testing.T) {
		aj := convertJob("twice", ns, "report").Obj()
		mustCreate(t, aj)
		if out, err := r.act(ctx, aj, create(aj)); err != nil || out.Created == nil || out.SecretConflict {
			t.Fatalf("first pass: outcome %+v, err %v; want the Job created", out, err)
		}
		first, err := getSecret(ctx, ns, "twice-worker")
		if err != nil {
			t.Fatal(err)
		}
		if out, err := r.act(ctx, aj, create(aj)); err != nil || !out.AlreadyExists || out.SecretConflict {
			t.Errorf("second pass: outcome %+v, err %v; want AlreadyExists for the Job and the Secret tolerated", out, err)
		}
		again, err := getSecret(ctx, ns, "twice-worker")
		if err != nil || again.UID != first.UID || again.ResourceVersion != first.ResourceVersion {
			t.Errorf("the Secret changed on the second pass (err %v)", err)
		}
	})

	t.Run("a Secret left by a pass whose Job create failed", func(t *testing.T) {
		aj := convertJob("left", ns, "report").Obj()
		mustCreate(t, aj)
		a := create(aj)
		mustCreate(t, a.Secret.DeepCopy())
		if out, err := r.act(ctx, aj, a); err != nil || out.Created == nil || out.SecretConflict {
			t.Fatalf("outcome %+v, err %v; want the Job created", out, err)
		}
	})

	t.Run("a Secret of the name the AsyncJob does not control", func(t *testing.T) {
		aj := convertJob("foreign", ns, "report").Obj()
		mustCreate(t, aj)
		mustCreate(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "foreign-worker", Namespace: ns},
			StringData: map[string]string{"token": "someone else's"}})
		out, err := r.act(ctx, aj, create(aj))
		if err != nil || !out.SecretConflict || out.Created != nil {
			t.Fatalf("outcome %+v, err %v; want SecretConflict and no Job", out, err)
		}
		if err := env.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: "foreign"}, &batchv1.Job{}); !isNotFound(err) {
			t.Errorf("a Job was created that would mount a foreign Secret (get: %v)", err)
		}
	})
}

// TestIntegrationForeignWorkerSecretBlocksTheJob: the controller reports the
// conflict on the AsyncJob and starts it once the other Secret is gone.
func TestIntegrationForeignWorkerSecretBlocksTheJob(t *testing.T) {
	needEnv(t)
	startControllerWith(t, workerOptions())
	ns := newNamespace(t)
	jt := createReadyType(t, convertType(uniqueTypeName(t)).Obj())
	foreign := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "blocked-worker", Namespace: ns},
		StringData: map[string]string{"token": "someone else's"}}
	mustCreate(t, foreign)
	mustCreate(t, convertJob("blocked", ns, jt.Name).Obj())
	eventually(t, "Accepted=False WorkerSecretConflict", func(ctx context.Context) error {
		aj, err := getAJ(ctx, ns, "blocked")
		if err != nil {
			return err
		}
		c := meta.FindStatusCondition(aj.Status.Conditions, asyncjobv1alpha1.ConditionAccepted)
		if c == nil || c.Reason != asyncjobv1alpha1.ReasonWorkerSecretConflict || aj.Status.State != asyncjobv1alpha1.StatePending || aj.Status.JobName != "" {
			return fmt.Errorf("state %q jobName %q accepted %+v", aj.Status.State, aj.Status.JobName, c)
		}
		return nil
	})
	expectNoJobs(t, ns, "no Job while the Secret's name is taken", time.Second)

	if err := env.Client.Delete(context.Background(), foreign); err != nil {
		t.Fatal(err)
	}
	aj, _ := getAJ(context.Background(), ns, "blocked")
	// Secrets are not watched: the AsyncJob's own retry finds the name free.
	job := &batchv1.Job{}
	eventuallyWithin(t, "the Job, once the foreign Secret is gone", 2*conflictRetryAfter+10*time.Second, func(ctx context.Context) error {
		return env.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: "blocked"}, job)
	})
	secret, err := getSecret(context.Background(), ns, "blocked-worker")
	if err != nil || !metav1.IsControlledBy(secret, aj) ||
		!workertoken.Verify(testWorker.TokenKey, string(secret.Data[WorkerSecretKey]), ns, "blocked", string(aj.UID)) {
		t.Errorf("the AsyncJob's own Secret: err %v, owners %v", err, secret.OwnerReferences)
	}
}

// TestIntegrationNoCallbacksNoSecret: without --callback-url there is no
// token Secret and no callback environment.
func TestIntegrationNoCallbacksNoSecret(t *testing.T) {
	needEnv(t)
	startController(t)
	ns := newNamespace(t)
	jt := createReadyType(t, convertType(uniqueTypeName(t)).Obj())
	mustCreate(t, convertJob("quiet", ns, jt.Name).Obj())
	job := waitJob(t, ns, "quiet")
	if _, err := getSecret(context.Background(), ns, "quiet-worker"); !isNotFound(err) {
		t.Errorf("a worker Secret without callbacks (get: %v)", err)
	}
	if _, ok := envValue(job.Spec.Template.Spec.Containers[0], EnvCallbackURL); ok {
		t.Errorf("%s set without callbacks", EnvCallbackURL)
	}
}

func waitTypeCondition(t *testing.T, name string, want metav1.ConditionStatus, reason string) *metav1.Condition {
	t.Helper()
	var c *metav1.Condition
	eventually(t, fmt.Sprintf("Ready=%s %s", want, reason), func(ctx context.Context) error {
		got := &asyncjobv1alpha1.AsyncJobType{}
		if err := env.Client.Get(ctx, types.NamespacedName{Name: name}, got); err != nil {
			return err
		}
		c = meta.FindStatusCondition(got.Status.Conditions, asyncjobv1alpha1.TypeConditionReady)
		if c == nil || c.Status != want || c.Reason != reason || c.ObservedGeneration != got.Generation {
			return fmt.Errorf("ready %+v", c)
		}
		return nil
	})
	return c
}

// TestIntegrationEntrypointInjection: a type that injects the entrypoint must
// name its command; once it does, its Job (which the API server validates)
// runs the first container through the copied binary.
func TestIntegrationEntrypointInjection(t *testing.T) {
	needEnv(t)
	startControllerWith(t, workerOptions())
	ns := newNamespace(t)
	w := convertType(uniqueTypeName(t)).Entrypoint(asyncjobv1alpha1.EntrypointInject)
	mustCreate(t, w.Obj())
	t.Cleanup(func() { _ = env.Client.Delete(context.Background(), w.Obj()) })
	c := waitTypeCondition(t, w.Name, metav1.ConditionFalse, asyncjobv1alpha1.ReasonInvalidTemplate)
	if !strings.Contains(c.Message, `entrypoint Inject needs an explicit command in container "convert"`) {
		t.Errorf("Ready message %q does not say the command is missing", c.Message)
	}
	mustCreate(t, convertJob("waits", ns, w.Name).Obj())
	expectNoJobs(t, ns, "no Job while the type is not Ready", time.Second)

	// The type names its command: Ready, and the waiting AsyncJob starts.
	eventually(t, "set the command", func(ctx context.Context) error {
		cur := &asyncjobv1alpha1.AsyncJobType{}
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(w.Obj()), cur); err != nil {
			return err
		}
		cur.Spec.Template.Spec.Template.Spec.Containers[0].Command = []string{"/convert"}
		return env.Client.Update(ctx, cur)
	})
	waitTypeCondition(t, w.Name, metav1.ConditionTrue, asyncjobv1alpha1.ReasonValid)
	job := waitJob(t, ns, "waits")
	pod := job.Spec.Template.Spec
	if len(pod.InitContainers) == 0 || pod.InitContainers[0].Name != "asyncjob-entrypoint" ||
		pod.InitContainers[0].Image != testWorker.EntrypointImage ||
		!slices.Equal(pod.InitContainers[0].Command, []string{"/asyncjob", "install-entrypoint", "/asyncjob-bin/asyncjob"}) {
		t.Errorf("init containers %+v, want the entrypoint's copy first", pod.InitContainers)
	}
	first := pod.Containers[0]
	if !slices.Equal(first.Command, []string{"/asyncjob-bin/asyncjob", "entrypoint", "--", "/convert"}) ||
		!slices.Equal(first.Args, []string{"--format=$(ASYNCJOB_PARAM_FORMAT)"}) {
		t.Errorf("command %q args %q, want the entrypoint wrapping /convert and the args kept", first.Command, first.Args)
	}
	if i := slices.IndexFunc(pod.Volumes, func(v corev1.Volume) bool { return v.Name == "asyncjob-bin" && v.EmptyDir != nil }); i < 0 {
		t.Errorf("no emptyDir for the binary: %+v", pod.Volumes)
	}
}

// TestIntegrationEntrypointNeedsAnImage: a controller without
// --entrypoint-image marks a type that injects the entrypoint not Ready.
func TestIntegrationEntrypointNeedsAnImage(t *testing.T) {
	needEnv(t)
	startController(t)
	w := convertType(uniqueTypeName(t)).Entrypoint(asyncjobv1alpha1.EntrypointInject).Command("/convert")
	mustCreate(t, w.Obj())
	t.Cleanup(func() { _ = env.Client.Delete(context.Background(), w.Obj()) })
	c := waitTypeCondition(t, w.Name, metav1.ConditionFalse, asyncjobv1alpha1.ReasonEntrypointUnavailable)
	if !strings.Contains(c.Message, "--entrypoint-image") {
		t.Errorf("Ready message %q does not name the missing flag", c.Message)
	}
}
