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
	"net"
	"net/http"
	"os/exec"
	"time"
)

// podCIDR is the real node's pod network (its bridge CNI's host-local range).
const podCIDR = "10.88.0.0/16"

// startKubeProxy runs kube-proxy in iptables mode for the real node, so that
// Service IPs work: pods reach the API server at the kubernetes Service's IP
// (their in-cluster configuration), and this machine reaches a Service's
// ClusterIP. Its rules are removed again in cleanup.
func (n *realNode) startKubeProxy(ctx context.Context, clusterDir, bin, kubeconfig, nodeName string) (*Process, error) {
	healthzPort, err := FreePort()
	if err != nil {
		return nil, err
	}
	metricsPort, err := FreePort()
	if err != nil {
		return nil, err
	}
	n.kubeProxy = bin
	p, err := StartProcess(clusterDir, "kube-proxy", bin,
		"--kubeconfig="+kubeconfig,
		"--hostname-override="+nodeName,
		"--proxy-mode=iptables",
		"--cluster-cidr="+podCIDR,
		fmt.Sprintf("--healthz-bind-address=127.0.0.1:%d", healthzPort),
		fmt.Sprintf("--metrics-bind-address=127.0.0.1:%d", metricsPort),
		// Leave the machine's conntrack settings as they are.
		"--conntrack-max-per-core=0",
		"--conntrack-tcp-timeout-established=0",
		"--conntrack-tcp-timeout-close-wait=0",
	)
	if err != nil {
		return nil, err
	}
	client := &http.Client{Timeout: 2 * time.Second}
	// /healthz answers 200 once the rules for the current Services are in.
	err = WaitReady(ctx, p, time.Minute, func(ctx context.Context) bool {
		_, ok := httpGet(ctx, client, fmt.Sprintf("http://127.0.0.1:%d/healthz", healthzPort), "")
		return ok
	})
	return p, err
}

// cleanupKubeProxy removes the iptables rules kube-proxy made, once it has
// stopped.
func (n *realNode) cleanupKubeProxy() error {
	if n.kubeProxy == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, n.kubeProxy, "--cleanup").CombinedOutput(); err != nil {
		return fmt.Errorf("kube-proxy --cleanup: %w: %s", err, out)
	}
	return nil
}

// hostIP is this machine's first IPv4 address outside loopback, where the
// API server listens for pods.
func hostIP() (string, error) {
	ifaces, err := net.Interfaces()
	if err != nil {
		return "", err
	}
	_, pods, _ := net.ParseCIDR(podCIDR)
	for _, iface := range ifaces {
		if iface.Flags&net.FlagUp == 0 || iface.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, err := iface.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			ipNet, ok := a.(*net.IPNet)
			if !ok || ipNet.IP.To4() == nil || !ipNet.IP.IsGlobalUnicast() {
				continue
			}
			if pods.Contains(ipNet.IP) {
				continue // our own bridge, from an earlier run
			}
			return ipNet.IP.String(), nil
		}
	}
	return "", errors.New("no IPv4 address outside loopback for the API server to listen on for pods")
}
