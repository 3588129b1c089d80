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
	"net"
	"path/filepath"
	"sync"
	"time"
)

// Proxy is a TCP proxy on loopback in front of kube-apiserver that a test
// controls: it delays every chunk of data by Latency in both directions, or
// cuts every connection. TLS passes through untouched (the serving
// certificate is valid for 127.0.0.1 on any port), so clients of the proxy
// see a slow or broken API server, not a different one.
type Proxy struct {
	target string
	l      net.Listener

	mu      sync.Mutex
	latency time.Duration
	conns   map[net.Conn]struct{}
}

// NewProxy listens on a free loopback port and forwards to the cluster's
// kube-apiserver; Close stops it.
func (c *Cluster) NewProxy() (*Proxy, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	target := c.apiURL[len("https://"):]
	p := &Proxy{target: target, l: l, conns: map[net.Conn]struct{}{}}
	go p.serve()
	return p, nil
}

// Addr is the proxy's host:port.
func (p *Proxy) Addr() string { return p.l.Addr().String() }

// SetLatency delays every chunk forwarded from now on by d (0: none).
func (p *Proxy) SetLatency(d time.Duration) {
	p.mu.Lock()
	p.latency = d
	p.mu.Unlock()
}

// Cut closes every open connection; new ones are accepted as before.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		_ = c.Close()
	}
	p.conns = map[net.Conn]struct{}{}
}

// Close stops listening and cuts every connection.
func (p *Proxy) Close() error {
	err := p.l.Close()
	p.Cut()
	return err
}

// Kubeconfig writes an admin kubeconfig that reaches the API server through
// the proxy into the cluster's directory and returns its path.
func (c *Cluster) KubeconfigViaProxy(p *Proxy) (string, error) {
	path := filepath.Join(c.dir, fmt.Sprintf("kubeconfig-proxy-%d", p.l.Addr().(*net.TCPAddr).Port))
	return path, writeKubeconfig(path, "https://"+p.Addr(), c.creds)
}

func (p *Proxy) serve() {
	for {
		in, err := p.l.Accept()
		if err != nil {
			return
		}
		go p.forward(in)
	}
}

func (p *Proxy) forward(in net.Conn) {
	out, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		_ = in.Close()
		return
	}
	p.mu.Lock()
	p.conns[in], p.conns[out] = struct{}{}, struct{}{}
	p.mu.Unlock()
	done := make(chan struct{}, 2)
	go func() { p.copy(out, in); done <- struct{}{} }()
	go func() { p.copy(in, out); done <- struct{}{} }()
	<-done
	_, _ = in.Close(), out.Close()
	<-done
	p.mu.Lock()
	delete(p.conns, in)
	delete(p.conns, out)
	p.mu.Unlock()
}

// copy forwards src to dst, sleeping the current latency before each chunk.
func (p *Proxy) copy(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			d := p.latency
			p.mu.Unlock()
			if d > 0 {
				time.Sleep(d)
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil { // EOF, or a connection Cut closed
			return
		}
	}
}
