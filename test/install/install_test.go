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

// Package install proves the README's "Install on a cluster" on the local
// cluster with a real node: the image built and pushed to a registry by
// `make image-push`, the chart installed with `helm install`, a job submitted
// through the API's Service, `helm upgrade` rolling out changed values, and
// `helm uninstall` removing everything but the CRDs.
package install

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/asyncjob/asyncjob/test/framework"
	"github.com/asyncjob/asyncjob/test/localcluster"
)

const (
	release   = "asyncjob"
	namespace = "asyncjob-system"
)

// readmeInstallCommands are the shell lines of the first ```sh block after
// the README's "## Install on a cluster" heading: the test runs exactly
// what the README tells an operator to run.
func readmeInstallCommands(t *testing.T) []string {
	t.Helper()
	f, err := os.Open(filepath.Join(framework.RepoRoot(), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	var cmds []string
	section, block := false, false
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		line := scanner.Text()
		switch {
		case strings.HasPrefix(line, "## "):
			section = line == "## Install on a cluster"
		case section && !block && line == "```sh":
			block = true
		case block && line == "```":
			return cmds
		case block && strings.TrimSpace(line) != "" && !strings.HasPrefix(strings.TrimSpace(line), "#"):
			cmds = append(cmds, line)
		}
	}
	t.Fatal("README.md has no ```sh block under \"## Install on a cluster\"")
	return nil
}

// shell runs a command line the way an operator's shell would, at the
// repository's root, against the cluster, with ./bin (helm, from `make helm`)
// on PATH.
func shell(ctx context.Context, t *testing.T, c *localcluster.Cluster, env []string, line string) {
	t.Helper()
	t.Logf("$ %s", line)
	cmd := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", line)
	cmd.Dir = framework.RepoRoot()
	cmd.Env = append(os.Environ(),
		"KUBECONFIG="+c.Kubeconfig(),
		"PATH="+filepath.Join(framework.RepoRoot(), "bin")+string(os.PathListSeparator)+os.Getenv("PATH"))
	cmd.Env = append(cmd.Env, env...)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", line, err, out)
	}
	t.Logf("(%s)", time.Since(start).Round(time.Second))
}

func helm(ctx context.Context, t *testing.T, c *localcluster.Cluster, args ...string) {
	t.Helper()
	shell(ctx, t, c, nil, "helm "+strings.Join(args, " "))
}

func startCluster(ctx context.Context, t *testing.T) *localcluster.Cluster {
	t.Helper()
	if testing.Short() {
		t.Skip("skipped under -short: starts a local cluster")
	}
	localcluster.SkipWithoutRealNode(t, "installing with Helm")
	c, err := localcluster.Start(ctx, localcluster.Options{RealNode: true})
	if err != nil {
		t.Fatalf("starting the local cluster: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Errorf("stopping the cluster: %v", err)
		}
	})
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(c.LogTails(4000))
			out, _ := exec.Command("bash", "-c", fmt.Sprintf("KUBECONFIG=%s %s get pods -A -o wide; KUBECONFIG=%s %s -n %s logs -l app.kubernetes.io/instance=%s --all-containers --tail=30 --prefix",
				c.Kubeconfig(), kubectlPath, c.Kubeconfig(), kubectlPath, namespace, release)).CombinedOutput()
			t.Logf("--- pods\n%s", out)
		}
	})
	return c
}

var kubectlPath = "kubectl"
