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

package stack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/asyncjob/asyncjob/test/localcluster"
)

// LeaderLease is the Lease the controller replicas elect their leader with
// (the controller's LeaderElectionID, in SystemNamespace).
var LeaderLease = types.NamespacedName{Namespace: SystemNamespace, Name: "asyncjob-controller.asyncjob.io"}

// acquiredLease is what client-go's leader election logs on becoming leader.
var acquiredLease = []byte("uccessfully acquired lease") // "Successfully" now, "successfully" before client-go 1.30

// replica is one controller or API process the stack runs (and, supervised,
// restarts) under a fixed name, command line and readiness URL.
type replica struct {
	name  string
	args  []string
	ready string

	mu       sync.Mutex
	proc     *localcluster.Process
	want     bool  // started through the Stack and not stopped through it
	logStart int64 // size of its log when proc started: where proc's own lines begin
	exitedAt time.Time
	restarts int
}

func replicaName(base string, i, n int) string {
	if n == 1 {
		return base // controller.log, api.log: what the suites print on failure
	}
	return fmt.Sprintf("%s-%d", base, i)
}

// defineReplicas fixes every replica's command line: addresses are chosen
// once, so a restarted replica listens where it did.
func (s *Stack) defineReplicas() error {
	o := s.opts
	nc, na := max(o.ControllerReplicas, 1), max(o.APIReplicas, 1)
	callbackURL := o.CallbackURL
	// A port is free until something binds it: none may be handed out twice
	// before the replicas start.
	taken := map[string]bool{}
	address := func() (string, error) {
		for {
			addr, err := freeLoopbackAddress()
			if err != nil || !taken[addr] {
				taken[addr] = true
				return addr, err
			}
		}
	}
	for i := range na {
		addr := o.APIAddress
		taken[addr] = true
		if i > 0 || addr == "" {
			var err error
			if addr, err = address(); err != nil {
				return err
			}
		}
		url := "http://" + addr
		s.APIURLs = append(s.APIURLs, url)
		metrics, err := address()
		if err != nil {
			return err
		}
		s.APIMetricsURLs = append(s.APIMetricsURLs, "http://"+metrics+"/metrics")
		bind := addr
		if i == 0 && s.bindAddress != "" {
			bind = s.bindAddress
		}
		args := append([]string{"api",
			"--kubeconfig=" + s.Cluster.Kubeconfig(), "--bind-address=" + bind, "--metrics-bind-address=" + metrics,
			"--auth-mode=apikey", "--api-keys-secret=" + SystemNamespace + "/" + APIKeysSecret,
			"--tenant-namespace-template=" + namespacePrefix + "{tenant}",
			// Generous limits: the end-to-end suite submits hundreds of jobs at once.
			"--rate-limit=1000", "--rate-burst=2000", "--max-unfinished-jobs=1000",
			"--worker-token-key-file=" + s.WorkerTokenKeyFile}, o.APIArgs...)
		s.apis = append(s.apis, &replica{name: replicaName("api", i, na), args: args, ready: url + "/readyz"})
	}
	s.APIURL, s.APIMetricsURL = s.APIURLs[0], s.APIMetricsURLs[0]
	if callbackURL == "" {
		callbackURL = s.APIURL
	}
	for i := range nc {
		probe, err := address()
		if err != nil {
			return err
		}
		args := []string{"controller",
			"--kubeconfig=" + s.Cluster.Kubeconfig(), "--metrics-bind-address=0", "--health-probe-bind-address=" + probe,
			"--max-concurrent-reconciles=8",
			"--callback-url=" + callbackURL, "--worker-token-key-file=" + s.WorkerTokenKeyFile}
		if nc > 1 {
			args = append(args, "--leader-elect", "--leader-election-namespace="+LeaderLease.Namespace)
		}
		if o.EntrypointImage != "" {
			args = append(args, "--entrypoint-image="+o.EntrypointImage)
		}
		args = append(args, o.ControllerArgs...)
		s.controllers = append(s.controllers, &replica{name: replicaName("controller", i, nc), args: args, ready: "http://" + probe + "/readyz"})
	}
	if o.Supervise {
		s.stopSupervisor = make(chan struct{})
		s.supervisorDone = make(chan struct{})
		go s.supervise()
	}
	return nil
}

func (s *Stack) startAll(ctx context.Context, rs []*replica) error {
	for _, r := range rs {
		if err := s.startReplica(r); err != nil {
			return err
		}
	}
	for _, r := range rs {
		r.mu.Lock()
		p := r.proc
		r.mu.Unlock()
		if err := waitHTTP(ctx, p, r.ready); err != nil {
			return err
		}
	}
	return nil
}

// startReplica starts r unless it runs; it does not wait for readiness.
func (s *Stack) startReplica(r *replica) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.want = true
	if r.proc != nil && r.proc.Running() {
		return nil
	}
	var size int64
	if fi, err := os.Stat(s.dir + "/" + r.name + ".log"); err == nil {
		size = fi.Size()
	}
	p, err := localcluster.StartProcess(s.dir, r.name, s.binary, r.args...)
	if err != nil {
		return err
	}
	r.proc, r.logStart = p, size
	return nil
}

func stopAll(rs []*replica, crash bool) error {
	var errs []error
	for _, r := range rs {
		r.mu.Lock()
		r.want = false
		p := r.proc
		r.mu.Unlock()
		if p == nil {
			continue
		}
		if crash {
			errs = append(errs, p.Kill())
		} else {
			errs = append(errs, p.Stop(10*time.Second))
		}
	}
	return errors.Join(errs...)
}

func (r *replica) pid() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.proc == nil || !r.proc.Running() {
		return 0
	}
	return r.proc.PID()
}

// supervise restarts, RestartDelay after it exited, every replica that
// should run and does not.
func (s *Stack) supervise() {
	defer close(s.supervisorDone)
	delay := s.opts.RestartDelay
	if delay <= 0 {
		delay = time.Second
	}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-s.stopSupervisor:
			return
		case <-tick.C:
		}
		for _, r := range append(append([]*replica(nil), s.controllers...), s.apis...) {
			r.mu.Lock()
			down := r.want && r.proc != nil && !r.proc.Running()
			if down && r.exitedAt.IsZero() {
				r.exitedAt = time.Now()
			}
			restart := down && time.Since(r.exitedAt) >= delay
			r.mu.Unlock()
			if !restart {
				continue
			}
			if err := s.startReplica(r); err != nil {
				s.opts.Log("supervisor: restarting %s: %v", r.name, err)
				continue
			}
			r.mu.Lock()
			r.exitedAt = time.Time{}
			r.restarts++
			r.mu.Unlock()
			s.opts.Log("supervisor: restarted %s", r.name)
		}
	}
}

// Restarts counts, per replica name, how often the supervisor restarted it.
func (s *Stack) Restarts() map[string]int {
	out := map[string]int{}
	for _, r := range append(append([]*replica(nil), s.controllers...), s.apis...) {
		r.mu.Lock()
		out[r.name] = r.restarts
		r.mu.Unlock()
	}
	return out
}

// ControllerNames and APINames are the replicas' names, as KillController,
// KillAPI and the log files (NAME.log in Dir) use them.
func (s *Stack) ControllerNames() []string { return names(s.controllers) }

// APINames: see ControllerNames.
func (s *Stack) APINames() []string { return names(s.apis) }

func names(rs []*replica) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.name
	}
	return out
}

// KillController SIGKILLs controller replica i; a supervised stack restarts it.
func (s *Stack) KillController(i int) error { return kill(s.controllers[i]) }

// KillAPI SIGKILLs API replica i; a supervised stack restarts it.
func (s *Stack) KillAPI(i int) error { return kill(s.apis[i]) }

func kill(r *replica) error {
	r.mu.Lock()
	p := r.proc
	r.mu.Unlock()
	if p == nil {
		return fmt.Errorf("%s never started", r.name)
	}
	return p.Kill()
}

// Leader is the index of the controller replica that leads now: the running
// one whose log, since it started, says it acquired the lease; -1 if none.
func (s *Stack) Leader() (int, error) {
	for i, r := range s.controllers {
		r.mu.Lock()
		p, from := r.proc, r.logStart
		r.mu.Unlock()
		if p == nil || !p.Running() {
			continue
		}
		led, err := logContains(s.dir+"/"+r.name+".log", from, acquiredLease)
		if err != nil {
			return -1, err
		}
		if led {
			return i, nil
		}
	}
	return -1, nil
}

// KillLeader SIGKILLs the leading controller replica and returns its index.
func (s *Stack) KillLeader() (int, error) {
	i, err := s.Leader()
	if err != nil {
		return -1, err
	}
	if i < 0 {
		return -1, errors.New("no controller replica leads")
	}
	return i, s.KillController(i)
}

// Lease reads the leader election Lease from the API server.
func (s *Stack) Lease(ctx context.Context) (*coordinationv1.Lease, error) {
	l := &coordinationv1.Lease{}
	return l, s.Client.Get(ctx, LeaderLease, l)
}

func logContains(path string, from int64, what []byte) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer func() { _ = f.Close() }()
	if _, err := f.Seek(from, io.SeekStart); err != nil {
		return false, err
	}
	data, err := io.ReadAll(f)
	return bytes.Contains(data, what), err
}
