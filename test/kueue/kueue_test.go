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

// Package kueue tests asyncjob with a real Kueue (sigs.k8s.io/kueue v0.17.0,
// built by hack/kueue.sh) on a local cluster of its own: a type with
// spec.kueue hands its jobs to a LocalQueue, Kueue admits them within its
// quota, and the REST API reports each waiting job's place in line from
// Kueue's visibility API.
package kueue

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/internal/httpapi"
	"github.com/asyncjob/asyncjob/test/localcluster"
	"github.com/asyncjob/asyncjob/test/restclient"
	"github.com/asyncjob/asyncjob/test/stack"
)

const (
	tenant     = "kq"
	localQueue = "conversions"
	typeName   = "kueue-convert"
	quota      = 2 // one-CPU jobs Kueue admits at once
	submitted  = 5
)

var shared struct {
	once  sync.Once
	stack *stack.Stack
	err   error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.stack != nil {
		if err := shared.stack.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stopping the stack:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// sharedStack starts one stack, with Kueue, for the package's tests; each
// test uses its own queues and types.
func sharedStack(t *testing.T) (*stack.Stack, restclient.Client) {
	t.Helper()
	if testing.Short() {
		t.Skip("skipped under -short: starts a local cluster with Kueue")
	}
	if os.Geteuid() != 0 {
		t.Skip("Kueue reads its certificates from fixed paths under / here (see localcluster.startKueue): needs root")
	}
	shared.once.Do(func() {
		ctrllog.SetLogger(logr.Discard())
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute) // a cold cache builds binaries
		defer cancel()
		shared.stack, shared.err = stack.Start(ctx, stack.Options{
			Cluster: localcluster.Options{SimulatedNodes: 1, Kueue: true},
			Tenants: []string{tenant},
			Log:     func(f string, a ...any) { fmt.Printf("kueue: "+f+"\n", a...) },
		})
	})
	if shared.err != nil {
		t.Fatalf("starting the stack: %v", shared.err)
	}
	s := shared.stack
	t.Cleanup(func() { dumpOnFailure(t, s) })
	return s, restclient.Client{Base: s.APIURL, Key: s.APIKeys[tenant], HTTP: &http.Client{Timeout: 30 * time.Second}}
}

func waitSubmittable(ctx context.Context, t *testing.T, api restclient.Client, jobType string) {
	t.Helper()
	if err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		resp, _, err := api.Do(ctx, http.MethodGet, "/v1/types/"+jobType, nil)
		return err == nil && resp.StatusCode == http.StatusOK, nil
	}); err != nil {
		t.Fatalf("type %s never became submittable: %v", jobType, err)
	}
}

// submit POSTs a job of jobType and returns its id.
func submit(ctx context.Context, t *testing.T, api restclient.Client, jobType string) string {
	t.Helper()
	resp, raw, err := api.Do(ctx, http.MethodPost, "/v1/jobs", map[string]any{"type": jobType, "parameters": map[string]any{}})
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST /v1/jobs: %v %s", err, raw)
	}
	var job httpapi.Job
	if err := json.Unmarshal(raw, &job); err != nil {
		t.Fatal(err)
	}
	return job.ID
}

func getJob(ctx context.Context, api restclient.Client, id string) (httpapi.Job, error) {
	var job httpapi.Job
	resp, raw, err := api.Do(ctx, http.MethodGet, "/v1/jobs/"+id, nil)
	if err != nil {
		return job, err
	}
	if resp.StatusCode != http.StatusOK {
		return job, fmt.Errorf("GET %s: %d %s", id, resp.StatusCode, raw)
	}
	return job, json.Unmarshal(raw, &job)
}

// kueueType is a simulated type queued by Kueue's localQueue, each pod
// requesting one CPU (what Kueue counts against the quota).
func kueueType(name, localQueue string, b localcluster.PodBehavior) *asyncjobv1alpha1.AsyncJobType {
	jt := stack.SimulatedType(name, b, asyncjobv1alpha1.JobLimits{})
	jt.Spec.Kueue = &asyncjobv1alpha1.KueueQueue{LocalQueue: localQueue}
	jt.Spec.Template.Spec.Template.Spec.Containers[0].Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")}
	// A short grace period: kwok removes a deleted pod before it ends.
	jt.Spec.Template.Spec.Template.Spec.TerminationGracePeriodSeconds = ptr.To[int64](1)
	return jt
}

// TestKueueAdmission: five submissions to a type queued by Kueue with room
// for two: two run, three are PENDING waiting for Kueue admission with
// positions 1, 2, 3 from the visibility API, never more than two run at
// once, and all five complete.
func TestKueueAdmission(t *testing.T) {
	s, api := sharedStack(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	ns := stack.Namespace(tenant)
	if err := s.Cluster.CreateKueueQueue(ctx, ns, localQueue, "two-cpus", fmt.Sprint(quota)); err != nil {
		t.Fatal(err)
	}
	jt := kueueType(typeName, localQueue, localcluster.PodBehavior{RunFor: 15 * time.Second, Quick: true})
	if err := s.Client.Create(ctx, jt); err != nil {
		t.Fatal(err)
	}
	waitSubmittable(ctx, t, api, typeName)

	ids := make([]string, submitted)
	for i := range ids {
		ids[i] = submit(ctx, t, api, typeName)
		// Kueue orders by creation time, to the second: one a second keeps
		// the queue's order the submission order.
		time.Sleep(1100 * time.Millisecond)
	}

	get := func(ctx context.Context, id string) (httpapi.Job, error) { return getJob(ctx, api, id) }
	readAll := func(ctx context.Context) ([]httpapi.Job, error) {
		jobs := make([]httpapi.Job, len(ids))
		for i, id := range ids {
			j, err := get(ctx, id)
			if err != nil {
				return nil, err
			}
			jobs[i] = j
		}
		return jobs, nil
	}
	// Two run, three wait in order with their places from Kueue.
	var last string
	err := wait.PollUntilContextTimeout(ctx, 300*time.Millisecond, 3*time.Minute, true, func(ctx context.Context) (bool, error) {
		jobs, err := readAll(ctx)
		if err != nil {
			return false, err
		}
		if seen := describe(jobs); seen != last {
			last = seen
			t.Logf("jobs: %s", seen)
		}
		return waitingInOrder(jobs)
	})
	if err != nil {
		t.Fatalf("two RUNNING and three PENDING with positions 1..3: %v; last seen: %s", err, last)
	}
	// The waiting ones say why they wait.
	for _, id := range ids[quota:] {
		aj := &asyncjobv1alpha1.AsyncJob{}
		if err := s.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: id}, aj); err != nil {
			t.Fatal(err)
		}
		c := meta.FindStatusCondition(aj.Status.Conditions, asyncjobv1alpha1.ConditionRunning)
		if c == nil || c.Reason != asyncjobv1alpha1.ReasonWaitingForKueue || c.Message != "waiting for Kueue admission" {
			t.Errorf("job %s: Running condition %+v, want WaitingForKueue, waiting for Kueue admission", id, c)
		}
	}

	// All complete, never more than two running at once.
	err = wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, 5*time.Minute, true, func(ctx context.Context) (bool, error) {
		jobs, err := readAll(ctx)
		if err != nil {
			return false, err
		}
		last = describe(jobs)
		return allCompleted(jobs)
	})
	if err != nil {
		t.Fatalf("all five COMPLETED: %v; last seen: %s", err, last)
	}
}

// describe is one line of the jobs' states and places, for the test's log.
func describe(jobs []httpapi.Job) string {
	var b strings.Builder
	for i, j := range jobs {
		fmt.Fprintf(&b, "[%d %s", i, j.Status)
		if j.Queue != nil {
			fmt.Fprintf(&b, " %s #%d ahead %d", j.Queue.Name, j.Queue.Position, j.Queue.Ahead)
		}
		b.WriteString("] ")
	}
	return b.String()
}

// tooManyRunning reports more RUNNING jobs than the quota admits.
func tooManyRunning(jobs []httpapi.Job) error {
	n := 0
	for _, j := range jobs {
		if j.Status == httpapi.StatusRunning {
			n++
		}
	}
	if n > quota {
		return fmt.Errorf("%d jobs RUNNING with room for %d", n, quota)
	}
	return nil
}

// waitingInOrder: the first quota jobs RUNNING without a place in line, the
// others PENDING at positions 1, 2, ... in submission order.
func waitingInOrder(jobs []httpapi.Job) (bool, error) {
	if err := tooManyRunning(jobs); err != nil {
		return false, err
	}
	for i, j := range jobs {
		if j.Status != httpapi.StatusPending && j.Status != httpapi.StatusRunning {
			return false, fmt.Errorf("job %d is %s before the others were seen waiting", i, j.Status)
		}
	}
	for i := range quota {
		if jobs[i].Status != httpapi.StatusRunning || jobs[i].Queue != nil {
			return false, nil
		}
	}
	for i := quota; i < len(jobs); i++ {
		q := jobs[i].Queue
		if jobs[i].Status != httpapi.StatusPending || q == nil {
			return false, nil
		}
		if q.Name != localQueue || q.Position != i-quota+1 || q.Ahead != i-quota {
			return false, fmt.Errorf("job %d has queue %+v, want %s position %d ahead %d", i, *q, localQueue, i-quota+1, i-quota)
		}
	}
	return true, nil
}

// allCompleted: every job COMPLETED; none failed or cancelled on the way.
func allCompleted(jobs []httpapi.Job) (bool, error) {
	if err := tooManyRunning(jobs); err != nil {
		return false, err
	}
	done := 0
	for i, j := range jobs {
		switch j.Status {
		case httpapi.StatusCompleted:
			done++
		case httpapi.StatusRunning, httpapi.StatusPending:
		default:
			return false, fmt.Errorf("job %d is %s", i, j.Status)
		}
	}
	return done == len(jobs), nil
}

// dumpOnFailure prints the stack's components' logs if the test failed.
func dumpOnFailure(t *testing.T, s *stack.Stack) {
	if !t.Failed() {
		return
	}
	t.Log(s.Cluster.LogTails(6000))
	for _, name := range []string{"controller.log", "api.log"} {
		if raw, err := os.ReadFile(s.Dir() + "/" + name); err == nil {
			if len(raw) > 6000 {
				raw = raw[len(raw)-6000:]
			}
			t.Logf("--- end of %s ---\n%s", name, raw)
		}
	}
}
