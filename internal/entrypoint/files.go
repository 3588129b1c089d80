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

package entrypoint

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"

	"github.com/asyncjob/asyncjob/internal/artifact"
)

// checkFiles validates the files' configuration before anything runs, so a
// mistake fails the job at once rather than after the command's work, and
// creates the directories (the controller mounts them; by hand they may not
// exist yet).
func checkFiles(cfg Config, cb *callbacks) error {
	seen := map[string]bool{}
	for _, name := range cfg.Inputs {
		if err := artifact.ValidName(name); err != nil {
			return fmt.Errorf("%s: %w", EnvInputs, err)
		}
		if seen[name] {
			return fmt.Errorf("%s: the input %q is listed twice", EnvInputs, name)
		}
		seen[name] = true
	}
	for _, p := range cfg.Outputs {
		if _, err := filepath.Match(p, ""); p == "" || err != nil {
			return fmt.Errorf("%s: %q is not a path pattern (filepath.Match)", EnvOutputs, p)
		}
	}
	if cb == nil && (len(cfg.Inputs) > 0 || len(cfg.Outputs) > 0) {
		return fmt.Errorf("the job has files (%s, %s) but callbacks are disabled (%s, %s and the token file), so they cannot be transferred", EnvInputs, EnvOutputs, EnvCallbackURL, EnvJobID)
	}
	for _, d := range []struct{ env, dir string }{{EnvInputsDir, cfg.InputsDir}, {EnvOutputsDir, cfg.OutputsDir}} {
		if d.dir == "" {
			continue
		}
		if err := os.MkdirAll(d.dir, 0o755); err != nil {
			return fmt.Errorf("%s: cannot create %s: %v", d.env, d.dir, unwrapPath(err))
		}
	}
	if len(cfg.Inputs) > 0 && cfg.InputsDir == "" {
		return fmt.Errorf("the job has inputs (%s) but no %s to put them in", EnvInputs, EnvInputsDir)
	}
	return nil
}

// stopSignals are the forwarded signals that end a transfer: the command is
// not running, so there is nobody to pass them to, and the pod is going away.
var stopSignals = []os.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT}

// whileTransferring returns a context that ends with ctx or when a stop
// signal arrives on signals, and a function that stops watching and returns
// the signal that arrived (0 if none). Other signals are dropped: there is no
// command to forward them to.
func whileTransferring(ctx context.Context, signals <-chan os.Signal) (context.Context, func() syscall.Signal) {
	ctx, cancel := context.WithCancel(ctx)
	var got syscall.Signal
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-ctx.Done():
				return
			case s := <-signals:
				if sig, ok := s.(syscall.Signal); ok && slices.Contains(stopSignals, s) {
					got = sig
					cancel()
					return
				}
			}
		}
	})
	return ctx, func() syscall.Signal {
		cancel()
		wg.Wait()
		return got
	}
}

// signalledWhile is the termination message of a transfer a signal ended.
func signalledWhile(sig syscall.Signal, doing string) string {
	return fmt.Sprintf("asyncjob-entrypoint: stopped by signal %d (%s) while %s", int(sig), sig, doing)
}
