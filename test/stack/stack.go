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
	"os/exec"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/asyncjob/asyncjob/internal/httpapi"
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
	// Log receives progress lines; nil is silent.
	Log func(format string, args ...any)
	// ControllerArgs and APIArgs are appended to the controller's and the
	// API's command lines; a flag given again overrides the stack's own.
	ControllerArgs []string
	APIArgs        []string
	// BeforeStart, when set, runs once the cluster, the CRDs and the tenants
	// exist and before the controller and the API start: for files their
	// arguments name (a kubeconfig with another identity, say).
	BeforeStart func(ctx context.Context, s *Stack) error
}

// Stack is a running local cluster with asyncjob installed and running.
type Stack struct {
	Cluster *localcluster.Cluster
	// Client talks to the cluster directly (no cache).
	Client client.Client
	// APIURL is the REST API's base URL, e.g. http://127.0.0.1:8080.
	APIURL string
	// APIMetricsURL is the API's /metrics (its own listener, on a free
	// loopback port chosen at each StartAPI).
	APIMetricsURL string
	// APIKeys maps each tenant to its API key.
	APIKeys map[string]string
	// WorkerTokenKeyFile holds the key that signs job pods' callback tokens:
	// the controller's --worker-token-key-file, and the API's.
	WorkerTokenKeyFile string

	opts       Options
	dir        string
	binary     string
	apiAddress string
	controller *localcluster.Process
	api        *localcluster.Process
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
	if s.binary == "" {
		o.Log("building the asyncjob binary")
		s.binary = filepath.Join(dir, "asyncjob")
		build := exec.CommandContext(ctx, "go", "build", "-o", s.binary, "./cmd")
		build.Dir = framework.RepoRoot()
		if out, err := build.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("go build ./cmd: %w\n%s", err, out)
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
	s.apiAddress = o.APIAddress
	if s.apiAddress == "" {
		if s.apiAddress, err = freeLoopbackAddress(); err != nil {
			return nil, err
		}
	}
	s.APIURL = "http://" + s.apiAddress
	if o.BeforeStart != nil {
		if err = o.BeforeStart(ctx, s); err != nil {
			return nil, err
		}
	}
	if err = s.StartController(ctx); err != nil {
		return nil, err
	}
	if err = s.StartAPI(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Namespace is where a tenant's jobs live.
func Namespace(tenant string) string { return namespacePrefix + tenant }

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

// StartController starts the controller process.
func (s *Stack) StartController(ctx context.Context) error {
	probe, err := freeLoopbackAddress()
	if err != nil {
		return err
	}
	callbackURL := s.opts.CallbackURL
	if callbackURL == "" {
		callbackURL = s.APIURL
	}
	args := []string{"controller",
		"--kubeconfig=" + s.Cluster.Kubeconfig(), "--metrics-bind-address=0", "--health-probe-bind-address=" + probe,
		"--max-concurrent-reconciles=8",
		"--callback-url=" + callbackURL, "--worker-token-key-file=" + s.WorkerTokenKeyFile}
	if s.opts.EntrypointImage != "" {
		args = append(args, "--entrypoint-image="+s.opts.EntrypointImage)
	}
	args = append(args, s.opts.ControllerArgs...)
	s.controller, err = localcluster.StartProcess(s.dir, "controller", s.binary, args...)
	if err != nil {
		return err
	}
	return waitHTTP(ctx, s.controller, "http://"+probe+"/readyz")
}

// StopController stops the controller: gracefully (SIGTERM), or, with crash,
// at once (SIGKILL), as a node failure or an OOM kill would.
func (s *Stack) StopController(crash bool) error {
	return stopProcess(s.controller, crash)
}

// StartAPI starts the REST API process with API-key authentication.
func (s *Stack) StartAPI(ctx context.Context) error {
	metrics, err := freeLoopbackAddress()
	if err != nil {
		return err
	}
	s.APIMetricsURL = "http://" + metrics + "/metrics"
	args := append([]string{"api",
		"--kubeconfig=" + s.Cluster.Kubeconfig(), "--bind-address=" + s.apiAddress, "--metrics-bind-address=" + metrics,
		"--auth-mode=apikey", "--api-keys-secret=" + SystemNamespace + "/" + APIKeysSecret,
		"--tenant-namespace-template=" + namespacePrefix + "{tenant}",
		// Generous limits: the end-to-end suite submits hundreds of jobs at once.
		"--rate-limit=1000", "--rate-burst=2000", "--max-unfinished-jobs=1000"}, s.opts.APIArgs...)
	s.api, err = localcluster.StartProcess(s.dir, "api", s.binary, args...)
	if err != nil {
		return err
	}
	return waitHTTP(ctx, s.api, s.APIURL+"/readyz")
}

// ControllerPID and APIPID are the process ids of the controller and the API
// (0 when not running), for resource measurements.
func (s *Stack) ControllerPID() int { return pidOf(s.controller) }

// APIPID is the REST API's process id; see ControllerPID.
func (s *Stack) APIPID() int { return pidOf(s.api) }

func pidOf(p *localcluster.Process) int {
	if p == nil || !p.Running() {
		return 0
	}
	return p.PID()
}

// StopAPI stops the REST API, gracefully or, with crash, at once.
func (s *Stack) StopAPI(crash bool) error {
	return stopProcess(s.api, crash)
}

// Stop stops the API, the controller and the cluster, and removes the stack's
// directory unless the cluster was asked to keep its own.
func (s *Stack) Stop() error {
	errs := []error{stopProcess(s.api, false), stopProcess(s.controller, false)}
	if s.Cluster != nil {
		errs = append(errs, s.Cluster.Stop())
	}
	if !s.opts.Cluster.KeepDir {
		errs = append(errs, os.RemoveAll(s.dir))
	}
	return errors.Join(errs...)
}

func stopProcess(p *localcluster.Process, crash bool) error {
	if p == nil {
		return nil
	}
	if crash {
		return p.Kill()
	}
	return p.Stop(10 * time.Second)
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
