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
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The real node runs containerd, runc and the bridge CNI plugin from Debian's
// packages (hack/real-node-deps.sh installs them) with kubelet, all as
// children of the cluster, with their state in its directory. It needs root,
// and there can be one per machine: kubelet owns the kubepods cgroups.
var realNodeTools = []string{"/usr/bin/containerd", "/usr/bin/ctr", "/usr/sbin/runc", cniBinDir + "/bridge", cniBinDir + "/host-local", cniBinDir + "/loopback"}

const cniBinDir = "/usr/lib/cni" // where Debian's containernetworking-plugins puts them

// RealNodeUnavailable says why this machine cannot run the real node, or
// returns nil. Tests skip with its message.
func RealNodeUnavailable() error {
	if os.Geteuid() != 0 {
		return errors.New("the real node (kubelet, containerd) needs root; run the tests as root")
	}
	for _, tool := range realNodeTools {
		if _, err := os.Stat(tool); err != nil {
			return fmt.Errorf("the real node needs %s: run hack/real-node-deps.sh as root", tool)
		}
	}
	return nil
}

// realNode is the running containerd and kubelet.
type realNode struct {
	dir, socket, bridge string
	kubeProxy           string   // kube-proxy's binary, for its cleanup; "" until started
	lock                *os.File // held from start until cleanup is done
	ffmpeg              ffmpegLoad
}

// startRealNode starts the registry and containerd, imports the pause,
// worker and sample worker images into containerd, then starts kubelet registered as nodeName
// and kube-proxy.
func (c *Cluster) startRealNode(ctx context.Context, bins binaries, nodeName string) error {
	if err := RealNodeUnavailable(); err != nil {
		return err
	}
	lock, err := lockRealNode(ctx)
	if err != nil {
		return err
	}
	n := &realNode{
		dir:    filepath.Join(c.dir, "node"),
		socket: filepath.Join(c.dir, "node", "containerd.sock"),
		bridge: "asyncjob0",
		lock:   lock,
	}
	c.realNode = n
	if err := c.startRegistry(); err != nil {
		return err
	}
	certsDir, err := n.writeRegistryHosts(c.registryHost)
	if err != nil {
		return err
	}
	if err := n.writeContainerdConfig(certsDir); err != nil {
		return err
	}
	containerd, err := StartProcess(c.dir, "containerd", "/usr/bin/containerd", "--config", filepath.Join(n.dir, "containerd.toml"))
	if err := c.track(containerd, err); err != nil {
		return err
	}
	err = WaitReady(ctx, containerd, time.Minute, func(ctx context.Context) bool {
		return exec.CommandContext(ctx, "/usr/bin/ctr", "--address", n.socket, "version").Run() == nil
	})
	if err != nil {
		return err
	}
	for pkg, ref := range map[string]string{
		"github.com/asyncjob/asyncjob/test/localcluster/images/pause":         PauseImage,
		"github.com/asyncjob/asyncjob/test/localcluster/images/worker":        WorkerImage,
		"github.com/asyncjob/asyncjob/test/localcluster/images/sample-worker": SampleWorkerImage,
	} {
		tarPath, err := binaryImage(ctx, n.dir, pkg, ref)
		if err != nil {
			return err
		}
		if err := n.ctr(ctx, "-n", "k8s.io", "images", "import", tarPath); err != nil {
			return err
		}
	}
	kubelet, err := n.startKubelet(c.dir, bins.kubelet, c.kubeconfig, nodeName)
	if err := c.track(kubelet, err); err != nil {
		return err
	}
	cs, err := c.clientset()
	if err != nil {
		return err
	}
	err = WaitReady(ctx, kubelet, 3*time.Minute, func(ctx context.Context) bool {
		node, err := cs.CoreV1().Nodes().Get(ctx, nodeName, metav1.GetOptions{})
		return err == nil && nodeReady(node)
	})
	if err != nil {
		return err
	}
	kubeProxy, err := n.startKubeProxy(ctx, c.dir, bins.kubeProxy, c.kubeconfig, nodeName)
	return c.track(kubeProxy, err)
}

func (n *realNode) ctr(ctx context.Context, args ...string) error {
	out, err := exec.CommandContext(ctx, "/usr/bin/ctr", append([]string{"--address", n.socket}, args...)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ctr %v: %w: %s", args, err, out)
	}
	return nil
}

// writeContainerdConfig keeps containerd's state, socket and CNI
// configuration inside the cluster's directory.
func (n *realNode) writeContainerdConfig(registryHostsDir string) error {
	netDir := filepath.Join(n.dir, "net.d")
	if err := os.MkdirAll(netDir, 0o755); err != nil {
		return err
	}
	conflist := fmt.Sprintf(`{
  "cniVersion": "1.0.0",
  "name": "asyncjob-localcluster",
  "plugins": [
    {"type": "bridge", "bridge": %q, "isGateway": true, "ipMasq": false,
     "ipam": {"type": "host-local", "ranges": [[{"subnet": %q}]], "routes": [{"dst": "0.0.0.0/0"}], "dataDir": %q}},
    {"type": "loopback"}
  ]
}
`, n.bridge, podCIDR, filepath.Join(n.dir, "ipam"))
	if err := os.WriteFile(filepath.Join(netDir, "10-asyncjob.conflist"), []byte(conflist), 0o644); err != nil {
		return err
	}
	// restrict_oom_score_adj: these machines lack CAP_SYS_RESOURCE, and
	// without it runc fails with "can't get final child's PID from pipe: EOF".
	config := fmt.Sprintf(`version = 2
root = %q
state = %q
[grpc]
  address = %q
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = %q
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = %q
    conf_dir = %q
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
    runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = %q
`, filepath.Join(n.dir, "containerd-root"), filepath.Join(n.dir, "containerd-state"), n.socket, PauseImage, cniBinDir, netDir, registryHostsDir)
	return os.WriteFile(filepath.Join(n.dir, "containerd.toml"), []byte(config), 0o644)
}
