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
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/go-logr/logr"
)

// Run runs cfg.Command to its end and returns the exit code the entrypoint
// should exit with: the command's own (128 + the signal that killed it, as a
// shell does), or one of the Exit* codes when the entrypoint itself failed.
// Signals in ForwardedSignals that reach this process while the command runs
// are passed on to the command's process group. Cancelling ctx kills the
// group.
func Run(ctx context.Context, cfg Config) int {
	cfg = cfg.withDefaults()
	log := cfg.Log.WithName("entrypoint")
	if len(cfg.Command) == 0 {
		writeTermination(cfg, log, "asyncjob-entrypoint: no command to run")
		return ExitUsage
	}

	cb := setUpCallbacks(cfg, log)
	if err := checkFiles(cfg, cb); err != nil {
		log.Error(err, "Invalid configuration")
		writeTermination(cfg, log, "asyncjob-entrypoint: "+err.Error())
		return ExitUsage
	}
	var rep *reporter
	if cb != nil {
		rep = newReporter(cb, cfg.ProgressInterval, log)
	}
	obs := newObserver(log, rep, cfg.FFmpegDuration)
	before, existed := stampOf(cfg.TerminationLog)

	// Registered before the command starts, so that a signal arriving while
	// it starts is forwarded too. Notifying SIGPIPE makes a write to a closed
	// stdout fail instead of killing the entrypoint; the child, started with
	// default handlers, is unaffected.
	signals := make(chan os.Signal, 8)
	signal.Notify(signals, ForwardedSignals...)
	defer signal.Stop(signals)
	pipe := make(chan os.Signal, 1)
	signal.Notify(pipe, syscall.SIGPIPE)
	defer signal.Stop(pipe)

	if len(cfg.Inputs) > 0 {
		tctx, stopWatching := whileTransferring(ctx, signals)
		err := downloadInputs(tctx, cfg, cb, log)
		if sig := stopWatching(); sig != 0 {
			writeTermination(cfg, log, signalledWhile(sig, "downloading the inputs; the command did not run"))
			return 128 + int(sig)
		}
		if err != nil {
			writeTermination(cfg, log, "asyncjob-entrypoint: "+err.Error())
			return ExitFiles
		}
	}

	name := filepath.Base(cfg.Command[0])
	proc, err := startCommand(cfg.Command, cfg.InputsDir, cfg.Stdin, cfg.Stdout, cfg.Stderr, obs, log)
	if err != nil {
		log.Error(err, "Could not start the command", "command", cfg.Command[0])
		why := err
		if inner := errors.Unwrap(err); inner != nil { // without exec's "fork/exec <path>"
			why = inner
		}
		writeTermination(cfg, log, fmt.Sprintf("asyncjob-entrypoint: cannot run %s: %v", cfg.Command[0], why))
		return startFailure(err)
	}

	// Sends end when the flush ends; stopReporting only ends the reporter's
	// loop, letting a request in flight finish.
	sendCtx, cancelSends := context.WithCancel(context.Background())
	defer cancelSends()
	stopReporting := make(chan struct{})
	if rep != nil {
		go rep.run(sendCtx, stopReporting)
	}
	state := proc.wait(ctx, signals)
	close(stopReporting)
	code := exitCode(state)
	commandWrote := wroteItself(cfg.TerminationLog, before, existed)

	// The last progress within FlushTimeout, while the outputs are uploaded
	// (for as long as that takes); then the result, within FlushTimeout.
	flushCtx, cancel := context.WithTimeout(context.Background(), cfg.FlushTimeout)
	defer cancel()
	context.AfterFunc(flushCtx, cancelSends)
	var wg sync.WaitGroup
	if rep != nil {
		wg.Go(func() { rep.flush(flushCtx) })
	}
	var outputsErr error
	var sig syscall.Signal
	if code == 0 && len(cfg.Outputs) > 0 {
		tctx, stopWatching := whileTransferring(ctx, signals)
		outputsErr = uploadOutputs(tctx, cfg, cb, log)
		sig = stopWatching()
	}
	var resultErr error
	if code == 0 && outputsErr == nil && sig == 0 {
		resultCtx, cancel := context.WithTimeout(context.Background(), cfg.FlushTimeout)
		defer cancel()
		wg.Go(func() { resultErr = keepResult(resultCtx, cfg, obs, cb, commandWrote, log) })
	}
	wg.Wait()

	switch {
	case sig != 0:
		writeTermination(cfg, log, signalledWhile(sig, "uploading the outputs"))
		return 128 + int(sig)
	case outputsErr != nil:
		writeTermination(cfg, log, "asyncjob-entrypoint: "+outputsErr.Error())
		return ExitFiles
	case resultErr != nil:
		writeTermination(cfg, log, "asyncjob-entrypoint: "+resultErr.Error())
		return ExitResult
	case code != 0 && !commandWrote:
		writeTermination(cfg, log, failureMessage(describeExit(name, state), obs.lastLines()))
	}
	return code
}

// keepResult finds a successful command's result and delivers it.
func keepResult(ctx context.Context, cfg Config, obs *observer, cb *callbacks, commandWrote bool, log logr.Logger) error {
	result, from, err := pickResult(cfg.ResultFile, commandWrote, obs)
	if err != nil || result == nil {
		return err
	}
	if err := deliverResult(ctx, result, cb, cfg.TerminationLog); err != nil {
		return err
	}
	log.Info("Kept the result", "from", from, "bytes", len(result))
	return nil
}

// setUpCallbacks returns the job's callbacks, or nil (callbacks disabled)
// when they are not configured.
func setUpCallbacks(cfg Config, log logr.Logger) *callbacks {
	var missing []string
	if cfg.CallbackURL == "" {
		missing = append(missing, EnvCallbackURL)
	}
	if cfg.JobID == "" {
		missing = append(missing, EnvJobID)
	}
	if len(missing) > 0 {
		log.Info("Callbacks are disabled: progress is not reported and large results cannot be kept", "unset", strings.Join(missing, ","))
		return nil
	}
	raw, err := os.ReadFile(cfg.TokenFile)
	token := strings.TrimSpace(string(raw))
	if err == nil && token == "" {
		err = errors.New("the file is empty")
	}
	if err != nil {
		log.Info("Callbacks are disabled: no token", "tokenFile", cfg.TokenFile, "error", err.Error())
		return nil
	}
	cb, err := newCallbacks(cfg.CallbackURL, cfg.JobID, token, cfg.HTTPClient, log)
	if err != nil {
		log.Info("Callbacks are disabled", "error", err.Error())
		return nil
	}
	return cb
}

func writeTermination(cfg Config, log logr.Logger, msg string) {
	if err := os.WriteFile(cfg.TerminationLog, []byte(clip(msg, MaxFailureMessageBytes)), 0o644); err != nil {
		log.Error(err, "Could not write the termination message", "path", cfg.TerminationLog)
	}
}
