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
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
)

// startRegistry serves an OCI distribution registry (go-containerregistry's,
// blobs on disk in the cluster's directory) on a loopback port. The real
// node's containerd pulls from it over plain HTTP, so an image pushed there
// reaches pods the way it does on any cluster: by name, through a registry.
func (c *Cluster) startRegistry() error {
	blobs := filepath.Join(c.dir, "registry")
	if err := os.MkdirAll(blobs, 0o755); err != nil {
		return err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler: registry.New(
			registry.WithBlobHandler(registry.NewDiskBlobHandler(blobs)),
			registry.Logger(log.New(io.Discard, "", 0)),
		),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintln(os.Stderr, "localcluster: registry:", err)
		}
	}()
	c.registry = srv
	c.registryHost = l.Addr().String()
	return nil
}

// Registry is the host:port of the cluster's registry ("" without
// Options.RealNode). Push images there (go-containerregistry talks plain HTTP
// to loopback registries by itself) and use them as HOST/NAME:TAG in pods.
func (c *Cluster) Registry() string { return c.registryHost }

// writeRegistryHosts tells containerd to pull from the registry over plain
// HTTP (containerd's hosts.toml, read from the CRI plugin's config_path).
func (n *realNode) writeRegistryHosts(host string) (string, error) {
	certsDir := filepath.Join(n.dir, "certs.d")
	if err := os.MkdirAll(filepath.Join(certsDir, host), 0o755); err != nil {
		return "", err
	}
	hosts := fmt.Sprintf("server = %q\n\n[host.%q]\n  capabilities = [\"pull\", \"resolve\"]\n", "http://"+host, "http://"+host)
	return certsDir, os.WriteFile(filepath.Join(certsDir, host, "hosts.toml"), []byte(hosts), 0o644)
}
