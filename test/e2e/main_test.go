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

// Package e2e tests asyncjob end to end, as a REST client would, on a real
// local cluster: etcd, kube-apiserver, kube-controller-manager (the real Job
// controller and garbage collector), kube-scheduler, kwok's simulated nodes,
// and the asyncjob controller and API running as processes of the real binary.
package e2e

import (
	"context"
	"flag"
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
	"github.com/asyncjob/asyncjob/test/storagewatch"
)

// Job types of the suite; their pods run on simulated nodes.
const (
	typeQuick    = "e2e-quick"    // runs 2 s, succeeds with a JSON result
	typeSlow     = "e2e-slow"     // runs 10 min: long enough to cancel or delete while running
	typeFail     = "e2e-fail"     // every pod fails; one retry
	typeDeadline = "e2e-deadline" // runs 10 min against a 3 s deadline
	typeShortTTL = "e2e-ttl"      // succeeds, record kept 3 s
	typeSteady   = "e2e-steady"   // runs 8 s: spans a controller or API restart

	tenant      = "e2e"
	otherTenant = "other"
	quickResult = `{"output":"https://example.com/out.webm","frames":2600}`
)

var (
	s   *stack.Stack
	api *restClient
	// jobWatch sees every Job created from before the first submission on.
	jobWatch *jobCreations
)

func TestMain(m *testing.M) {
	flag.Parse()
	// The tests' own controller-runtime clients log nothing worth reading.
	ctrllog.SetLogger(logr.Discard())
	if testing.Short() {
		fmt.Println("e2e: skipped under -short (they start a local cluster)")
		os.Exit(0)
	}
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ctx := context.Background()
	var err error
	// A real node too, where this machine can run one (root, containerd):
	// the TestRealPod... and TestRealNode... tests say why they skip otherwise.
	realNode := localcluster.RealNodeUnavailable() == nil
	s, err = stack.Start(ctx, stack.Options{
		Cluster: localcluster.Options{SimulatedNodes: 3, RealNode: realNode},
		// Its pods call the API back, through the injected entrypoint.
		RealNodeWorkers: realNode,
		Tenants:         []string{tenant, otherTenant},
		// The webhook test's receiver listens on this machine's loopback.
		// The tests' webhook receivers listen on loopback, which both the API
		// (at submission) and the controller (at dial time) refuse by default.
		ControllerArgs: []string{"--webhook-allowed-cidrs=127.0.0.0/8,::1/128"},
		APIArgs:        []string{"--webhook-allowed-cidrs=127.0.0.0/8,::1/128"},
		Log:            func(f string, a ...any) { fmt.Printf("e2e: "+f+"\n", a...) },
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: starting the stack:", err)
		return 1
	}
	defer func() {
		if err := s.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "e2e: stopping the stack:", err)
		}
	}()
	api = &restClient{restclient.Client{Base: s.APIURL, Key: s.APIKeys[tenant], HTTP: &http.Client{Timeout: 30 * time.Second}}}
	watch, err := storagewatch.Start(ctx, s.Cluster.EtcdURL())
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: watching Jobs:", err)
		return 1
	}
	jobWatch = &jobCreations{watch}
	defer jobWatch.Stop()
	if err := createTypes(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	code := m.Run()
	if err := requireOneJobPerAsyncJob(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		code = 1
	}
	if code != 0 {
		fmt.Fprintf(os.Stderr, "e2e: failed; the controller's and API's logs were in %s\n", s.Dir())
		dumpLogs()
	}
	return code
}

// requireOneJobPerAsyncJob checks, over every Job created during the run, that
// no AsyncJob got a second Job (or its Job twice).
func requireOneJobPerAsyncJob(ctx context.Context) error {
	if err := jobWatch.Sync(ctx); err != nil {
		return err
	}
	bad, err := jobWatch.Violations()
	if err != nil {
		return err
	}
	if len(bad) > 0 {
		return fmt.Errorf("AsyncJobs with more than one Job over the run:\n%s", strings.Join(bad, "\n"))
	}
	fmt.Println("e2e: the watch on Jobs saw no AsyncJob get a second Job")
	return nil
}

func createTypes(ctx context.Context) error {
	types := []*asyncjobv1alpha1.AsyncJobType{
		stack.SimulatedType(typeQuick, localcluster.PodBehavior{RunFor: 2 * time.Second, TerminationMessage: quickResult}, asyncjobv1alpha1.JobLimits{}),
		stack.SimulatedType(typeSlow, localcluster.PodBehavior{RunFor: 10 * time.Minute}, asyncjobv1alpha1.JobLimits{}),
		stack.SimulatedType(typeFail, localcluster.PodBehavior{Fail: true, RunFor: time.Second, TerminationMessage: "input file is corrupt"},
			asyncjobv1alpha1.JobLimits{BackoffLimit: ptr.To[int32](1)}),
		stack.SimulatedType(typeDeadline, localcluster.PodBehavior{RunFor: 10 * time.Minute}, asyncjobv1alpha1.JobLimits{ActiveDeadlineSeconds: ptr.To[int64](3)}),
		stack.SimulatedType(typeShortTTL, localcluster.PodBehavior{RunFor: time.Second, Quick: true}, asyncjobv1alpha1.JobLimits{TTLSecondsAfterFinished: ptr.To[int32](3)}),
		stack.SimulatedType(typeSteady, localcluster.PodBehavior{RunFor: 8 * time.Second, TerminationMessage: `{"ok":true}`}, asyncjobv1alpha1.JobLimits{}),
	}
	for _, t := range types {
		if err := s.Client.Create(ctx, t); err != nil {
			return fmt.Errorf("creating type %s: %w", t.Name, err)
		}
	}
	// Tests submit right away.
	for _, t := range types {
		if err := waitSubmittable(ctx, t.Name); err != nil {
			return err
		}
	}
	return nil
}

// waitSubmittable waits until the API accepts jobs of a type: once the
// controller has marked it Ready and the API's cache has seen that.
func waitSubmittable(ctx context.Context, jobType string) error {
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		resp, _, err := api.Do(ctx, http.MethodGet, "/v1/types/"+jobType, nil)
		return err == nil && resp.StatusCode == http.StatusOK, nil
	})
	if err != nil {
		return fmt.Errorf("type %s never became submittable: %w", jobType, err)
	}
	return nil
}

func dumpLogs() {
	for _, name := range []string{"controller.log", "api.log"} {
		raw, err := os.ReadFile(s.Dir() + "/" + name)
		if err != nil {
			continue
		}
		if len(raw) > 8000 {
			raw = raw[len(raw)-8000:]
		}
		fmt.Fprintf(os.Stderr, "--- end of %s ---\n%s\n", name, raw)
	}
}
