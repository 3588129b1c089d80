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
// authentication on localhost:8080. Where this machine can run the local
// cluster's real node (root, containerd: see localcluster.RealNodeUnavailable)
// it adds that node and the convert-live sample type, whose worker really
// runs there through the injected entrypoint, reporting progress and its
// result to the API. Ctrl-C tears it all down.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/test/localcluster"
	"github.com/asyncjob/asyncjob/test/stack"
)

func main() {
	addr := flag.String("api-address", "127.0.0.1:8080", "where the REST API listens")
	nodes := flag.Int("nodes", 2, "simulated nodes")
	runFor := flag.Duration("sample-run-for", 10*time.Second, "how long a sample convert job runs")
	keep := flag.Bool("keep-dir", false, "keep the cluster's directory (logs, kubeconfig) after exit")
	realNode := flag.String("real-node", "auto", "add the real node and the convert-live type: auto (when this machine can: root, containerd), on (fail otherwise) or off")
	flag.Parse()
	// The stack's own Kubernetes clients log nothing worth reading here.
	ctrllog.SetLogger(logr.Discard())
	withRealNode, err := wantRealNode(*realNode)
	if err == nil {
		err = run(*addr, *nodes, *runFor, *keep, withRealNode)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "dev:", err)
		os.Exit(1)
	}
}

// wantRealNode decides, from --real-node, whether to add the real node, and
// says in one line why not when auto cannot.
func wantRealNode(mode string) (bool, error) {
	why := localcluster.RealNodeUnavailable()
	switch mode {
	case "off":
		return false, nil
	case "on":
		if why != nil {
			return false, fmt.Errorf("--real-node=on: %w", why)
		}
		return true, nil
	case "auto":
		if why != nil {
			fmt.Printf("dev: simulated nodes only, no real node: %v\n", why)
		}
		return why == nil, nil
	default:
		return false, fmt.Errorf("--real-node=%q: want auto, on or off", mode)
	}
}

func run(addr string, nodes int, runFor time.Duration, keep, realNode bool) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logf := func(format string, args ...any) { fmt.Printf("dev: "+format+"\n", args...) }
	if realNode {
		logf("adding the real node (kubelet, containerd), for the convert-live type")
	}
	logf("webhook URLs on loopback (%s) are allowed, for a receiver on this machine; a real install refuses them", devWebhookCIDRs)

	s, err := stack.Start(ctx, stack.Options{
		Cluster:         localcluster.Options{SimulatedNodes: nodes, KeepDir: keep, RealNode: realNode},
		APIAddress:      addr,
		Tenants:         []string{"dev"},
		Log:             logf,
		RealNodeWorkers: realNode,
		// A webhook receiver on this machine must work: loopback is allowed
		// here, and only here (the welcome says so).
		ControllerArgs: []string{"--webhook-allowed-cidrs=" + devWebhookCIDRs},
		// A webhook receiver on this machine must be accepted: the API
		// refuses loopback URLs unless allowed (docs/api.md, Webhooks).
		APIArgs: []string{"--webhook-allowed-cidrs=" + devWebhookCIDRs},
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
	var live *asyncjobv1alpha1.AsyncJobType
	if realNode {
		if live, err = stack.LiveSampleType(); err != nil {
			return err
		}
		if err := s.Client.Create(ctx, live); err != nil {
			return fmt.Errorf("creating the live sample type: %w", err)
		}
	}
	printWelcome(s, sample)
	if live != nil {
		printLive(s, live)
	}
	fmt.Print("\nCtrl-C stops everything.\n")
	<-ctx.Done()
	return nil
}

// devWebhookCIDRs are the destinations make dev allows webhooks to, beyond
// the default: loopback.
const devWebhookCIDRs = "127.0.0.0/8,::1/128"

func printWelcome(s *stack.Stack, sample *asyncjobv1alpha1.AsyncJobType) {
	fmt.Printf(`
asyncjob is running.

  REST API      %[1]s   (OpenAPI: %[1]s/openapi.json)
  tenant        dev, namespace %[2]s, API key below
  job type      %[3]s (the sample; its pods run on simulated nodes for %[4]s)
  logs          %[5]s/{controller,api}.log

What is real: etcd, kube-apiserver, kube-controller-manager (the Job controller
and the garbage collector), kube-scheduler, and asyncjob itself. What is
simulated: the nodes (kwok), so pods "run" without containers%[8]s.

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

Webhooks may go to loopback here (--webhook-allowed-cidrs=%[9]s), so a
receiver on this machine works; a real deployment refuses loopback and
private addresses (docs/webhooks.md).
`, s.APIURL, stack.Namespace("dev"), sample.Name, sampleRunFor(sample), s.Dir(), s.Cluster.Kubeconfig(), s.APIKeys["dev"], simulatedExcept(s), devWebhookCIDRs)
}

func simulatedExcept(s *stack.Stack) string {
	if s.Cluster.RealNodeName() != "" {
		return ",\nexcept on the real node below"
	}
	return ""
}

func sampleRunFor(t *asyncjobv1alpha1.AsyncJobType) string {
	if v := t.Spec.Template.Spec.Template.Annotations[localcluster.RunForAnnotation]; v != "" {
		return v
	}
	return "1s"
}

// printLive shows the real node's part: the convert-live type, whose worker
// prints progress and logs for real.
func printLive(s *stack.Stack, live *asyncjobv1alpha1.AsyncJobType) {
	fmt.Printf(`
And on the real node (kubelet with containerd, node %[1]s): the %[2]s type
runs a real container, test/localcluster/images/sample-worker, through the
injected entrypoint (image %[3]s). Its pods call the API back
at %[4]s (the API listens on every interface for that).

  # submit a live conversion: ten steps over 20 s
  ID=$(curl -s -X POST "$API/v1/jobs" -H "Authorization: Bearer $KEY" \
    -H 'Content-Type: application/json' \
    -d '{"type":"%[2]s","parameters":{"input":"https://example.com/video.mov","format":"webm","seconds":20}}' \
    | sed -n 's/.*"id":"\([^"]*\)".*/\1/p'); echo "$ID"

  # poll it: PENDING, RUNNING with progress 10, 20, ... 100, then COMPLETED
  curl -s "$API/v1/jobs/$ID" -H "Authorization: Bearer $KEY"; echo

  # stream the container's output as it runs (ends with the container);
  # until its container starts the API answers 409 LOGS_NOT_READY: retry
  for i in $(seq 30); do curl -sfN "$API/v1/jobs/$ID/logs?follow=true" \
    -H "Authorization: Bearer $KEY" && break; sleep 1; done

  # the result, once COMPLETED
  curl -s "$API/v1/jobs/$ID/result" -H "Authorization: Bearer $KEY"; echo
`, s.Cluster.RealNodeName(), live.Name, s.EntrypointImage(), s.CallbackURL())
}
