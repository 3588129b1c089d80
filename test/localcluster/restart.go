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

// Component names, as PIDs and the log files name them.
const (
	EtcdName      = "etcd"
	APIServerName = "kube-apiserver"
)

// EtcdURL is etcd's client URL (plain HTTP on loopback), for tests that
// read or watch storage itself.
func (c *Cluster) EtcdURL() string { return c.etcdURL }

// APIServerURL is kube-apiserver's URL (https on loopback).
func (c *Cluster) APIServerURL() string { return c.apiURL }

// KillEtcd SIGKILLs etcd: every write and uncached read of the API server
// fails until StartEtcd.
func (c *Cluster) KillEtcd() error { return c.kill(EtcdName) }

// StartEtcd starts etcd again after KillEtcd, on the same ports and data
// directory, and waits until it is healthy.
func (c *Cluster) StartEtcd(ctx context.Context) error {
	return c.startAgain(ctx, EtcdName, etcdReady(c.etcdURL))
}

// KillAPIServer SIGKILLs kube-apiserver: every client's connection breaks.
func (c *Cluster) KillAPIServer() error { return c.kill(APIServerName) }

// StartAPIServer starts kube-apiserver again after KillAPIServer, on the
// same port, and waits until it is ready.
func (c *Cluster) StartAPIServer(ctx context.Context) error {
	return c.startAgain(ctx, APIServerName, apiServerReady(c.apiURL, c.creds))
}

// RestartEtcd kills etcd, keeps it down for down, and starts it again.
func (c *Cluster) RestartEtcd(ctx context.Context, down time.Duration) error {
	if err := c.KillEtcd(); err != nil {
		return err
	}
	if err := sleep(ctx, down); err != nil {
		return err
	}
	return c.StartEtcd(ctx)
}

// RestartAPIServer kills kube-apiserver, keeps it down for down, and starts
// it again.
func (c *Cluster) RestartAPIServer(ctx context.Context, down time.Duration) error {
	if err := c.KillAPIServer(); err != nil {
		return err
	}
	if err := sleep(ctx, down); err != nil {
		return err
	}
	return c.StartAPIServer(ctx)
}

func (c *Cluster) process(name string) (int, *Process, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, p := range c.processes {
		if p.name == name {
			return i, p, nil
		}
	}
	return 0, nil, fmt.Errorf("the cluster runs no %s", name)
}

func (c *Cluster) kill(name string) error {
	_, p, err := c.process(name)
	if err != nil {
		return err
	}
	return p.Kill()
}

// startAgain replaces the exited process name with a new one, in the same
// place of the stop order.
func (c *Cluster) startAgain(ctx context.Context, name string, ready func(context.Context) bool) error {
	i, old, err := c.process(name)
	if err != nil {
		return err
	}
	p, err := old.Again()
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.processes[i] = p
	c.mu.Unlock()
	return WaitReady(ctx, p, 2*time.Minute, ready)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
