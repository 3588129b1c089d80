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

// Package localcluster runs a real Kubernetes control plane on loopback
// (etcd, kube-apiserver, kube-controller-manager with every controller,
// kube-scheduler), built from source at pinned versions, with nodes
// simulated by kwok. Unlike envtest it has a Job controller and a garbage
// collector, so Jobs really run and foreground deletion really completes.
//
// Every process runs in its own process group, is stopped by its PID in Stop,
// and dies with its parent if Stop never runs; all state lives in a fresh
// temporary directory, so a second Start after a crash just works.
package localcluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// Options configure a cluster. The zero value is a control plane without
// nodes.
type Options struct {
	// SimulatedNodes is the number of kwok nodes; kwok only runs when > 0.
	SimulatedNodes int
	// ControllerManager tunes kube-controller-manager's throughput.
	ControllerManager ControllerManagerOptions
	// BinDir holds etcd and the kube-* binaries; empty means build or reuse
	// them through hack/k8s-binaries.sh.
	BinDir string
	// KwokBinary is kwok's path; empty means build or reuse it through hack/kwok.sh.
	KwokBinary string
	// KeepDir leaves the directory (logs, etcd data) behind after Stop, for
	// debugging.
	KeepDir bool
	// AuditLog makes kube-apiserver record every list and watch call in
	// AuditLogPath (see ListCalls), to count informers' re-lists.
	AuditLog bool
	// RealNode adds a real node: kubelet with containerd, registered under
	// this machine's hostname, with PauseImage, WorkerImage and
	// SampleWorkerImage imported, kube-proxy (Service IPs work, and pods
	// reach the API server in-cluster), and an image registry (see
	// Registry). It needs root and hack/real-node-deps.sh; see
	// RealNodeUnavailable.
	RealNode bool
	// Kueue runs Kueue (hack/kueue.sh builds it): its CRDs, its controller
	// for batch/v1 Jobs labelled with a LocalQueue (manageJobsWithoutQueueName
	// false), its webhooks, and its visibility API through the aggregation
	// layer. It needs root (see startKueue).
	Kueue bool
	// KueueBinary is Kueue's path; empty means build or reuse it through hack/kueue.sh.
	KueueBinary string
}

// Cluster is a running local cluster.
type Cluster struct {
	dir        string
	kubeconfig string
	config     *rest.Config
	keepDir    bool
	realNode   *realNode // nil without Options.RealNode
	nodeName   string
	hostIP     string // where the real node's pods reach this machine
	// registry serves images to the real node; nil without Options.RealNode.
	registry     *http.Server
	registryHost string

	// etcdURL and apiURL are where etcd and kube-apiserver listen; a
	// restart keeps them (RestartEtcd, RestartAPIServer).
	etcdURL string
	apiURL  string
	creds   *credentials

	mu        sync.Mutex
	processes []*Process // in start order; stopped in reverse
	stopOnce  sync.Once
	stopErr   error
}

// Start starts a cluster and returns once its nodes are Ready. ctx bounds
// the startup only; the cluster runs until Stop. On error nothing is left
// running and the error includes the end of the failing component's log.
func Start(ctx context.Context, o Options) (*Cluster, error) {
	if o.RealNode {
		if err := RealNodeUnavailable(); err != nil {
			return nil, err
		}
	}
	bins, err := findBinaries(ctx, o)
	if err != nil {
		return nil, err
	}
	removeStaleDirs()
	dir, err := os.MkdirTemp("", dirPattern)
	if err != nil {
		return nil, err
	}
	if err := writeOwner(dir); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	c := &Cluster{dir: dir, kubeconfig: filepath.Join(dir, "kubeconfig"), keepDir: o.KeepDir}
	if err := c.start(ctx, o, bins); err != nil {
		_ = c.Stop()
		return nil, err
	}
	return c, nil
}

func (c *Cluster) start(ctx context.Context, o Options, bins binaries) error {
	creds, err := writeCredentials(c.dir)
	if err != nil {
		return fmt.Errorf("credentials: %w", err)
	}
	c.creds = creds
	etcd, etcdURL, err := startEtcd(ctx, c.dir, bins.etcd)
	if err := c.track(etcd, err); err != nil {
		return err
	}
	c.etcdURL = etcdURL
	var extra []string
	if o.AuditLog {
		if extra, err = auditFlags(c.dir); err != nil {
			return err
		}
	}
	advertise := ""
	if o.RealNode {
		// The real node's pods reach the API server through kube-proxy.
		if advertise, err = hostIP(); err != nil {
			return err
		}
		c.hostIP = advertise
	}
	apiServer, apiURL, err := startAPIServer(ctx, c.dir, bins.apiServer, etcdURL, creds, advertise, extra)
	if err := c.track(apiServer, err); err != nil {
		return err
	}
	c.apiURL = apiURL
	if err := writeKubeconfig(c.kubeconfig, apiURL, creds); err != nil {
		return err
	}
	c.config = restConfig(apiURL, creds)
	kcm, err := startControllerManager(ctx, c.dir, bins.controllerManager, c.kubeconfig, creds, o.ControllerManager)
	if err := c.track(kcm, err); err != nil {
		return err
	}
	scheduler, err := startScheduler(ctx, c.dir, bins.scheduler, c.kubeconfig)
	if err := c.track(scheduler, err); err != nil {
		return err
	}
	if o.SimulatedNodes > 0 {
		kwok, err := startKwok(c.dir, bins.kwok, c.kubeconfig)
		if err := c.track(kwok, err); err != nil {
			return err
		}
		cs, err := c.clientset()
		if err != nil {
			return err
		}
		if err := createSimulatedNodes(ctx, cs, o.SimulatedNodes); err != nil {
			if !kwok.Running() {
				return kwok.ExitError()
			}
			return err
		}
	}
	if o.RealNode {
		hostname, err := os.Hostname()
		if err != nil {
			return err
		}
		// kubelet registers under the hostname, which must resolve or the
		// API server cannot reach it for logs.
		if _, err := net.LookupHost(hostname); err != nil {
			return fmt.Errorf("the real node's hostname %q does not resolve (add it to /etc/hosts): %w", hostname, err)
		}
		c.nodeName = hostname
		if err := c.startRealNode(ctx, bins, hostname); err != nil {
			return err
		}
	}
	if o.Kueue {
		if err := c.startKueue(ctx, bins.kueue); err != nil {
			return err
		}
	}
	return nil
}

func (c *Cluster) clientset() (kubernetes.Interface, error) {
	return kubernetes.NewForConfig(c.config)
}

// track remembers p, even when its startup failed, so Stop ends it.
func (c *Cluster) track(p *Process, err error) error {
	if p != nil {
		c.mu.Lock()
		c.processes = append(c.processes, p)
		c.mu.Unlock()
	}
	return err
}

// Stop stops every process the cluster started, newest first, each by its
// own PID (and process group), then removes the directory unless KeepDir.
// It is safe to call more than once.
func (c *Cluster) Stop() error {
	c.stopOnce.Do(func() {
		c.mu.Lock()
		procs := c.processes
		c.mu.Unlock()
		var errs []error
		for i := len(procs) - 1; i >= 0; i-- {
			// Components shut down cleanly within seconds; etcd last, so the
			// others do not spend their grace period retrying it.
			errs = append(errs, procs[i].Stop(15*time.Second))
		}
		if c.realNode != nil {
			errs = append(errs, c.realNode.cleanup())
		}
		if c.registry != nil {
			errs = append(errs, c.registry.Close())
		}
		if !c.keepDir {
			errs = append(errs, os.RemoveAll(c.dir))
		}
		c.stopErr = errors.Join(errs...)
	})
	return c.stopErr
}

// RealNodeName is the real node's name, or "" without Options.RealNode.
func (c *Cluster) RealNodeName() string { return c.nodeName }

// HostIP is this machine's address as the real node's pods reach it (the
// API server listens there too), or "" without Options.RealNode. A server
// the pods call back must listen on it, not only on loopback.
func (c *Cluster) HostIP() string { return c.hostIP }

// Dir is the cluster's directory: credentials, the kubeconfig, etcd's data
// and one log file per component (NAME.log).
func (c *Cluster) Dir() string { return c.dir }

// LogTails is the end (at most maxBytes) of every component's log, each
// under its file's name: what a failing test prints.
func (c *Cluster) LogTails(maxBytes int) string {
	logs, _ := filepath.Glob(filepath.Join(c.dir, "*.log"))
	var b strings.Builder
	for _, path := range logs {
		data, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		if len(data) > maxBytes {
			data = data[len(data)-maxBytes:]
		}
		fmt.Fprintf(&b, "--- end of %s:\n%s\n", path, data)
	}
	return b.String()
}

// Kubeconfig is the path of an admin kubeconfig for the cluster.
func (c *Cluster) Kubeconfig() string { return c.kubeconfig }

// Config is an admin client configuration for the cluster.
func (c *Cluster) Config() *rest.Config { return rest.CopyConfig(c.config) }

// PIDs are the process ids of every process the cluster started, by name.
func (c *Cluster) PIDs() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	pids := make(map[string]int, len(c.processes))
	for _, p := range c.processes {
		pids[p.name] = p.PID()
	}
	return pids
}
