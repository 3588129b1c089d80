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

// Command dev runs asyncjob on a local cluster for development (`make dev`):
// a real Kubernetes control plane with simulated nodes, the CRDs, the sample
// convert type, and the asyncjob controller and REST API with API-key
// authentication on localhost:8080. Ctrl-C tears it all down.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/test/localcluster"
	"github.com/asyncjob/asyncjob/test/stack"
)

func main() {
	addr := flag.String("api-address", "127.0.0.1:8080", "where the REST API listens")
	nodes := flag.Int("nodes", 2, "simulated nodes")
	runFor := flag.Duration("sample-run-for", 10*time.Second, "how long a sample convert job runs")
	keep := flag.Bool("keep-dir", false, "keep the cluster's directory (logs, kubeconfig) after exit")
	flag.Parse()
	if err := run(*addr, *nodes, *runFor, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "dev:", err)
		os.Exit(1)
	}
}

func run(addr string, nodes int, runFor time.Duration, keep bool) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logf := func(format string, args ...any) { fmt.Printf("dev: "+format+"\n", args...) }

	s, err := stack.Start(ctx, stack.Options{
		Cluster:    localcluster.Options{SimulatedNodes: nodes, KeepDir: keep},
		APIAddress: addr,
		Tenants:    []string{"dev"},
		Log:        logf,
	})
	if err != nil {
		return err
	}
	defer func() {
		logf("stopping the REST API, the controller and the cluster")
		if err := s.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "dev: stopping:", err)
		}
	}()

	sample, err := stack.SampleType(localcluster.PodBehavior{
		RunFor:             runFor,
		TerminationMessage: `{"output":"https://example.com/video.webm","format":"webm","simulated":true}`,
	})
	if err != nil {
		return err
	}
	if err := s.Client.Create(ctx, sample); err != nil {
		return fmt.Errorf("creating the sample type: %w", err)
	}
	printWelcome(s, sample)
	<-ctx.Done()
	return nil
}

func printWelcome(s *stack.Stack, sample *asyncjobv1alpha1.AsyncJobType) {
	fmt.Printf(`
asyncjob is running.

  REST API      %[1]s   (OpenAPI: %[1]s/openapi.json)
  tenant        dev, namespace %[2]s, API key below
  job type      %[3]s (the sample; its pods run on simulated nodes for %[4]s)
  logs          %[5]s/{controller,api}.log

What is real: etcd, kube-apiserver, kube-controller-manager (the Job controller
and the garbage collector), kube-scheduler, and asyncjob itself. What is
simulated: the nodes (kwok), so pods "run" without containers.

Paste into another terminal:

  export KUBECONFIG=%[6]s
  export API=%[1]s KEY=%[7]s

  # submit a conversion: 202 Accepted, Location: /v1/jobs/<id>
  ID=$(curl -s -X POST "$API/v1/jobs" -H "Authorization: Bearer $KEY" \
    -H 'Content-Type: application/json' \
    -d '{"type":"convert","parameters":{"input":"https://example.com/video.mov","format":"webm"}}' \
    | sed -n 's/.*"id":"\([^"]*\)".*/\1/p'); echo "$ID"

  # poll it: PENDING, then RUNNING, then COMPLETED with a result
  curl -s "$API/v1/jobs/$ID" -H "Authorization: Bearer $KEY"; echo

  # or watch from Kubernetes' side
  kubectl get asyncjobs -n %[2]s -o wide -w

Ctrl-C stops everything.
`, s.APIURL, stack.Namespace("dev"), sample.Name, sampleRunFor(sample), s.Dir(), s.Cluster.Kubeconfig(), s.APIKeys["dev"])
}

func sampleRunFor(t *asyncjobv1alpha1.AsyncJobType) string {
	if v := t.Spec.Template.Spec.Template.Annotations[localcluster.RunForAnnotation]; v != "" {
		return v
	}
	return "1s"
}
