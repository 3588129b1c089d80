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

package localcluster

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// Process is one child process (of the cluster, or of a stack built on it). It runs in its own process group
// so that stopping it also stops anything it forked, and nothing else.
type Process struct {
	name    string
	dir     string
	bin     string
	args    []string
	cmd     *exec.Cmd
	logPath string
	exited  chan struct{}
	waitErr error
}

// StartProcess starts bin with args, its stdout and stderr appended to
// dir/name.log, so a failing test can point at the component's own log.
func StartProcess(dir, name, bin string, args ...string) (*Process, error) {
	logPath := filepath.Join(dir, name+".log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Setpgid: true,
		// If the test binary or hack/local-cluster dies without running Stop
		// (a panic, SIGKILL, a timed-out `go test`), the kernel kills the
		// child too, so a crash leaves no control plane running.
		Pdeathsig: syscall.SIGKILL,
	}
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &Process{name: name, dir: dir, bin: bin, args: args, cmd: cmd, logPath: logPath, exited: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		_ = logFile.Close()
		close(p.exited)
	}()
	return p, nil
}

// Again starts the same command once more (same arguments, so the same ports
// and data directory), appending to the same log: what a restarted container
// does. The old process must have exited.
func (p *Process) Again() (*Process, error) {
	if p.Running() {
		return nil, fmt.Errorf("%s (pid %d) is still running", p.name, p.PID())
	}
	return StartProcess(p.dir, p.name, p.bin, p.args...)
}

// Name is the name the process was started under (its log is NAME.log).
func (p *Process) Name() string { return p.name }

// Exited is closed once the child has exited.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// PID is the child's process id, which is also its process group id.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Running reports whether the child has not exited yet.
func (p *Process) Running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// ExitError describes how the child ended, pointing at its log.
func (p *Process) ExitError() error {
	return fmt.Errorf("%s exited (%v); end of %s:\n%s", p.name, p.waitErr, p.logPath, logTail(p.logPath))
}

// Stop sends SIGTERM to the child's process group, waits for a graceful
// exit, then SIGKILLs the group. It is safe to call more than once.
func (p *Process) Stop(grace time.Duration) error {
	if !p.Running() {
		return nil
	}
	pgid := p.PID()
	if err := syscall.Kill(-pgid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("stop %s: %w", p.name, err)
	}
	select {
	case <-p.exited:
		return nil
	case <-time.After(grace):
	}
	if err := syscall.Kill(-pgid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("kill %s: %w", p.name, err)
	}
	select {
	case <-p.exited:
		return nil
	case <-time.After(10 * time.Second):
		return fmt.Errorf("%s (pid %d) did not exit after SIGKILL", p.name, pgid)
	}
}

// Kill ends the child's process group with SIGKILL and no warning, as a crash,
// an OOM kill or a lost node would.
func (p *Process) Kill() error {
	if !p.Running() {
		return nil
	}
	if err := syscall.Kill(-p.PID(), syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("kill %s: %w", p.name, err)
	}
	select {
	case <-p.exited:
		return nil
	case <-time.After(10 * time.Second):
		return fmt.Errorf("%s (pid %d) did not exit after SIGKILL", p.name, p.PID())
	}
}
