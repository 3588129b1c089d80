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

// Package framework starts a real kube-apiserver and etcd (envtest) with the
// asyncjob CRDs installed, for the integration suites of every package.
package framework

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	apiruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/asyncjob/asyncjob/internal/scheme"
)

// Env is a running API server with the asyncjob CRDs installed.
type Env struct {
	Config *rest.Config
	Scheme *apiruntime.Scheme
	// Client talks to the API server directly (no cache), so assertions see
	// what is stored, not what an informer has caught up with.
	Client client.Client

	te *envtest.Environment
}

// StopEtcd stops envtest's etcd, leaving its kube-apiserver running: an
// outage of storage as the API server's clients see it. Nothing restarts it,
// so only a test binary of its own (a child process) should call it.
func (e *Env) StopEtcd() error { return e.te.ControlPlane.Etcd.Stop() }

// Scheme returns a scheme with the built-in types and the asyncjob API.
func Scheme() *apiruntime.Scheme {
	return scheme.New()
}

// RepoRoot is the repository's root directory.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// Start starts envtest for the calling test binary; call it from TestMain and
// call stop when the tests are done (after flag.Parse). Under -short it returns
// a nil Env and a no-op stop, so only unit tests run. Without KUBEBUILDER_ASSETS
// it fails: `make test` provides it.
func Start() (env *Env, stop func(), err error) {
	if testing.Short() {
		return nil, func() {}, nil
	}
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		return nil, nil, errNoAssets
	}
	te := &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join(RepoRoot(), "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
	}
	cfg, err := te.Start()
	if err != nil {
		return nil, nil, err
	}
	s := Scheme()
	c, err := client.New(cfg, client.Options{Scheme: s})
	if err != nil {
		_ = te.Stop()
		return nil, nil, err
	}
	return &Env{Config: cfg, Scheme: s, Client: c, te: te}, func() { _ = te.Stop() }, nil
}

type assetsError struct{}

func (assetsError) Error() string {
	return "KUBEBUILDER_ASSETS is not set: run the integration tests with `make test`, " +
		"which builds kube-apiserver and etcd from source on first use, or pass -short to skip them"
}

var errNoAssets error = assetsError{}
