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
	"fmt"
	"os"
	"path/filepath"
)

// startKubelet runs kubelet against containerd, listening on loopback only.
// kubelet refuses a loopback node IP, so the API server reaches it through
// the node's Hostname address (see the apiserver's
// --kubelet-preferred-address-types), which must resolve to loopback.
func (n *realNode) startKubelet(clusterDir, bin, kubeconfig, nodeName string) (*Process, error) {
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	healthzPort, err := FreePort()
	if err != nil {
		return nil, err
	}
	// cgroupfs and failCgroupV1=false: these machines run cgroup v1 without
	// systemd. Anonymous AlwaysAllow: only the API server, on loopback,
	// calls it.
	config := fmt.Sprintf(`apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
containerRuntimeEndpoint: unix://%s
address: 127.0.0.1
port: %d
healthzBindAddress: 127.0.0.1
healthzPort: %d
readOnlyPort: 0
authentication:
  anonymous:
    enabled: true
  webhook:
    enabled: false
authorization:
  mode: AlwaysAllow
registerNode: true
serializeImagePulls: false
evictionHard:
  memory.available: "1Mi"
  nodefs.available: "1%%"
  imagefs.available: "1%%"
`, n.socket, port, healthzPort)
	configPath := filepath.Join(n.dir, "kubelet.yaml")
	if err := os.WriteFile(configPath, []byte(config), 0o644); err != nil {
		return nil, err
	}
	return StartProcess(clusterDir, "kubelet", bin,
		"--config="+configPath,
		"--kubeconfig="+kubeconfig,
		"--root-dir="+filepath.Join(n.dir, "kubelet"),
		"--cert-dir="+filepath.Join(n.dir, "kubelet-pki"),
		"--hostname-override="+nodeName,
	)
}
