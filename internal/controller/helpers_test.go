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
	"sync"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/test/wrappers"
)

// convertSchema is convertType's parameters schema: a required format.
const convertSchema = `{"type":"object","required":["format"],
	"properties":{"format":{"type":"string","enum":["webm","mp4"]},"input":{"type":"string"}}}`

// convertType is the type the integration tests run: one container, "convert",
// given the format as an argument, a pod label and annotation to pass on, and
// limits to default and cap.
func convertType(name string) *wrappers.AsyncJobTypeWrapper {
	return wrappers.MakeAsyncJobType(name).Description("converts media").Schema(convertSchema).
		Containers(corev1.Container{Name: "convert", Image: "example.com/convert:v1",
			Args: []string{"--format=$(ASYNCJOB_PARAM_FORMAT)"}}).
		PodLabel("app", "convert").PodAnnotation("example.com/profile", "fast").
		Defaults(asyncjobv1alpha1.JobLimits{BackoffLimit: ptr.To[int32](2), ActiveDeadlineSeconds: ptr.To[int64](600)}).
		Maximums(asyncjobv1alpha1.JobLimits{BackoffLimit: ptr.To[int32](5)})
}

// convertJob is tenant acme's AsyncJob of jobType with valid parameters.
func convertJob(name, ns, jobType string) *wrappers.AsyncJobWrapper {
	return wrappers.MakeAsyncJob(name, ns).Type(jobType).Tenant("acme").
		Params(`{"format":"webm","input":"https://example.com/a.mov","crf":23}`)
}

// uniqueTypeName keeps cluster-scoped types of different tests apart.
func uniqueTypeName(t *testing.T) string {
	return strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name()))
}

// createReadyType creates a type and waits for the type controller to mark it Ready.
func createReadyType(t *testing.T, jt *asyncjobv1alpha1.AsyncJobType) *asyncjobv1alpha1.AsyncJobType {
	t.Helper()
	mustCreate(t, jt)
	t.Cleanup(func() { _ = env.Client.Delete(context.Background(), jt) })
	eventually(t, "type becomes Ready", func(ctx context.Context) error {
		got := &asyncjobv1alpha1.AsyncJobType{}
		if err := env.Client.Get(ctx, types.NamespacedName{Name: jt.Name}, got); err != nil {
			return err
		}
		if !meta.IsStatusConditionTrue(got.Status.Conditions, asyncjobv1alpha1.TypeConditionReady) {
			return fmt.Errorf("conditions %+v", got.Status.Conditions)
		}
		return nil
	})
	return jt
}

func getAJ(ctx context.Context, ns, name string) (*asyncjobv1alpha1.AsyncJob, error) {
	aj := &asyncjobv1alpha1.AsyncJob{}
	return aj, env.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, aj)
}

// waitState waits for the AsyncJob to reach a state and returns it.
func waitState(t *testing.T, ns, name string, want asyncjobv1alpha1.AsyncJobState) *asyncjobv1alpha1.AsyncJob {
	t.Helper()
	var aj *asyncjobv1alpha1.AsyncJob
	eventually(t, fmt.Sprintf("AsyncJob reaches %s", want), func(ctx context.Context) error {
		var err error
		if aj, err = getAJ(ctx, ns, name); err != nil {
			return err
		}
		if aj.Status.State != want {
			return fmt.Errorf("state %q, conditions %+v", aj.Status.State, aj.Status.Conditions)
		}
		return nil
	})
	return aj
}

// waitObserved waits for the AsyncJob to reach a state with a status derived
// from its current generation: proof that a pass has seen its latest spec.
func waitObserved(t *testing.T, ns, name string, want asyncjobv1alpha1.AsyncJobState) *asyncjobv1alpha1.AsyncJob {
	t.Helper()
	var aj *asyncjobv1alpha1.AsyncJob
	eventually(t, fmt.Sprintf("AsyncJob reaches %s for its current generation", want), func(ctx context.Context) error {
		var err error
		if aj, err = getAJ(ctx, ns, name); err != nil {
			return err
		}
		if aj.Status.State != want || aj.Status.ObservedGeneration != aj.Generation {
			return fmt.Errorf("state %q observedGeneration %d generation %d", aj.Status.State, aj.Status.ObservedGeneration, aj.Generation)
		}
		return nil
	})
	return aj
}

func waitJob(t *testing.T, ns, name string) *batchv1.Job {
	t.Helper()
	job := &batchv1.Job{}
	eventually(t, "the Job exists", func(ctx context.Context) error {
		return env.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, job)
	})
	return job
}

func jobsIn(ctx context.Context, ns string) ([]batchv1.Job, error) {
	list := &batchv1.JobList{}
	err := env.Client.List(ctx, list, client.InNamespace(ns))
	return list.Items, err
}

// runningPod is job's pod "a", whose convert container has run since start;
// create it with env.CreatePod, as the Job controller and kubelet would.
func runningPod(job *batchv1.Job, start time.Time) *corev1.Pod {
	return wrappers.MakeJobPod(job, "a").Phase(corev1.PodRunning, metav1.NewTime(start)).Running("convert").Obj()
}

// terminatedPod is a pod of job whose convert container ran from start for a
// second and exited with exitCode and the termination message.
func terminatedPod(job *batchv1.Job, suffix string, phase corev1.PodPhase, start time.Time, exitCode int32, message string) *corev1.Pod {
	return wrappers.MakeJobPod(job, suffix).Phase(phase, metav1.NewTime(start)).
		Terminated("convert", exitCode, message, metav1.NewTime(start.Add(time.Second))).Obj()
}

func envValue(c corev1.Container, name string) (string, bool) {
	i := slices.IndexFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == name })
	if i < 0 {
		return "", false
	}
	return c.Env[i].Value, true
}

func isNotFound(err error) bool { return apierrors.IsNotFound(err) }

func mustJSON(t *testing.T, raw []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("not a JSON object: %s", raw)
	}
	return m
}

// jsonUnmarshalNumbers decodes JSON with integers as int64 (as kubectl sees them)
// rather than float64.
func jsonUnmarshalNumbers(raw []byte, into any) error {
	return utiljson.Unmarshal(raw, into)
}

// jobWatch records every Job created in a namespace from the moment it starts,
// so a Job deleted and re-created under the same name counts twice, which a
// list at the end cannot show.
type jobWatch struct {
	mu      sync.Mutex
	created []types.UID
	ended   bool
}

// watchJobCreations starts a watch on the namespace's Jobs; call it before
// anything can create one.
func watchJobCreations(t *testing.T, ns string) *jobWatch {
	t.Helper()
	wc, err := client.NewWithWatch(env.Config, client.Options{Scheme: env.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	w, err := wc.Watch(ctx, &batchv1.JobList{}, client.InNamespace(ns))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	jw := &jobWatch{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range w.ResultChan() {
			if job, ok := ev.Object.(*batchv1.Job); ok && ev.Type == watch.Added {
				jw.mu.Lock()
				jw.created = append(jw.created, job.UID)
				jw.mu.Unlock()
			}
		}
		jw.mu.Lock()
		jw.ended = true
		jw.mu.Unlock()
	}()
	t.Cleanup(func() {
		w.Stop()
		cancel()
		<-done
	})
	return jw
}

// Created returns the UIDs of the Jobs created so far, in order. It fails the
// test when the watch ended early: then it may have missed some.
func (jw *jobWatch) Created(t *testing.T) []types.UID {
	t.Helper()
	jw.mu.Lock()
	defer jw.mu.Unlock()
	if jw.ended {
		t.Fatal("the Job watch ended before the test did: creations may have been missed")
	}
	return slices.Clone(jw.created)
}

// expectCreated waits until the watch has seen exactly want Job creations;
// with want the UIDs of Jobs the test knows exist, it proves no other was made.
func (jw *jobWatch) expectCreated(t *testing.T, what string, want ...types.UID) {
	t.Helper()
	eventually(t, what, func(context.Context) error {
		if got := jw.Created(t); !slices.Equal(got, want) {
			return fmt.Errorf("Jobs created %v, want %v", got, want)
		}
		return nil
	})
}
