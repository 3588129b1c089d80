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
// it adds that node, and convert is then the real type: Debian's ffmpeg
// (localcluster.FFmpegImage, built by hack/ffmpeg-image) converts uploaded
// files there, with a filesystem artifact store in the stack's directory;
// the convert-live sample type runs there too. Both run through the injected
// entrypoint, reporting progress and results to the API. Ctrl-C tears it all
// down.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
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
		logf("adding the real node (kubelet, containerd), for the real convert type (ffmpeg) and convert-live")
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
		BeforeStart: func(ctx context.Context, s *stack.Stack) error {
			if !realNode {
				return nil
			}
			return realConvertSetUp(ctx, s, logf)
		},
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

	// convert: the real one on the real node, else the pretend sample.
	var sample *asyncjobv1alpha1.AsyncJobType
	if realNode {
		sample, err = stack.ConvertType(localcluster.FFmpegImage)
	} else {
		sample, err = stack.SampleType(localcluster.PodBehavior{
			RunFor:             runFor,
			TerminationMessage: `{"output":"https://example.com/video.webm","format":"webm","simulated":true}`,
		})
	}
	if err != nil {
		return err
	}
	if err := s.Client.Create(ctx, sample); err != nil {
		return fmt.Errorf("creating the convert type: %w", err)
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
		printConvert(s)
		printLive(s, live)
	}
	fmt.Print("\nCtrl-C stops everything.\n")
	<-ctx.Done()
	return nil
}

// realConvertSetUp readies the real convert type, before the controller and
// the API start: the artifact store, a directory in the stack's (removed
// with it), on both command lines; and the ffmpeg image in the real node.
func realConvertSetUp(ctx context.Context, s *stack.Stack, logf func(string, ...any)) error {
	dir := filepath.Join(s.Dir(), "artifacts")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	// no_tmp_dir: partial writes stay in dir, so the final rename works.
	storeFlag := "--artifact-store-url=file://" + dir + "?no_tmp_dir=true"
	s.AddAPIArgs(storeFlag)
	s.AddControllerArgs(storeFlag)
	logf("artifact store: %s", dir)
	logf("importing the ffmpeg image %s into the real node (built from Debian's packages on first use: minutes)", localcluster.FFmpegImage)
	return s.Cluster.LoadFFmpegImage(ctx)
}

// devWebhookCIDRs are the destinations make dev allows webhooks to, beyond
// the default: loopback.
const devWebhookCIDRs = "127.0.0.0/8,::1/128"

func printWelcome(s *stack.Stack, sample *asyncjobv1alpha1.AsyncJobType) {
	fmt.Printf(`
asyncjob is running.

  REST API      %[1]s   (OpenAPI: %[1]s/openapi.json)
  tenant        dev, namespace %[2]s, API key below
  job type      %[3]s (%[4]s)
  logs          %[5]s/{controller,api}.log

What is real: etcd, kube-apiserver, kube-controller-manager (the Job controller
and the garbage collector), kube-scheduler, and asyncjob itself. What is
simulated: the nodes (kwok), so pods "run" without containers%[8]s.

Paste into another terminal:

  export KUBECONFIG=%[6]s
  export API=%[1]s KEY=%[7]s

%[10]s
  # or watch from Kubernetes' side
  kubectl get asyncjobs -n %[2]s -o wide -w

Webhooks may go to loopback here (--webhook-allowed-cidrs=%[9]s), so a
receiver on this machine works; a real deployment refuses loopback and
private addresses (docs/webhooks.md).
`, s.APIURL, stack.Namespace("dev"), sample.Name, sampleDescription(s, sample), s.Dir(), s.Cluster.Kubeconfig(), s.APIKeys["dev"], simulatedExcept(s), devWebhookCIDRs, submitExample(s))
}

// submitExample submits a pretend conversion, on simulated nodes; with the
// real node, convert converts an upload (printConvert).
func submitExample(s *stack.Stack) string {
	if s.Cluster.RealNodeName() != "" {
		return "  # convert a file: see below\n"
	}
	return `  # submit a conversion: 202 Accepted, Location: /v1/jobs/<id>
  ID=$(curl -s -X POST "$API/v1/jobs" -H "Authorization: Bearer $KEY" \
    -H 'Content-Type: application/json' \
    -d '{"type":"convert","parameters":{"input":"https://example.com/video.mov","format":"webm"}}' \
    | sed -n 's/.*"id":"\([^"]*\)".*/\1/p'); echo "$ID"

  # poll it: PENDING, then RUNNING, then COMPLETED with a result
  curl -s "$API/v1/jobs/$ID" -H "Authorization: Bearer $KEY"; echo
`
}

func sampleDescription(s *stack.Stack, sample *asyncjobv1alpha1.AsyncJobType) string {
	if s.Cluster.RealNodeName() != "" {
		return "ffmpeg, for real, on the real node: below"
	}
	return "the pretend sample; its pods run on simulated nodes for " + sampleRunFor(sample)
}

// printConvert shows the real convert type: upload, progress, download.
func printConvert(s *stack.Stack) {
	fmt.Printf(`
The convert type converts for real on the real node: ffmpeg from Debian's
packages (image %[1]s), the files in the store %[2]s/artifacts.

  # a few seconds of video to convert (or bring your own clip.mov)
  ffmpeg -f lavfi -i testsrc=duration=5:size=640x360:rate=25 -f lavfi -i sine=duration=5 \
    -c:v libx264 -c:a aac -y clip.mov

  # upload it and convert it to webm: 202 Accepted, Location: /v1/jobs/<id>
  ID=$(curl -s -H "Authorization: Bearer $KEY" \
    -F job='{"type":"convert","parameters":{"input":"clip.mov","format":"webm"}}' \
    -F clip.mov=@clip.mov "$API/v1/jobs" | sed -n 's/.*"id":"\([^"]*\)".*/\1/p'); echo "$ID"

  # poll it until COMPLETED: progress rises with ffmpeg's
  curl -s "$API/v1/jobs/$ID" -H "Authorization: Bearer $KEY"; echo

  # list its files, then download the webm
  curl -s "$API/v1/jobs/$ID/artifacts" -H "Authorization: Bearer $KEY"; echo
  curl -s -O -H "Authorization: Bearer $KEY" "$API/v1/jobs/$ID/artifacts/clip.webm"

  # parameters: format (webm mp4 mkv mov ogg mp3 wav flac), videoCodec,
  # audioCodec, width, height, duration: curl -s "$API/v1/types/convert" ...
`, localcluster.FFmpegImage, s.Dir())
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
