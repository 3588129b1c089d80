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
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"time"
)

// startEtcd runs a single-member etcd on loopback with its data in dir.
func startEtcd(ctx context.Context, dir, bin string) (p *Process, clientURL string, err error) {
	clientPort, err := FreePort()
	if err != nil {
		return nil, "", err
	}
	peerPort, err := FreePort()
	if err != nil {
		return nil, "", err
	}
	clientURL = fmt.Sprintf("http://127.0.0.1:%d", clientPort)
	peerURL := fmt.Sprintf("http://127.0.0.1:%d", peerPort)
	p, err = StartProcess(dir, "etcd", bin,
		"--name=localcluster",
		"--data-dir="+filepath.Join(dir, "etcd-data"),
		"--listen-client-urls="+clientURL,
		"--advertise-client-urls="+clientURL,
		"--listen-peer-urls="+peerURL,
		"--initial-advertise-peer-urls="+peerURL,
		"--initial-cluster=localcluster="+peerURL,
		// The data is thrown away with the cluster: durability only costs time.
		"--unsafe-no-fsync",
	)
	if err != nil {
		return nil, "", err
	}
	err = WaitReady(ctx, p, time.Minute, etcdReady(clientURL))
	return p, clientURL, err
}

// etcdReady reports whether etcd at clientURL answers healthy.
func etcdReady(clientURL string) func(context.Context) bool {
	return func(ctx context.Context) bool {
		body, ok := httpGet(ctx, http.DefaultClient, clientURL+"/health", "")
		return ok && strings.Contains(body, `"health":"true"`)
	}
}

// httpGet reports the body of a 200 response; any error counts as not ready.
func httpGet(ctx context.Context, client *http.Client, url, bearer string) (string, bool) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", false
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", false
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	return string(body), err == nil && resp.StatusCode == http.StatusOK
}
