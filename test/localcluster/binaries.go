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
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/asyncjob/asyncjob/test/framework"
)

// binaries are the executables a cluster runs.
type binaries struct {
	etcd, apiServer, controllerManager, scheduler, kubelet, kubeProxy, kwok, kueue string
}

// findBinaries returns the pinned binaries, building them from source into
// the cache outside the repository on first use (minutes) through the
// repository's scripts, so tests, `make dev` and CI share one build.
func findBinaries(ctx context.Context, o Options) (binaries, error) {
	components := []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"}
	if o.RealNode {
		components = append(components, "kubelet", "kube-proxy")
	}
	dir := o.BinDir
	if dir == "" {
		out, err := runScript(ctx, "k8s-binaries.sh", components...)
		if err != nil {
			return binaries{}, err
		}
		dir = out
	}
	kwok := o.KwokBinary
	if kwok == "" {
		out, err := runScript(ctx, "kwok.sh")
		if err != nil {
			return binaries{}, err
		}
		kwok = out
	}
	b := binaries{
		etcd:              filepath.Join(dir, "etcd"),
		apiServer:         filepath.Join(dir, "kube-apiserver"),
		controllerManager: filepath.Join(dir, "kube-controller-manager"),
		scheduler:         filepath.Join(dir, "kube-scheduler"),
		kwok:              kwok,
	}
	if o.Kueue {
		if b.kueue = o.KueueBinary; b.kueue == "" {
			out, err := runScript(ctx, "kueue.sh")
			if err != nil {
				return binaries{}, err
			}
			b.kueue = out
		}
	}
	if o.RealNode {
		b.kubelet = filepath.Join(dir, "kubelet")
		b.kubeProxy = filepath.Join(dir, "kube-proxy")
	}
	for _, path := range []string{b.etcd, b.apiServer, b.controllerManager, b.scheduler, b.kwok, b.kubelet, b.kubeProxy, b.kueue} {
		if path == "" {
			continue
		}
		if _, err := os.Stat(path); err != nil {
			return binaries{}, fmt.Errorf("binary missing: %w", err)
		}
	}
	return b, nil
}

// runScript runs hack/NAME and returns the last line of its stdout; its
// progress goes to our stderr, since a cold build takes minutes.
func runScript(ctx context.Context, name string, args ...string) (string, error) {
	var stdout bytes.Buffer
	cmd := exec.CommandContext(ctx, filepath.Join(framework.RepoRoot(), "hack", name), args...)
	cmd.Stdout = &stdout
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("hack/%s: %w", name, err)
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	return strings.TrimSpace(lines[len(lines)-1]), nil
}

// Kubectl returns kubectl of the cluster's own version, built from source like
// the rest of the control plane (and cached with it).
func Kubectl(ctx context.Context) (string, error) {
	dir, err := runScript(ctx, "k8s-binaries.sh", "kubectl")
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "kubectl"), nil
}
