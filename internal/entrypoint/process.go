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
	"io"
	"io/fs"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/go-logr/logr"
)

// ForwardedSignals are the signals the entrypoint passes on to the command's
// process group: every catchable one that asks a process to stop, reload or
// act, as tini and dumb-init forward them. Not forwarded: the synchronous
// faults (SIGSEGV, SIGBUS, ...), SIGCHLD and SIGPIPE (about the entrypoint
// itself), job control (SIGTSTP, SIGTTIN, SIGTTOU: a pod has no terminal to
// stop for), and SIGURG and SIGPROF, which the Go runtime uses for itself.
var ForwardedSignals = []os.Signal{
	syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT,
	syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGALRM, syscall.SIGWINCH,
}

// outputDrainTimeout is how long the output is still read after the command
// exited: a process it left behind may hold its stdout open.
const outputDrainTimeout = 2 * time.Second

// Exit codes of the entrypoint's own failures, as a shell has them.
const (
	ExitUsage         = 2   // bad configuration; the command did not run
	ExitCannotExecute = 126 // the command exists but cannot be run
	ExitNotFound      = 127 // the command does not exist
	// ExitResult: the command succeeded, but its result could not be kept.
	ExitResult = 1
	// ExitFiles: an input could not be downloaded (the command did not run),
	// or the command succeeded but an output could not be uploaded.
	ExitFiles = 1
)

// process is the running command with the goroutines copying its output.
type process struct {
	cmd     *exec.Cmd
	readers []*os.File
	copied  chan struct{} // one value per output stream copied to its end
	log     logr.Logger
}

// startCommand starts argv in dir (empty: the entrypoint's own working
// directory) in its own process group (so that signals reach every process it
// starts), copying its stdout and stderr through obs.
func startCommand(argv []string, dir string, stdin io.Reader, stdout, stderr io.Writer, obs *observer, log logr.Logger) (*process, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Stdin = stdin
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// Pipes of our own, rather than exec's copying goroutines, so that Wait
	// returns when the command exits even if something it started keeps the
	// pipes open.
	outR, outW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		closeAll(outR, outW)
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = outW, errW
	err = cmd.Start()
	closeAll(outW, errW) // the child has its copies
	if err != nil {
		closeAll(outR, errR)
		return nil, err
	}
	p := &process{cmd: cmd, readers: []*os.File{outR, errR}, copied: make(chan struct{}, 2), log: log}
	go func() { copyLines(outR, stdout, MaxResultBytes+1, obs.stdoutLine); p.copied <- struct{}{} }()
	go func() { copyLines(errR, stderr, MaxResultBytes+1, obs.stderrLine); p.copied <- struct{}{} }()
	return p, nil
}

// wait forwards signals to the process group until the command exits, then
// waits for its output to be copied. Cancelling ctx kills the group.
func (p *process) wait(ctx context.Context, signals <-chan os.Signal) *os.ProcessState {
	exited := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(exited) }()
	pgid := p.cmd.Process.Pid
	for done := false; !done; {
		select {
		case s := <-signals:
			sig, ok := s.(syscall.Signal)
			if !ok {
				continue
			}
			p.log.Info("Forwarding a signal to the command", "signal", s.String())
			if err := syscall.Kill(-pgid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
				p.log.Error(err, "Could not forward a signal", "signal", s.String())
			}
		case <-ctx.Done():
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			ctx = context.Background() // kill once; a nil Done never fires again
		case <-exited:
			done = true
		}
	}
	deadline := time.After(outputDrainTimeout)
	for copied := 0; copied < len(p.readers); copied++ {
		select {
		case <-p.copied:
		case <-deadline:
			p.log.Info("The command exited, but a process it started still holds its output open; no longer reading it")
			for _, r := range p.readers {
				_ = r.SetReadDeadline(time.Now())
			}
			for ; copied < len(p.readers); copied++ {
				<-p.copied
			}
		}
	}
	closeAll(p.readers...)
	return p.cmd.ProcessState
}

// exitCode is the code a shell would report for the command: its exit code,
// or 128 + the signal that killed it.
func exitCode(state *os.ProcessState) int {
	if ws, ok := state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return state.ExitCode()
}

// describeExit says how the command ended, for the failure message.
func describeExit(name string, state *os.ProcessState) string {
	if ws, ok := state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return fmt.Sprintf("%s was killed by signal %d (%s), exit code %d", name, int(ws.Signal()), ws.Signal(), exitCode(state))
	}
	return fmt.Sprintf("%s exited with code %d", name, state.ExitCode())
}

// startFailure maps an error starting the command to a shell's exit code.
func startFailure(err error) int {
	if errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist) {
		return ExitNotFound
	}
	return ExitCannotExecute
}

func closeAll(files ...*os.File) {
	for _, f := range files {
		_ = f.Close()
	}
}
