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
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestExitCodes(t *testing.T) {
	for _, tc := range []struct {
		name, script string
		want         int
		message      string // the termination message starts with it
	}{
		{"success", "exit 0", 0, ""},
		{"failure", "echo 'disk full' >&2; exit 3", 3, "sh exited with code 3\ndisk full"},
		{"killed", "kill -KILL $$", 128 + 9, "sh was killed by signal 9 (killed), exit code 137"},
		{"terminated", "kill -TERM $$", 128 + 15, "sh was killed by signal 15 (terminated), exit code 143"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newTestRun(t, nil, tc.script)
			if got := Run(context.Background(), r.cfg); got != tc.want {
				t.Errorf("exit code %d, want %d", got, tc.want)
			}
			if got := r.termination(t); !strings.HasPrefix(got, tc.message) || (tc.message == "") != (got == "") {
				t.Errorf("termination message %q, want it to start with %q", got, tc.message)
			}
		})
	}
}

func TestCommandThatCannotStart(t *testing.T) {
	dir := t.TempDir()
	notExecutable := filepath.Join(dir, "script")
	if err := os.WriteFile(notExecutable, []byte("#!/bin/sh\nexit 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		command []string
		want    int
		message string
	}{
		{"not found", []string{"no-such-command-anywhere"}, ExitNotFound, "asyncjob-entrypoint: cannot run no-such-command-anywhere: executable file not found in $PATH"},
		{"no such path", []string{filepath.Join(dir, "missing")}, ExitNotFound, "asyncjob-entrypoint: cannot run " + filepath.Join(dir, "missing") + ": "},
		{"not executable", []string{notExecutable}, ExitCannotExecute, "asyncjob-entrypoint: cannot run " + notExecutable + ": permission denied"},
		{"no command", nil, ExitUsage, "asyncjob-entrypoint: no command to run"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newTestRun(t, nil, "")
			r.cfg.Command = tc.command
			if got := Run(context.Background(), r.cfg); got != tc.want {
				t.Errorf("exit code %d, want %d", got, tc.want)
			}
			if got := r.termination(t); !strings.HasPrefix(got, tc.message) {
				t.Errorf("termination message %q, want it to start with %q", got, tc.message)
			}
		})
	}
}

// forwardingScript traps sig in the command and in a process it starts in the
// background (same process group), each writing a marker when it arrives.
// The command waits (at most 10 s, so that a failure does not hang the test)
// for its child's marker before it exits.
const forwardingScript = `dir=$1; sig=$2
( trap 'echo got > "$dir/child"; exit 0' "$sig"; : > "$dir/child-ready"; while :; do sleep 0.05; done ) &
trap 'echo got > "$dir/parent"; i=0; while [ ! -f "$dir/child" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; exit 7' "$sig"
while [ ! -f "$dir/child-ready" ]; do sleep 0.05; done
: > "$dir/ready"
while :; do sleep 0.05; done
`

// TestForwardsSignalsToTheProcessGroup sends real signals to this test
// process, as the kubelet sends them to the container's first process; Run
// must pass them on to every process of the command's group.
func TestForwardsSignalsToTheProcessGroup(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGUSR2} {
		name := strings.TrimPrefix(strings.ToUpper(sigName(sig)), "SIG")
		t.Run(name, func(t *testing.T) {
			r := newTestRun(t, nil, forwardingScript)
			r.cfg.Command = append(r.cfg.Command, name)
			done := make(chan int)
			go func() { done <- Run(context.Background(), r.cfg) }()
			waitForFile(t, filepath.Join(r.dir, "ready")) // so Run has registered for signals
			if err := syscall.Kill(os.Getpid(), sig); err != nil {
				t.Fatal(err)
			}
			if got := <-done; got != 7 {
				t.Errorf("exit code %d, want 7 (the command's own, from its trap)", got)
			}
			for _, marker := range []string{"parent", "child"} {
				if b, err := os.ReadFile(filepath.Join(r.dir, marker)); err != nil || string(b) != "got\n" {
					t.Errorf("the %s process did not get %s: %q, %v", marker, name, b, err)
				}
			}
		})
	}
}

func sigName(s syscall.Signal) string {
	return map[syscall.Signal]string{syscall.SIGTERM: "term", syscall.SIGHUP: "hup", syscall.SIGUSR1: "usr1", syscall.SIGUSR2: "usr2"}[s]
}

func TestCancelKillsTheProcessGroup(t *testing.T) {
	r := newTestRun(t, nil, `: > "$1/ready"; while :; do sleep 0.05; done`)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	go func() { done <- Run(ctx, r.cfg) }()
	waitForFile(t, filepath.Join(r.dir, "ready"))
	cancel()
	if got := <-done; got != 128+9 {
		t.Errorf("exit code %d, want 137 (SIGKILL)", got)
	}
}

// TestLeftoverProcessHoldingOutput: the command exits but leaves a process
// that keeps its stdout open; Run still ends, with the command's exit code.
func TestLeftoverProcessHoldingOutput(t *testing.T) {
	r := newTestRun(t, nil, `sleep 300 & echo $! > "$1/pid"; echo started; exit 4`)
	got := Run(context.Background(), r.cfg)
	if b, err := os.ReadFile(filepath.Join(r.dir, "pid")); err == nil {
		var pid int
		for _, c := range strings.TrimSpace(string(b)) {
			pid = pid*10 + int(c-'0')
		}
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	if got != 4 {
		t.Errorf("exit code %d, want 4", got)
	}
	if out := r.stdout.String(); out != "started\n" {
		t.Errorf("stdout %q, want %q", out, "started\n")
	}
}
