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
	"crypto/x509"
	"fmt"
	"net/http"
	"slices"
	"time"
)

// startAPIServer runs kube-apiserver against etcdURL. Clients on this
// machine use it on loopback. With a non-empty advertise address (the real
// node's cluster) it also listens there and publishes it as the endpoint of
// the kubernetes Service, so pods reach it through kube-proxy at the
// Service's IP, as in-cluster clients do everywhere.
func startAPIServer(ctx context.Context, dir, bin, etcdURL string, creds *credentials, advertise string, extra []string) (p *Process, url string, err error) {
	port, err := FreePort()
	if err != nil {
		return nil, "", err
	}
	url = fmt.Sprintf("https://127.0.0.1:%d", port)
	network := []string{
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		// The endpoint reconciler refuses a loopback address for the
		// kubernetes Service; without pods that need it, nothing does.
		"--endpoint-reconciler-type=none",
	}
	if advertise != "" {
		network = []string{"--bind-address=0.0.0.0", "--advertise-address=" + advertise}
	}
	args := append(slices.Clip(network),
		"--etcd-servers="+etcdURL,
		fmt.Sprintf("--secure-port=%d", port),
		"--tls-cert-file="+creds.servingCert,
		"--tls-private-key-file="+creds.servingKey,
		"--client-ca-file="+creds.caCert,
		"--token-auth-file="+creds.tokenFile,
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file="+creds.saPublic,
		"--service-account-signing-key-file="+creds.saPrivate,
		"--service-cluster-ip-range="+serviceCIDR,
		"--authorization-mode=Node,RBAC",
		"--allow-privileged=true",
		// The real node's kubelet listens on loopback, which it cannot
		// advertise as its IP; its hostname resolves there.
		"--kubelet-preferred-address-types=Hostname,InternalIP,ExternalIP",
		// The aggregation layer, for aggregated APIs such as Kueue's
		// visibility API; routing to endpoints, since nothing here
		// routes Service IPs for kube-apiserver itself.
		"--requestheader-client-ca-file="+creds.frontProxyCA,
		"--requestheader-allowed-names="+frontProxyClientName,
		"--requestheader-extra-headers-prefix=X-Remote-Extra-",
		"--requestheader-group-headers=X-Remote-Group",
		"--requestheader-username-headers=X-Remote-User",
		"--proxy-client-cert-file="+creds.frontProxyCert,
		"--proxy-client-key-file="+creds.frontProxyKey,
		"--enable-aggregator-routing=true",
	)
	p, err = StartProcess(dir, "kube-apiserver", bin, append(args, extra...)...)
	if err != nil {
		return nil, "", err
	}
	err = WaitReady(ctx, p, 2*time.Minute, apiServerReady(url, creds))
	return p, url, err
}

// apiServerReady reports whether kube-apiserver at url answers /readyz.
func apiServerReady(url string, creds *credentials) func(context.Context) bool {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(creds.caCertPEM)
	client := &http.Client{
		Timeout:   5 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
	}
	// /readyz turns 200 once the post-start hooks (RBAC bootstrap roles,
	// priority classes) are done, which the controllers rely on.
	return func(ctx context.Context) bool {
		_, ok := httpGet(ctx, client, url+"/readyz", creds.adminToken)
		return ok
	}
}
