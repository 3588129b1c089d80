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
	"bufio"
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
)

// cleanup ends what outlives kubelet and containerd, once both are stopped:
// the pods' processes (in kubelet's kubepods cgroups), containerd's shims
// (found by the socket path unique to this cluster), kube-proxy's iptables
// rules, the mounts kubelet and containerd made under the directory, and the
// CNI bridge.
func (n *realNode) cleanup() error {
	var errs []error
	// Pods first, while their shims still reap them; then the shims.
	killed := append(kubepodsPIDs(), shimPIDs(n.socket)...)
	for _, pid := range killed {
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
			errs = append(errs, err)
		}
	}
	errs = append(errs, n.cleanupKubeProxy())
	errs = append(errs, unmountUnder(n.dir))
	if _, err := os.Stat("/sys/class/net/" + n.bridge); err == nil {
		if out, err := exec.Command("ip", "link", "delete", n.bridge).CombinedOutput(); err != nil {
			errs = append(errs, errors.New("ip link delete "+n.bridge+": "+string(out)))
		}
	}
	errs = append(errs, n.lock.Close())
	return errors.Join(errs...)
}

// kubepodsPIDs lists every process in kubelet's pod cgroups (v1 or v2).
func kubepodsPIDs() []int {
	seen := map[int]bool{}
	roots, _ := filepath.Glob("/sys/fs/cgroup/*/kubepods*")
	more, _ := filepath.Glob("/sys/fs/cgroup/kubepods*")
	for _, root := range append(roots, more...) {
		_ = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || d.Name() != "cgroup.procs" {
				return nil
			}
			data, _ := os.ReadFile(path)
			for _, field := range strings.Fields(string(data)) {
				if pid, err := strconv.Atoi(field); err == nil {
					seen[pid] = true
				}
			}
			return nil
		})
	}
	pids := make([]int, 0, len(seen))
	for pid := range seen {
		pids = append(pids, pid)
	}
	return pids
}

// shimPIDs lists containerd shims started for the containerd at socket.
func shimPIDs(socket string) []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := bytes.Split(cmdline, []byte{0})
		if len(args) > 0 && strings.Contains(string(args[0]), "containerd-shim") && bytes.Contains(cmdline, []byte(socket)) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// unmountUnder unmounts every mount point below dir, deepest first, so the
// directory can be removed.
func unmountUnder(dir string) error {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return err
	}
	defer func() { _ = f.Close() }()
	var points []string
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		fields := strings.Fields(scanner.Text())
		if len(fields) > 4 && strings.HasPrefix(fields[4], dir+"/") {
			points = append(points, fields[4])
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(points)))
	var errs []error
	for _, p := range points {
		if err := syscall.Unmount(p, syscall.MNT_DETACH); err != nil && !errors.Is(err, syscall.EINVAL) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
