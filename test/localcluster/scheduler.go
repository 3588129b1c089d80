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
	"fmt"
	"time"
)

// startScheduler runs kube-scheduler, which binds pods to the simulated (and
// real) nodes exactly as in a production cluster.
func startScheduler(ctx context.Context, dir, bin, kubeconfig string) (*Process, error) {
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	p, err := StartProcess(dir, "kube-scheduler", bin,
		"--kubeconfig="+kubeconfig,
		"--authentication-kubeconfig="+kubeconfig,
		"--authorization-kubeconfig="+kubeconfig,
		"--leader-elect=false",
		"--bind-address=127.0.0.1",
		fmt.Sprintf("--secure-port=%d", port),
	)
	if err != nil {
		return nil, err
	}
	return p, WaitReady(ctx, p, 2*time.Minute, healthz(port))
}
