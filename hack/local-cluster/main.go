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

// Command local-cluster runs the local Kubernetes cluster of
// test/localcluster for a person: `go run ./hack/local-cluster up --nodes 2`
// starts it, prints how to point kubectl at it, and tears it down on Ctrl-C
// or SIGTERM.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/asyncjob/asyncjob/test/localcluster"
)

func main() {
	if len(os.Args) < 2 || os.Args[1] != "up" {
		fmt.Fprintln(os.Stderr, "usage: local-cluster up [--nodes N] [--kube-api-qps N] [--kube-api-burst N] [--concurrent-job-syncs N] [--real-node] [--keep-dir]")
		os.Exit(2)
	}
	flags := flag.NewFlagSet("up", flag.ExitOnError)
	nodes := flags.Int("nodes", 1, "number of simulated (kwok) nodes")
	qps := flags.Int("kube-api-qps", 0, "kube-controller-manager --kube-api-qps (0: 100)")
	burst := flags.Int("kube-api-burst", 0, "kube-controller-manager --kube-api-burst (0: 200)")
	jobSyncs := flags.Int("concurrent-job-syncs", 0, "kube-controller-manager --concurrent-job-syncs (0: 10)")
	realNode := flags.Bool("real-node", false, "also run a real node (kubelet + containerd; needs root and hack/real-node-deps.sh)")
	keepDir := flags.Bool("keep-dir", false, "keep the cluster's directory (logs, etcd data) after shutdown")
	_ = flags.Parse(os.Args[2:])

	if err := up(localcluster.Options{
		SimulatedNodes: *nodes,
		ControllerManager: localcluster.ControllerManagerOptions{
			KubeAPIQPS: *qps, KubeAPIBurst: *burst, ConcurrentJobSyncs: *jobSyncs,
		},
		RealNode: *realNode,
		KeepDir:  *keepDir,
	}); err != nil {
		fmt.Fprintln(os.Stderr, "local-cluster:", err)
		os.Exit(1)
	}
}

func up(o localcluster.Options) error {
	// The signal context covers startup too: Ctrl-C during a long first build
	// or startup still ends in Stop.
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()

	started := time.Now()
	cluster, err := localcluster.Start(ctx, o)
	if err != nil {
		return err
	}
	defer func() {
		fmt.Fprintln(os.Stderr, "local-cluster: stopping")
		if err := cluster.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "local-cluster: stop:", err)
		}
	}()

	fmt.Fprintf(os.Stderr, "local-cluster: ready in %s with %d simulated node(s); logs in %s; Ctrl-C stops it\n",
		time.Since(started).Round(100*time.Millisecond), o.SimulatedNodes, cluster.Dir())
	if name := cluster.RealNodeName(); name != "" {
		fmt.Fprintf(os.Stderr, "local-cluster: real node %s has images %s and %s (use imagePullPolicy: Never)\n",
			name, localcluster.WorkerImage, localcluster.PauseImage)
	}
	for name, pid := range cluster.PIDs() {
		fmt.Fprintf(os.Stderr, "local-cluster:   %s pid %d\n", name, pid)
	}
	fmt.Printf("export KUBECONFIG=%s\n", cluster.Kubeconfig())
	<-ctx.Done()
	return nil
}
