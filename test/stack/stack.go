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

// Package stack runs all of asyncjob on a local cluster: the cluster of
// test/localcluster, the CRDs, a development tenant with an API key, and the
// asyncjob controller and REST API as real processes of the real binary. It is
// what `make dev` starts and what the end-to-end tests run against.
package stack

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/asyncjob/asyncjob/internal/httpapi"
	"github.com/asyncjob/asyncjob/internal/ociimage"
	"github.com/asyncjob/asyncjob/internal/scheme"
	"github.com/asyncjob/asyncjob/test/framework"
	"github.com/asyncjob/asyncjob/test/localcluster"
)

const (
	// SystemNamespace holds the API-key Secret, as an installation would.
	SystemNamespace = "asyncjob-system"
	// APIKeysSecret is the Secret of API-key hashes.
	APIKeysSecret = "asyncjob-api-keys"
	// namespacePrefix maps a tenant to its namespace: tenant "dev" -> "tenant-dev".
	namespacePrefix = "tenant-"
)

// Options configure a stack.
type Options struct {
	// Cluster configures the local cluster.
	Cluster localcluster.Options
	// APIAddress is where the REST API listens; empty picks a free loopback port.
	APIAddress string
	// Tenants get a namespace and an API key each; the first is the default.
	Tenants []string
	// Binary is the asyncjob binary; empty builds ./cmd into the stack's directory.
	Binary string
	// CallbackURL is the API's URL as job pods reach it (the controller's
	// --callback-url); empty: APIURL, which pods on the simulated nodes never
	// call. A real node's pods need an address of the host they can reach.
	CallbackURL string
	// EntrypointImage is the controller's --entrypoint-image, for types with
	// entrypoint Inject; empty: such types are not Ready.
	EntrypointImage string
	// RealNodeWorkers makes the real node's pods full workers (it needs
	// Cluster.RealNode): the project's image, built from the stack's
	// binary, is pushed to the cluster's registry and becomes
	// EntrypointImage, and the API also listens on the address pods reach
	// (Cluster.HostIP), which becomes CallbackURL: both options are replaced.
	RealNodeWorkers bool
	// Log receives progress lines; nil is silent.
	Log func(format string, args ...any)
	// ArtifactStoreURL, when set, is both processes' --artifact-store-url
	// (a gocloud.dev/blob URL: file:///DIR?no_tmp_dir=true, s3://...).
	ArtifactStoreURL string
	// ControllerArgs and APIArgs are appended to the controller's and the
	// API's command lines; a flag given again overrides the stack's own.
	ControllerArgs []string
	APIArgs        []string
	// BeforeStart, when set, runs once the cluster, the CRDs and the tenants
	// exist and before the controller and the API start: for files their
	// arguments name (a kubeconfig with another identity, say), or to add
	// arguments that need the running cluster (AddAPIArgs). APIURL is not
	// set yet.
	BeforeStart func(ctx context.Context, s *Stack) error
	// ControllerReplicas and APIReplicas are how many controller and API
	// processes run (0 means 1). With more than one controller they elect a
	// leader (--leader-elect, Lease LeaderLease); each API replica listens
	// on its own address (APIURLs).
	ControllerReplicas int
	APIReplicas        int
	// Supervise restarts, after RestartDelay (0: one second), any controller
	// or API process that exits without being stopped through the Stack,
	// as a Deployment's kubelet would: what a chaos test needs after it
	// SIGKILLs one (KillController, KillAPI, KillLeader).
	Supervise    bool
	RestartDelay time.Duration
}

// Stack is a running local cluster with asyncjob installed and running.
type Stack struct {
	Cluster *localcluster.Cluster
	// Client talks to the cluster directly (no cache).
	Client client.Client
	// APIURL is the REST API's base URL, e.g. http://127.0.0.1:8080: the
	// first replica's.
	APIURL string
	// APIURLs are every API replica's base URL, APIURL first.
	APIURLs []string
	// APIMetricsURL is the first API replica's /metrics (its own listener,
	// on a loopback port chosen once); APIMetricsURLs are every replica's.
	APIMetricsURL  string
	APIMetricsURLs []string
	// APIKeys maps each tenant to its API key.
	APIKeys map[string]string
	// WorkerTokenKeyFile holds the key that signs job pods' callback tokens:
	// the controller's --worker-token-key-file, and the API's.
	WorkerTokenKeyFile string

	opts        Options
	dir         string
	binary      string
	controllers []*replica
	apis        []*replica
	// stopSupervisor ends the supervisor (Options.Supervise), which closes
	// supervisorDone.
	stopSupervisor chan struct{}
	supervisorDone chan struct{}
	// bindAddress, when set, is where the first API replica listens instead
	// of its loopback address: every interface on its port with RealNodeWorkers.
	bindAddress string
}

// Start brings everything up; on error, whatever started is stopped.
func Start(ctx context.Context, o Options) (s *Stack, err error) {
	if len(o.Tenants) == 0 {
		o.Tenants = []string{"dev"}
	}
	if o.Log == nil {
		o.Log = func(string, ...any) {}
	}
	dir, err := os.MkdirTemp("", "asyncjob-stack-")
	if err != nil {
		return nil, err
	}
	s = &Stack{opts: o, dir: dir, binary: o.Binary, APIKeys: map[string]string{}}
	defer func() {
		if err != nil {
			_ = s.Stop()
		}
	}()
	if o.RealNodeWorkers && !o.Cluster.RealNode {
		return nil, errors.New("stack: RealNodeWorkers needs Cluster.RealNode")
	}
	if s.binary == "" {
		o.Log("building the asyncjob binary")
		// Static, as in the project's image: RealNodeWorkers puts it there.
		s.binary = filepath.Join(dir, "asyncjob")
		if err := ociimage.BuildBinary(ctx, framework.RepoRoot(), "./cmd", s.binary, ""); err != nil {
			return nil, err
		}
	}
	o.Log("starting the local cluster (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok)")
	if s.Cluster, err = localcluster.Start(ctx, o.Cluster); err != nil {
		return nil, err
	}
	if s.Client, err = client.New(s.Cluster.Config(), client.Options{Scheme: scheme.New()}); err != nil {
		return nil, err
	}
	o.Log("installing the CRDs")
	if _, err = envtest.InstallCRDs(s.Cluster.Config(), envtest.CRDInstallOptions{
		Paths: []string{filepath.Join(framework.RepoRoot(), "config", "crd", "bases")}, ErrorIfPathMissing: true,
	}); err != nil {
		return nil, fmt.Errorf("installing CRDs: %w", err)
	}
	if err = s.createTenants(ctx); err != nil {
		return nil, err
	}
	if s.WorkerTokenKeyFile, err = writeWorkerTokenKey(dir); err != nil {
		return nil, err
	}
	if o.RealNodeWorkers {
		// Pods on the real node call the first API replica back: it needs a
		// known port before the replicas are defined.
		if s.opts.APIAddress == "" {
			if s.opts.APIAddress, err = freeLoopbackAddress(); err != nil {
				return nil, err
			}
		}
		if err = s.setUpRealNodeWorkers(ctx); err != nil {
			return nil, err
		}
	}
	if o.BeforeStart != nil {
		if err = o.BeforeStart(ctx, s); err != nil {
			return nil, err
		}
	}
	s.artifactStoreArgs()
	if err = s.defineReplicas(); err != nil {
		return nil, err
	}
	if err = s.StartController(ctx); err != nil {
		return nil, err
	}
	if err = s.StartAPI(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// AddAPIArgs appends args to the API's command line, from BeforeStart: a
// --kubeconfig through a localcluster.Proxy, say.
func (s *Stack) AddAPIArgs(args ...string) { s.opts.APIArgs = append(s.opts.APIArgs, args...) }

// Namespace is where a tenant's jobs live.
func Namespace(tenant string) string { return namespacePrefix + tenant }

// Binary is the asyncjob binary the stack runs, for a test's extra process.
func (s *Stack) Binary() string { return s.binary }

// Dir holds the stack's logs (controller.log, api.log) and the cluster's.
func (s *Stack) Dir() string { return s.dir }

// createTenants creates each tenant's namespace and the Secret of their API
// keys' hashes; the keys themselves exist only in this process.
func (s *Stack) createTenants(ctx context.Context) error {
	hashes := map[string]string{}
	for _, tenant := range s.opts.Tenants {
		key, err := randomKey()
		if err != nil {
			return err
		}
		s.APIKeys[tenant] = key
		hashes[tenant] = httpapi.HashAPIKey(key)
		if err := s.createIfMissing(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: Namespace(tenant)}}); err != nil {
			return err
		}
	}
	if err := s.createIfMissing(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: SystemNamespace}}); err != nil {
		return err
	}
	return s.createIfMissing(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: APIKeysSecret, Namespace: SystemNamespace},
		StringData: hashes,
	})
}

func (s *Stack) createIfMissing(ctx context.Context, o client.Object) error {
	if err := s.Client.Create(ctx, o); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating %T %s: %w", o, o.GetName(), err)
	}
	return nil
}

// StartController starts every controller replica that is not running and
// waits until each is ready (not until one leads).
func (s *Stack) StartController(ctx context.Context) error {
	return s.startAll(ctx, s.controllers)
}

// StopController stops every controller replica: gracefully (SIGTERM), or,
// with crash, at once (SIGKILL), as a node failure or an OOM kill would. A
// supervised stack does not restart them; StartController does.
func (s *Stack) StopController(crash bool) error {
	return stopAll(s.controllers, crash)
}

// StartAPI starts every REST API replica that is not running and waits until
// each is ready.
func (s *Stack) StartAPI(ctx context.Context) error {
	return s.startAll(ctx, s.apis)
}

// ControllerPID and APIPID are the process ids of the (first) controller and
// API (0 when not running), for resource measurements.
func (s *Stack) ControllerPID() int { return s.controllers[0].pid() }

// APIPID is the first REST API replica's process id; see ControllerPID.
func (s *Stack) APIPID() int { return s.apis[0].pid() }

// StopAPI stops every REST API replica, gracefully or, with crash, at once.
func (s *Stack) StopAPI(crash bool) error {
	return stopAll(s.apis, crash)
}

// Stop stops the API, the controller and the cluster, and removes the stack's
// directory unless the cluster was asked to keep its own.
func (s *Stack) Stop() error {
	if s.stopSupervisor != nil {
		close(s.stopSupervisor)
		<-s.supervisorDone
		s.stopSupervisor = nil
	}
	errs := []error{stopAll(s.apis, false), stopAll(s.controllers, false)}
	if s.Cluster != nil {
		errs = append(errs, s.Cluster.Stop())
	}
	if !s.opts.Cluster.KeepDir {
		errs = append(errs, os.RemoveAll(s.dir))
	}
	return errors.Join(errs...)
}

// waitHTTP waits for url to answer 200, failing early if the process exits.
func waitHTTP(ctx context.Context, p *localcluster.Process, url string) error {
	return localcluster.WaitReady(ctx, p, 2*time.Minute, func(ctx context.Context) bool {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return false
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		_ = resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

func freeLoopbackAddress() (string, error) {
	port, err := localcluster.FreePort()
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("127.0.0.1:%d", port), nil
}

// writeWorkerTokenKey writes a fresh worker token key (32 random bytes, hex)
// into dir, readable by this user only.
func writeWorkerTokenKey(dir string) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	path := filepath.Join(dir, "worker-token.key")
	return path, os.WriteFile(path, []byte(hex.EncodeToString(b)), 0o600)
}

func randomKey() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return "ajk_" + hex.EncodeToString(b), nil
}
