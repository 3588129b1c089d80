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

// Command bench compares asyncjob with the batch/v1 Jobs it runs on (`make
// bench`): on a local cluster with simulated nodes, N jobs through the REST API
// and N raw Jobs side by side, then the status-read throughput of one API
// replica, printed as markdown. See docs/benchmarks.md.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/asyncjob/asyncjob/test/bench"
)

func main() {
	runs := flag.String("runs", "", "measured runs as NxC (jobs x concurrent clients), comma-separated, e.g. 200x8,400x32; overrides -n and -c")
	n := flag.Int("n", 200, "jobs of each kind (asyncjob and raw) per run")
	c := flag.Int("c", 8, "concurrent clients submitting (and reading)")
	presets := flag.String("presets", "production-like", "kube-controller-manager presets, comma-separated: "+strings.Join(bench.PresetNames(), ", "))
	qps := flag.Int("kube-api-qps", 0, "override kube-controller-manager's --kube-api-qps in every preset")
	burst := flag.Int("kube-api-burst", 0, "override kube-controller-manager's --kube-api-burst in every preset")
	syncs := flag.Int("concurrent-job-syncs", 0, "override kube-controller-manager's --concurrent-job-syncs in every preset")
	runFor := flag.Duration("pod-run-for", time.Second, "how long each pod runs on its simulated node")
	reads := flag.Duration("read-duration", 10*time.Second, "how long each kind of status read is sent; 0 skips reads")
	handler := flag.Bool("handler", true, "run the in-process REST handler benchmarks after the first preset")
	warmup := flag.Int("warmup", 10, "unmeasured jobs of each kind before each preset's runs")
	nodes := flag.Int("nodes", 4, "simulated nodes")
	rate := flag.Float64("api-rate-limit", 0, "the REST API's per-tenant rate limit; 0 disables it")
	compare := flag.Bool("compare", true, "run the side-by-side comparison (-runs, or -n and -c) for each preset")
	scale := flag.String("scale", "", "also run the scale mode: fill one tenant with finished jobs up to each of these totals, e.g. 10000,100000 (first preset)")
	scaleSubmit := flag.Int("scale-submit", 100, "jobs of each kind submitted at each scale step")
	jsonOut := flag.String("json", "", "also write the report as JSON to this file")
	keep := flag.Bool("keep-dir", false, "keep the clusters' directories (logs) after the run")
	flag.Parse()

	o := bench.Options{
		PodRunFor: *runFor, ReadDuration: *reads, HandlerBench: *handler, Warmup: *warmup,
		Nodes: *nodes, APIRateLimit: *rate, KeepDir: *keep, ScaleSubmit: *scaleSubmit,
		Log: func(format string, args ...any) {
			fmt.Fprintf(os.Stderr, "bench %s: "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
		},
	}
	var err error
	switch {
	case !*compare:
	case *runs != "":
		if o.Sizes, err = bench.ParseSizes(*runs); err != nil {
			fail(err)
		}
	default:
		o.Sizes = []bench.Size{{N: *n, C: *c}}
	}
	if *scale != "" {
		if o.Scale, err = bench.ParseScale(*scale); err != nil {
			fail(err)
		}
	}
	for name := range strings.SplitSeq(*presets, ",") {
		p, ok := bench.Presets[strings.TrimSpace(name)]
		if !ok {
			fail(fmt.Errorf("unknown preset %q; known: %s", name, strings.Join(bench.PresetNames(), ", ")))
		}
		if *qps > 0 || *burst > 0 || *syncs > 0 {
			p.Name += " (overridden)"
			override(&p.ControllerManager.KubeAPIQPS, *qps)
			override(&p.ControllerManager.KubeAPIBurst, *burst)
			override(&p.ControllerManager.ConcurrentJobSyncs, *syncs)
		}
		o.Presets = append(o.Presets, p)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := bench.Run(ctx, o)
	if rep != nil {
		rep.Env.Command = command()
		rep.Markdown(os.Stdout)
		if *jsonOut != "" {
			raw, jerr := json.MarshalIndent(rep, "", "  ")
			if jerr == nil {
				jerr = os.WriteFile(*jsonOut, raw, 0o644)
			}
			if jerr != nil {
				fmt.Fprintln(os.Stderr, "bench: writing JSON:", jerr)
			}
		}
	}
	if err != nil {
		fail(err)
	}
}

func override(v *int, with int) {
	if with > 0 {
		*v = with
	}
}

// command is how this run was started (make bench runs exactly this), as one
// would type it again.
func command() string {
	return strings.TrimSpace("go run ./hack/bench " + strings.Join(os.Args[1:], " "))
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	os.Exit(1)
}
