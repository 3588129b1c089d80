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

package controller

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/asyncjob/asyncjob/test/framework"
)

// env is the envtest API server shared by this package's integration tests;
// nil when they are skipped (go test -short without KUBEBUILDER_ASSETS).
var env *framework.Env

func TestMain(m *testing.M) {
	flag.Parse() // framework.Start asks testing.Short()
	ctrl.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.UseDevMode(true), zap.Level(zapLevel())))
	e, stop, err := framework.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, "envtest:", err)
		os.Exit(1)
	}
	env = e
	code := m.Run()
	stop()
	os.Exit(code)
}

// zapLevel keeps test output quiet unless ASYNCJOB_TEST_VERBOSE is set.
func zapLevel() zapcore.Level {
	if os.Getenv("ASYNCJOB_TEST_VERBOSE") != "" {
		return -1
	}
	return 2
}

func needEnv(t *testing.T) {
	t.Helper()
	if env == nil {
		t.Skip("integration test: needs envtest (run `make test`)")
	}
}

// startController runs a manager with the asyncjob controllers until the
// returned stop is called (also at the end of the test).
func startController(t *testing.T) (stop func()) {
	t.Helper()
	return startControllerWith(t, Options{MaxConcurrentReconciles: 2})
}

// startControllerWith is startController with options of the test's own.
func startControllerWith(t *testing.T, opts Options) (stop func()) {
	t.Helper()
	_, stop = startManagerWith(t, opts)
	return stop
}

// startManagerWith is startControllerWith that also returns the running manager.
func startManagerWith(t *testing.T, opts Options) (_ ctrl.Manager, stop func()) {
	t.Helper()
	var mgr ctrl.Manager
	stop = env.StartManager(t, CacheOptions(), func(m ctrl.Manager) error {
		mgr = m
		return Setup(m, opts)
	})
	return mgr, stop
}

var nsCounter atomic.Int32

// newNamespace creates a namespace of the test's own, with the default service
// account that pods need (envtest runs no service account controller).
func newNamespace(t *testing.T) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("t%d-%d", time.Now().UnixNano()%100000, nsCounter.Add(1))}}
	mustCreate(t, ns)
	mustCreate(t, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: ns.Name}})
	return ns.Name
}

func mustCreate(t *testing.T, o client.Object) {
	t.Helper()
	if err := env.Client.Create(context.Background(), o); err != nil {
		t.Fatalf("creating %T %s: %v", o, o.GetName(), err)
	}
}

// eventually polls cond until it returns nil or the timeout passes, then fails
// the test with cond's last error. Timeouts are generous: they bound a hang,
// they do not measure speed.
func eventually(t *testing.T, what string, cond func(ctx context.Context) error) {
	t.Helper()
	eventuallyWithin(t, what, 30*time.Second, cond)
}

// eventuallyWithin is eventually with a bound of its own, for what waits on
// one of the controller's own delays (which the default bound would not cover).
func eventuallyWithin(t *testing.T, what string, timeout time.Duration, cond func(ctx context.Context) error) {
	t.Helper()
	var last error
	err := wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, timeout, true,
		func(ctx context.Context) (bool, error) {
			err := cond(ctx)
			if err != nil && ctx.Err() != nil && last != nil {
				return false, nil // the deadline cut this try short: keep the last real answer
			}
			last = err
			return err == nil, nil
		})
	if err != nil {
		t.Fatalf("%s: %v", what, last)
	}
}

// consistently checks that cond keeps returning nil for d.
func consistently(t *testing.T, what string, d time.Duration, cond func(ctx context.Context) error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if err := cond(context.Background()); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
