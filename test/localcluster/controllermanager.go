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
	"crypto/tls"
	"fmt"
	"net/http"
	"time"
)

// ControllerManagerOptions are kube-controller-manager's client and Job
// controller throughput settings. The defaults of kube-controller-manager
// itself (qps 20, burst 30) hold the Job controller to about 9 pods/s, so
// they are settable: tests go fast, benchmarks can compare.
type ControllerManagerOptions struct {
	KubeAPIQPS         int // --kube-api-qps; 0 means 100
	KubeAPIBurst       int // --kube-api-burst; 0 means 200
	ConcurrentJobSyncs int // --concurrent-job-syncs; 0 means 10
}

func (o ControllerManagerOptions) withDefaults() ControllerManagerOptions {
	if o.KubeAPIQPS == 0 {
		o.KubeAPIQPS = 100
	}
	if o.KubeAPIBurst == 0 {
		o.KubeAPIBurst = 200
	}
	if o.ConcurrentJobSyncs == 0 {
		o.ConcurrentJobSyncs = 10
	}
	return o
}

// startControllerManager runs every controller, the Job controller and the
// garbage collector among them, which envtest lacks.
func startControllerManager(ctx context.Context, dir, bin, kubeconfig string, creds *credentials, o ControllerManagerOptions) (*Process, error) {
	o = o.withDefaults()
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	p, err := StartProcess(dir, "kube-controller-manager", bin,
		"--kubeconfig="+kubeconfig,
		"--authentication-kubeconfig="+kubeconfig,
		"--authorization-kubeconfig="+kubeconfig,
		"--controllers=*",
		"--leader-elect=false",
		"--bind-address=127.0.0.1",
		fmt.Sprintf("--secure-port=%d", port),
		"--service-account-private-key-file="+creds.saPrivate,
		"--root-ca-file="+creds.caCert,
		"--service-cluster-ip-range="+serviceCIDR,
		fmt.Sprintf("--kube-api-qps=%d", o.KubeAPIQPS),
		fmt.Sprintf("--kube-api-burst=%d", o.KubeAPIBurst),
		fmt.Sprintf("--concurrent-job-syncs=%d", o.ConcurrentJobSyncs),
	)
	if err != nil {
		return nil, err
	}
	return p, WaitReady(ctx, p, 2*time.Minute, healthz(port))
}

// healthz probes a component's /healthz, which components serve without
// authentication. Their serving certificate is self-signed at startup, so
// the probe cannot verify it; it only ever talks to loopback.
func healthz(port int) func(context.Context) bool {
	client := &http.Client{
		Timeout:   5 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, //nolint:gosec // see above
	}
	url := fmt.Sprintf("https://127.0.0.1:%d/healthz", port)
	return func(ctx context.Context) bool {
		_, ok := httpGet(ctx, client, url, "")
		return ok
	}
}
