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
	"embed"
	"os"
	"path/filepath"
)

// stageFiles are kwok's Stage definitions: kwok v0.8.0's own node-fast,
// node-heartbeat and pod-general stages copied verbatim (kwok-*.yaml; the
// pod-general ones include the init-container stages, without which a pod
// with init containers stays Pending), except that kwok's pod-complete is
// replaced by pod-succeed.yaml and pod-fail.yaml, which let a pod choose its
// outcome and run time (see PodBehavior).
//
//go:embed stages/*.yaml
var stageFiles embed.FS

// startKwok writes the stages into dir and runs kwok for the nodes carrying
// the SimulatedNodeAnnotation only, so a real kubelet's node is left alone.
func startKwok(dir, bin, kubeconfig string) (*Process, error) {
	stageDir := filepath.Join(dir, "kwok-stages")
	if err := os.MkdirAll(stageDir, 0o755); err != nil {
		return nil, err
	}
	entries, err := stageFiles.ReadDir("stages")
	if err != nil {
		return nil, err
	}
	args := []string{
		"--kubeconfig=" + kubeconfig,
		"--manage-all-nodes=false",
		"--manage-nodes-with-annotation-selector=" + SimulatedNodeAnnotation + "=" + simulated,
		// Pod IPs are only names on simulated nodes; keep them clear of the
		// service range anyway so nothing looks confusing.
		"--cidr=10.244.0.0/16",
	}
	for _, e := range entries {
		data, err := stageFiles.ReadFile("stages/" + e.Name())
		if err != nil {
			return nil, err
		}
		path := filepath.Join(stageDir, e.Name())
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return nil, err
		}
		args = append(args, "--config="+path)
	}
	return StartProcess(dir, "kwok", bin, args...)
}
