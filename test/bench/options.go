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

// Package bench measures asyncjob against the batch/v1 Jobs it runs on, on a
// local cluster with simulated nodes (test/localcluster, test/stack): N jobs
// through the REST API and N raw Jobs with the same pod template, side by side
// in one run, with kube-apiserver's request counters, the processes' CPU time
// and memory, and the status-read throughput of one API replica. `make bench`
// runs it through hack/bench; a smoke test keeps it working.
package bench

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/asyncjob/asyncjob/test/localcluster"
)

// Size is one measured run: N jobs of each kind, submitted by C concurrent clients.
type Size struct {
	N, C int
}

func (s Size) String() string { return fmt.Sprintf("N=%d, C=%d", s.N, s.C) }

// ParseSizes parses "200x8,400x32".
func ParseSizes(s string) ([]Size, error) {
	var out []Size
	for part := range strings.SplitSeq(s, ",") {
		jobs, clients, ok := strings.Cut(strings.TrimSpace(part), "x")
		n, errN := strconv.Atoi(jobs)
		c, errC := strconv.Atoi(clients)
		if !ok || errN != nil || errC != nil || n < 1 || c < 1 {
			return nil, fmt.Errorf("run %q is not NxC (for example 200x8)", part)
		}
		out = append(out, Size{N: n, C: c})
	}
	return out, nil
}

// ParseScale parses "10000,100000": ascending totals of finished jobs.
func ParseScale(s string) ([]int, error) {
	var out []int
	for part := range strings.SplitSeq(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(part))
		if err != nil || n < 1 || (len(out) > 0 && n <= out[len(out)-1]) {
			return nil, fmt.Errorf("scale %q is not a list of ascending job counts (for example 10000,100000)", s)
		}
		out = append(out, n)
	}
	return out, nil
}

// Preset is a kube-controller-manager configuration: its client rate limit
// and Job controller workers bound how fast any Job, raw or asyncjob's, runs.
type Preset struct {
	Name              string
	ControllerManager localcluster.ControllerManagerOptions
}

func (p Preset) String() string {
	o := p.ControllerManager
	return fmt.Sprintf("%s (kube-controller-manager --kube-api-qps=%d --kube-api-burst=%d --concurrent-job-syncs=%d)",
		p.Name, o.KubeAPIQPS, o.KubeAPIBurst, o.ConcurrentJobSyncs)
}

// Presets are the named kube-controller-manager configurations.
var Presets = map[string]Preset{
	// kube-controller-manager's own defaults: what a cluster runs unless its
	// operator tuned it.
	"defaults": {Name: "defaults", ControllerManager: localcluster.ControllerManagerOptions{
		KubeAPIQPS: 20, KubeAPIBurst: 30, ConcurrentJobSyncs: 5}},
	// Raised limits of the order managed offerings and large clusters use
	// (qps 100, burst 100-200); also what test/localcluster (make dev) runs.
	"production-like": {Name: "production-like", ControllerManager: localcluster.ControllerManagerOptions{
		KubeAPIQPS: 100, KubeAPIBurst: 200, ConcurrentJobSyncs: 10}},
}

// PresetNames lists the presets' names, sorted.
func PresetNames() []string {
	names := make([]string, 0, len(Presets))
	for n := range Presets {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Options configure a benchmark.
type Options struct {
	// Sizes are the measured runs, in order; each preset runs all of them.
	Sizes   []Size
	Presets []Preset
	// PodRunFor is how long each pod runs on its simulated node (kwok stage
	// delay); pods skip kwok's other random delays, so this is all they take.
	PodRunFor time.Duration
	// ReadDuration is how long each kind of status read is sent; 0 skips the
	// read phase.
	ReadDuration time.Duration
	// HandlerBench runs the in-process handler benchmarks once, after the
	// first preset's last run.
	HandlerBench bool
	// Scale, when set, adds the scale mode: one tenant filled with finished
	// jobs up to each of these totals in turn (ascending), measured at each.
	Scale []int
	// ScaleSubmit is how many jobs of each kind are submitted at each scale
	// step (at C=8).
	ScaleSubmit int
	// Warmup jobs of each kind run, unmeasured, before each preset's first run.
	Warmup int
	// Nodes is the number of simulated nodes (250 pods each).
	Nodes int
	// APIRateLimit is the REST API's per-tenant rate limit; 0 disables it, so
	// the read phase measures the server, not the limiter.
	APIRateLimit float64
	// Binary is the asyncjob binary; empty builds ./cmd once.
	Binary string
	// KeepDir keeps the clusters' directories (logs) after the run.
	KeepDir bool
	// Log receives progress lines; nil is silent.
	Log func(format string, args ...any) `json:"-"`
}

func (o Options) withDefaults() Options {
	if o.ScaleSubmit <= 0 {
		o.ScaleSubmit = 100
	}
	if len(o.Presets) == 0 {
		o.Presets = []Preset{Presets["production-like"]}
	}
	if o.PodRunFor <= 0 {
		o.PodRunFor = time.Second
	}
	if o.Nodes <= 0 {
		o.Nodes = 4
	}
	if o.Log == nil {
		o.Log = func(string, ...any) {}
	}
	return o
}
