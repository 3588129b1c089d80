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

package bench

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/prometheus/procfs"
)

// Report is everything one benchmark measured.
type Report struct {
	Env      Environment
	Options  Options
	Presets  []PresetResult
	Duration time.Duration
	// Handler is the in-process handler benchmark, run with HandlerJobs jobs
	// in the tenant; nil when not run.
	Handler     []HandlerResult
	HandlerJobs int
	// Scale is the scale mode's steps; nil when not run.
	Scale []ScaleResult
}

// PresetResult is one preset's runs, on one cluster.
type PresetResult struct {
	Preset Preset
	Runs   []RunResult
}

// RunResult is one size: both workloads side by side, then the reads.
type RunResult struct {
	Size
	AsyncJob, Raw WorkloadResult
	// RESTCompleted counts the asyncjob jobs the REST API answered COMPLETED
	// once the observer had seen them all finished.
	RESTCompleted int
	Reads         []ReadResult
	// Memory is the asyncjob processes' after the run.
	Memory map[string]ProcUsage
}

// Environment is where and with what the benchmark ran.
type Environment struct {
	Date, CPU, Kernel string
	Cores             int
	MemoryGiB         float64
	Go, Kubernetes    string
	// LoadBefore and LoadAfter are /proc/loadavg's 1, 5 and 15 minute loads: a
	// busy machine shows here.
	LoadBefore, LoadAfter string
	// Command is the command line that ran the benchmark (set by the caller).
	Command string
}

func environment() Environment {
	e := Environment{
		Date:       time.Now().UTC().Format(time.RFC3339),
		Cores:      runtime.NumCPU(),
		Go:         runtime.Version(),
		LoadBefore: loadAverage(),
	}
	if raw, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		e.Kernel = strings.TrimSpace(string(raw))
	}
	if fs, err := procfs.NewDefaultFS(); err == nil {
		if cpus, err := fs.CPUInfo(); err == nil && len(cpus) > 0 {
			e.CPU = cpus[0].ModelName
		}
		if mem, err := fs.Meminfo(); err == nil && mem.MemTotal != nil {
			e.MemoryGiB = float64(*mem.MemTotal) / (1 << 20)
		}
	}
	return e
}

func loadAverage() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(raw))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

// cpuColumns are the processes of the CPU table, in order.
var cpuColumns = []string{"kube-apiserver", "etcd", "kube-controller-manager", "kube-scheduler", "kwok", procController, procAPI, "harness"}

// Markdown writes the report as markdown tables.
func (r *Report) Markdown(w io.Writer) {
	p := func(format string, args ...any) { _, _ = fmt.Fprintf(w, format+"\n", args...) }
	o := r.Options
	p("# asyncjob benchmark: REST API vs raw batch/v1 Jobs")
	p("")
	p("- date: %s; took %s", r.Env.Date, r.Duration.Round(time.Second))
	p("- machine: %s, %d cores, %.1f GiB, Linux %s; load average (1/5/15 min) %s before, %s after",
		r.Env.CPU, r.Env.Cores, r.Env.MemoryGiB, r.Env.Kernel, r.Env.LoadBefore, r.Env.LoadAfter)
	p("- Go %s; Kubernetes %s (etcd, kube-apiserver, kube-controller-manager, kube-scheduler built from source), %d kwok nodes",
		r.Env.Go, r.Env.Kubernetes, o.Nodes)
	if r.Env.Command != "" {
		p("- command: `%s`", r.Env.Command)
	}
	p("- pods run %s on simulated nodes (no other kwok delays) and end with a %d-byte result; asyncjob API rate limit %s, controller --max-concurrent-reconciles=8",
		o.PodRunFor, len(typicalResult), rateLimit(o.APIRateLimit))
	for _, pr := range r.Presets {
		p("")
		p("## Preset %s", pr.Preset)
		r.submitTable(p, pr)
		r.writesTable(p, pr)
		r.cpuTable(p, pr)
		if o.ReadDuration > 0 {
			r.readsTable(p, pr)
		}
		memoryTable(p, pr)
	}
	if len(r.Scale) > 0 {
		r.scaleTables(p)
	}
	if len(r.Handler) > 0 {
		p("")
		p("## REST handler in process (testing.Benchmark, no network; %d jobs in the tenant)", r.HandlerJobs)
		p("")
		p("| request | ns/op | allocs/op | B/op | /healthz's time ÷ this |")
		p("|---|---:|---:|---:|---:|")
		for _, h := range r.Handler {
			p("| %s | %.0f | %d | %d | %s |", h.Name, h.NsPerOp, h.AllocsPerOp, h.BytesPerOp, times(h.VsHealthz))
		}
	}
}

func rateLimit(l float64) string {
	if l <= 0 {
		return "off"
	}
	return fmt.Sprintf("%g/s per tenant", l)
}

func (r *Report) submitTable(p func(string, ...any), pr PresetResult) {
	p("")
	p("### Submission and completion")
	p("")
	p("| run | workload | accepted | done (failed) | submit/s | submit p50 ms | submit p99 ms | all done s | submit→done p50 s | submit→done p99 s |")
	p("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, run := range pr.Runs {
		for _, w := range []WorkloadResult{run.AsyncJob, run.Raw} {
			p("| %s | %s | %d | %d (%d) | %.1f | %s | %s | %s | %s | %s |", run.Size, w.Name, w.Submitted, w.Done, w.Failed,
				w.SubmitRate, ms(w.Submit.P50), ms(w.Submit.P99), secs(w.AllDone), secs(w.SubmitToDone.P50), secs(w.SubmitToDone.P99))
		}
		a, b := run.AsyncJob, run.Raw
		p("| %s | **asyncjob ÷ raw** | | | %s | %s | %s | %s | %s (%+.2f s) | %s |", run.Size,
			ratio(a.SubmitRate, b.SubmitRate), ratioD(a.Submit.P50, b.Submit.P50), ratioD(a.Submit.P99, b.Submit.P99),
			ratioD(a.AllDone, b.AllDone), ratioD(a.SubmitToDone.P50, b.SubmitToDone.P50),
			(a.SubmitToDone.P50 - b.SubmitToDone.P50).Seconds(), ratioD(a.SubmitToDone.P99, b.SubmitToDone.P99))
	}
	for _, run := range pr.Runs {
		incompleteNotes(p, run.String(), run.AsyncJob, run.Raw)
	}
	p("")
	p("Where asyncjob's extra time goes (per job, observed by the same watches):")
	p("")
	p("| run | submit start → its Job seen, p50 / p99 ms | its Job seen Complete → AsyncJob seen Completed, p50 / p99 ms | REST answers COMPLETED |")
	p("|---|---:|---:|---:|")
	for _, run := range pr.Runs {
		a := run.AsyncJob
		p("| %s | %s / %s | %s / %s | %d of %d |", run.Size, ms(a.ToJobCreated.P50), ms(a.ToJobCreated.P99),
			ms(a.StatusLag.P50), ms(a.StatusLag.P99), run.RESTCompleted, a.Submitted)
	}
}

func (r *Report) writesTable(p func(string, ...any), pr PresetResult) {
	p("")
	p("### kube-apiserver writes per job")
	p("")
	p("From apiserver_request_total (POST, PUT, PATCH, APPLY, DELETE; any response code), from the first submission until the writes settled, divided by the jobs accepted; pods/binding counts with pods. \"other\" is the control plane's background (node heartbeats, leases) in the same interval, not in the total.")
	p("")
	p("| run | workload | %s | **total** | other |", strings.Join(writeGroups, " | "))
	p("|---|---|%s---:|---:|", strings.Repeat("---:|", len(writeGroups)))
	for _, run := range pr.Runs {
		for _, w := range []WorkloadResult{run.AsyncJob, run.Raw} {
			cells := make([]string, len(writeGroups))
			for i, g := range writeGroups {
				cells[i] = fmt.Sprintf("%.2f", w.Writes[g])
			}
			p("| %s | %s | %s | **%.2f** | %.2f |", run.Size, w.Name, strings.Join(cells, " | "), w.WritesPerJob, w.Writes["other"])
		}
	}
	p("")
	p("Requests (reads and writes) each client sent kube-apiserver per job, from its own FlowSchema's apiserver_flowcontrol_dispatched_requests_total (each runs as its own ServiceAccount):")
	p("")
	p("| run | workload | asyncjob api | asyncjob controller | raw client |")
	p("|---|---|---:|---:|---:|")
	for _, run := range pr.Runs {
		for _, w := range []WorkloadResult{run.AsyncJob, run.Raw} {
			p("| %s | %s | %.2f | %.2f | %.2f |", run.Size, w.Name, w.Requests[procAPI], w.Requests[procController], w.Requests["raw client"])
		}
	}
}

func (r *Report) cpuTable(p func(string, ...any), pr PresetResult) {
	p("")
	p("### CPU seconds per 100 jobs")
	p("")
	p("Each process's user+system time over the same interval, per 100 accepted jobs (the harness is the load generator and the watches); \"other work\" is the rest of the machine's busy time (/proc/stat) over the same interval, in cores on average: work sharing the machine with the benchmark.")
	p("")
	p("| run | workload | %s | other work, cores |", strings.Join(cpuColumns, " | "))
	p("|---|---|%s---:|", strings.Repeat("---:|", len(cpuColumns)))
	for _, run := range pr.Runs {
		for _, w := range []WorkloadResult{run.AsyncJob, run.Raw} {
			cells := make([]string, len(cpuColumns))
			for i, c := range cpuColumns {
				cells[i] = "-"
				if d, ok := w.CPU[c]; ok && w.Submitted > 0 {
					cells[i] = fmt.Sprintf("%.2f", d.Seconds()*100/float64(w.Submitted))
				}
			}
			others := "-"
			if w.Elapsed > 0 {
				others = fmt.Sprintf("%.2f", w.OthersCPU.Seconds()/w.Elapsed.Seconds())
			}
			p("| %s | %s | %s | %s |", run.Size, w.Name, strings.Join(cells, " | "), others)
		}
	}
}

func (r *Report) readsTable(p func(string, ...any), pr PresetResult) {
	p("")
	p("### Status reads of one API replica")
	p("")
	p("Each kind for %s from C keep-alive clients on this machine, after the run (the tenant holds that run's N finished jobs, reads cycle through up to %d of them). \"API → kube-apiserver\" is every request the REST API process sent while the kind ran (its FlowSchema's count), \"controller →\" the same for the controller; \"asyncjob reads, any client\" is GET and LIST of asyncjobs, asyncjobtypes and secrets that kube-apiserver served to anyone (the controller included), and \"all reads\" the same for every resource (the control plane's background included).", r.Options.ReadDuration, maxReadIDs)
	p("")
	p("| run | request | answers/s | p50 ms | p99 ms | ÷ /healthz | unexpected answers | polls | API → kube-apiserver | controller → | asyncjob reads, any client / all reads |")
	p("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, run := range pr.Runs {
		for _, rd := range run.Reads {
			p("| %s | %s | %.0f | %s | %s | %s | %d | %d | %.0f | %.0f | %.0f / %.0f |", run.Size, rd.Name, rd.Rate,
				ms(rd.Latency.P50), ms(rd.Latency.P99), times(rd.VsHealthz), rd.Unexpected, rd.Requests, rd.APIRequests,
				rd.ControllerRequests, rd.KubeReads, rd.KubeReadsAll)
		}
	}
}

func memoryTable(p func(string, ...any), pr PresetResult) {
	p("")
	p("### asyncjob's memory after each run")
	p("")
	p("| run | API RSS MiB (peak) | controller RSS MiB (peak) |")
	p("|---|---:|---:|")
	for _, run := range pr.Runs {
		a, c := run.Memory[procAPI], run.Memory[procController]
		p("| %s | %.1f (%.1f) | %.1f (%.1f) |", run.Size, mib(a.RSS), mib(a.HWM), mib(c.RSS), mib(c.HWM))
	}
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

func ms(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d)/float64(time.Millisecond)) }

func secs(d time.Duration) string { return fmt.Sprintf("%.2f", d.Seconds()) }

func ratio(a, b float64) string {
	if b == 0 {
		return "-"
	}
	return times(a / b)
}

// times prints a ratio with two decimals, or three significant digits below 0.1.
func times(x float64) string {
	if x < 0.1 {
		return fmt.Sprintf("%.3g×", x)
	}
	return fmt.Sprintf("%.2f×", x)
}

func ratioD(a, b time.Duration) string { return ratio(float64(a), float64(b)) }

func (r *Report) scaleTables(p func(string, ...any)) {
	p("")
	p("## Scale: one tenant with many finished jobs (preset %s)", r.Options.Presets[0])
	p("")
	p("Finished AsyncJobs (Completed, %d-byte result, conditions, expiry a day later) are created directly through kube-apiserver while the controller is stopped, without their Jobs and pods (a real cluster keeps a finished job's Job until the AsyncJob expires, so it would hold those too). The controller is then restarted; resync is from its start until it had reconciled every AsyncJob and its queue was empty (its own metrics). Memory is sampled after the resync; per job is its growth over the empty tenant divided by the jobs. Go heap in use includes garbage not yet collected.", len(typicalResult))
	p("")
	p("| finished jobs | seeding s (jobs/s) | controller resync s (reconciles) | API RSS / heap MiB | API per job RSS / heap KB | controller RSS / heap MiB | controller per job RSS / heap KB |")
	p("|---:|---:|---:|---:|---:|---:|---:|")
	prev := 0
	for _, sc := range r.Scale {
		p("| %d | %.1f (%.0f/s) | %.1f (%.0f) | %.0f / %.0f | %.1f / %.1f | %.0f / %.0f | %.1f / %.1f |", sc.Seeded,
			sc.SeedTime.Seconds(), float64(sc.Seeded-prev)/sc.SeedTime.Seconds(), sc.Resync.Seconds(), sc.Reconciles,
			sc.API.RSS/(1<<20), sc.API.HeapInuse/(1<<20), sc.APIBytesPerJob.RSS/1024, sc.APIBytesPerJob.HeapInuse/1024,
			sc.Controller.RSS/(1<<20), sc.Controller.HeapInuse/(1<<20), sc.ControllerPerJob.RSS/1024, sc.ControllerPerJob.HeapInuse/1024)
		prev = sc.Seeded
	}
	p("")
	p("Submissions with that many jobs in the tenant, side by side with raw Jobs (raw Jobs' namespace holds only their own):")
	p("")
	p("| finished jobs | run | workload | accepted | done (failed) | submit/s | submit p50 ms | submit p99 ms | all done s | submit→done p50 s | submit→done p99 s |")
	p("|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, sc := range r.Scale {
		for _, w := range []WorkloadResult{sc.AsyncJob, sc.Raw} {
			p("| %d | %s | %s | %d | %d (%d) | %.1f | %s | %s | %s | %s | %s |", sc.Seeded, sc.Submit, w.Name, w.Submitted, w.Done, w.Failed,
				w.SubmitRate, ms(w.Submit.P50), ms(w.Submit.P99), secs(w.AllDone), secs(w.SubmitToDone.P50), secs(w.SubmitToDone.P99))
		}
		a, b := sc.AsyncJob, sc.Raw
		p("| %d | %s | **asyncjob ÷ raw** | | | %s | %s | %s | %s | %s | %s |", sc.Seeded, sc.Submit,
			ratio(a.SubmitRate, b.SubmitRate), ratioD(a.Submit.P50, b.Submit.P50), ratioD(a.Submit.P99, b.Submit.P99),
			ratioD(a.AllDone, b.AllDone), ratioD(a.SubmitToDone.P50, b.SubmitToDone.P50), ratioD(a.SubmitToDone.P99, b.SubmitToDone.P99))
	}
	for _, sc := range r.Scale {
		incompleteNotes(p, fmt.Sprintf("%d finished jobs", sc.Seeded), sc.AsyncJob, sc.Raw)
	}
	if r.Options.ReadDuration <= 0 {
		return
	}
	p("")
	p("Reads with that many jobs in the tenant, each kind for %s from 8 clients:", r.Options.ReadDuration)
	p("")
	p("| jobs in the tenant | request | answers/s | p50 ms | p99 ms | ÷ /healthz | unexpected answers | polls | API → kube-apiserver |")
	p("|---:|---|---:|---:|---:|---:|---:|---:|---:|")
	for _, sc := range r.Scale {
		for _, rd := range sc.Reads {
			p("| %d | %s | %.0f | %s | %s | %s | %d | %d | %.0f |", sc.Jobs, rd.Name, rd.Rate,
				ms(rd.Latency.P50), ms(rd.Latency.P99), times(rd.VsHealthz), rd.Unexpected, rd.Requests, rd.APIRequests)
		}
	}
}

// incompleteNotes says, under a table, which workloads did not run cleanly.
func incompleteNotes(p func(string, ...any), label string, ws ...WorkloadResult) {
	for _, w := range ws {
		if w.Incomplete != "" || w.SubmitErrors > 0 {
			p("")
			p("%s, %s: INCOMPLETE: %d submissions refused (first: %s) %s", label, w.Name, w.SubmitErrors, w.FirstError, w.Incomplete)
		}
	}
}
