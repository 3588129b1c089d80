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

package localcluster_test

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/asyncjob/asyncjob/test/localcluster"
)

var (
	pidLine = regexp.MustCompile(`^local-cluster:\s+(\S+) pid (\d+)$`)
	dirLine = regexp.MustCompile(`logs in (\S+);`)
)

// TestCrashedOwnerLeavesNothingRunning SIGKILLs a `local-cluster up`, so its
// Stop never runs: its children must die with it, and the next Start must
// work and remove the directory it left.
func TestCrashedOwnerLeavesNothingRunning(t *testing.T) {
	skipIfShort(t)
	bin := filepath.Join(t.TempDir(), "local-cluster")
	build := exec.Command("go", "build", "-o", bin, "./hack/local-cluster")
	build.Dir = filepath.Join("..", "..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v: %s", err, out)
	}

	owner := exec.Command(bin, "up", "--nodes", "1")
	stderr, err := owner.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := owner.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = owner.Process.Kill(); _ = owner.Wait() })

	pids := map[string]int{}
	var dir string
	scanner := bufio.NewScanner(stderr)
	// Stop reading after the fifth pid: the owner prints nothing more.
	for len(pids) < 5 && scanner.Scan() {
		line := scanner.Text()
		if m := dirLine.FindStringSubmatch(line); m != nil {
			dir = m[1]
		}
		if m := pidLine.FindStringSubmatch(line); m != nil {
			pid, _ := strconv.Atoi(m[2])
			pids[m[1]] = pid
		}
	}
	if len(pids) < 5 || dir == "" {
		t.Fatalf("local-cluster up did not report its directory and five processes (got %v, %q)", pids, dir)
	}

	if err := owner.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = owner.Wait()
	err = wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, eventually, true, func(context.Context) (bool, error) {
		for _, pid := range pids {
			if running(pid) {
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		t.Errorf("children still running after their owner was killed: %v", pids)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	c, err := localcluster.Start(ctx, localcluster.Options{})
	if err != nil {
		t.Fatalf("start after a crash: %v", err)
	}
	defer func() { _ = c.Stop() }()
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the crashed cluster's directory %s was not removed by the next Start (err %v)", dir, err)
	}
}

// running reports whether pid exists and is not a zombie waiting for PID 1
// to reap it (the killed owner can no longer do so).
func running(pid int) bool {
	stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return false
	}
	// The state follows the parenthesized command name.
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	return len(fields) > 0 && fields[0] != "Z"
}
