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

// Package chaos tries hard to break asyncjob's promises (an accepted job is
// never lost; one AsyncJob never gets a second Job) on a local cluster with
// simulated nodes, two controller replicas electing a leader and two API
// replicas, all supervised: TestChaos kills and restarts things at random
// under a steady stream of submissions; the other tests stage one failure
// each (leader change, etcd down, kube-apiserver down, a slow API server)
// and check what clients see. docs/reliability.md holds their figures.
package chaos

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/test/localcluster"
	"github.com/asyncjob/asyncjob/test/restclient"
	"github.com/asyncjob/asyncjob/test/stack"
)

const (
	tenant   = "chaos"
	typeOK   = "chaos-ok"   // starts at once, runs 2 s, succeeds: expected COMPLETED
	typeFail = "chaos-fail" // its one pod fails: expected FAILED
	typeLong = "chaos-long" // runs 20 s: spans a failure
)

func TestMain(m *testing.M) {
	// The tests' own controller-runtime clients log nothing worth reading.
	ctrllog.SetLogger(logr.Discard())
	m.Run()
}

// env is one test's stack and REST clients, one per API replica.
type env struct {
	s       *stack.Stack
	clients []*restclient.Client
}

// start brings up a supervised stack with two controller replicas and two
// API replicas, creates the job types and waits until they are submittable.
func start(t *testing.T, o stack.Options) *env {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a local cluster")
	}
	ctx := context.Background()
	o.Cluster.SimulatedNodes = 2
	o.Tenants = []string{tenant}
	o.ControllerReplicas, o.APIReplicas = 2, 2
	o.Supervise = true
	o.Log = t.Logf
	s, err := stack.Start(ctx, o)
	if err != nil {
		t.Fatalf("starting the stack: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			dumpLogs(t, s)
		}
		if err := s.Stop(); err != nil {
			t.Logf("stopping the stack: %v", err)
		}
	})
	e := &env{s: s}
	for _, url := range s.APIURLs {
		e.clients = append(e.clients, &restclient.Client{Base: url, Key: s.APIKeys[tenant], HTTP: &http.Client{Timeout: 30 * time.Second}})
	}
	types := []*asyncjobv1alpha1.AsyncJobType{
		stack.SimulatedType(typeOK, localcluster.PodBehavior{RunFor: 2 * time.Second, TerminationMessage: `{"ok":true}`, Quick: true}, asyncjobv1alpha1.JobLimits{}),
		stack.SimulatedType(typeFail, localcluster.PodBehavior{Fail: true, RunFor: time.Second, TerminationMessage: "simulated failure"},
			asyncjobv1alpha1.JobLimits{BackoffLimit: ptr.To[int32](0)}),
		stack.SimulatedType(typeLong, localcluster.PodBehavior{RunFor: 20 * time.Second, TerminationMessage: `{"ok":true}`}, asyncjobv1alpha1.JobLimits{}),
		stack.SimulatedType(typeProgress, localcluster.PodBehavior{RunFor: 10 * time.Second, TerminationMessage: `{"ok":true}`, Quick: true}, asyncjobv1alpha1.JobLimits{}),
		stack.SimulatedType(typeQueued, localcluster.PodBehavior{RunFor: 2 * time.Second, TerminationMessage: `{"ok":true}`, Quick: true}, asyncjobv1alpha1.JobLimits{}),
	}
	types[len(types)-1].Spec.Concurrency = &asyncjobv1alpha1.Concurrency{Max: queuedMax}
	for _, jt := range types {
		if err := s.Client.Create(ctx, jt); err != nil {
			t.Fatalf("creating type %s: %v", jt.Name, err)
		}
	}
	for _, jt := range types {
		for _, c := range e.clients {
			err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
				resp, _, err := c.Do(ctx, http.MethodGet, "/v1/types/"+jt.Name, nil)
				return err == nil && resp.StatusCode == http.StatusOK, nil
			})
			if err != nil {
				t.Fatalf("type %s never became submittable at %s: %v", jt.Name, c.Base, err)
			}
		}
	}
	return e
}

// policy is the good client's: each attempt bounded above the API's 10 s
// deadline, waits as Retry-After says up to 2 s, gives up after 2 minutes.
var policy = restclient.RetryPolicy{Timeout: 15 * time.Second, MaxWait: 2 * time.Second, GiveUp: 2 * time.Minute}

func submitBody(jobType string, n int) map[string]any {
	return map[string]any{"type": jobType, "parameters": map[string]any{"n": n}}
}

// waitStatus polls a job through any replica until it has one of want,
// returning the last status seen; it fails nothing itself. The timeout
// bounds a hang on a busy machine; it measures nothing.
func (e *env) waitStatus(ctx context.Context, id string, timeout time.Duration, want ...string) (string, error) {
	var last string
	var lastErr error
	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		st, found, err := restclient.Status(ctx, e.clients, 0, id)
		last, lastErr = st, err
		if !found {
			last = "(not found)"
		}
		for _, w := range want {
			if found && st == w {
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		return last, fmt.Errorf("job %s: status %s after %s (last error %v), want %s", id, last, timeout, lastErr, strings.Join(want, " or "))
	}
	return last, nil
}

func dumpLogs(t *testing.T, s *stack.Stack) {
	names := append(s.ControllerNames(), s.APINames()...)
	for _, name := range names {
		raw, err := os.ReadFile(s.Dir() + "/" + name + ".log")
		if err != nil {
			continue
		}
		if len(raw) > 6000 {
			raw = raw[len(raw)-6000:]
		}
		t.Logf("--- end of %s.log ---\n%s", name, raw)
	}
	t.Log(s.Cluster.LogTails(3000))
}

// envDuration reads a duration from the environment, for longer runs by hand.
func envDuration(name string, def time.Duration) time.Duration {
	if v, err := time.ParseDuration(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}
