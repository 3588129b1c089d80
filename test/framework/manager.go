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

package framework

import (
	"context"
	"sync"
	"testing"

	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
)

// StartManager runs a controller-runtime manager against the Env until the
// returned stop is called, or the test ends. setup registers the controllers
// (for asyncjob: controller.Setup with the options the test wants); cacheOpts
// is the manager's cache configuration (controller.CacheOptions()). The
// framework takes both as arguments so that it does not import the controller
// package, whose own tests use it. tweaks change the manager's options
// further (leader election, for a test of a leader change).
func (e *Env) StartManager(t testing.TB, cacheOpts cache.Options, setup func(manager.Manager) error, tweaks ...func(*manager.Options)) (stop func()) {
	t.Helper()
	opts := manager.Options{
		Scheme:  e.Scheme,
		Cache:   cacheOpts,
		Metrics: metricsserver.Options{BindAddress: "0"},
		// Tests start a manager each, so controller names repeat.
		Controller: config.Controller{SkipNameValidation: ptr.To(true)},
	}
	for _, tweak := range tweaks {
		tweak(&opts)
	}
	mgr, err := manager.New(e.Config, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := setup(mgr); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("manager: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}
