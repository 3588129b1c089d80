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
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// TestSmoke runs the whole harness with tiny numbers, so `make test` notices
// when it breaks. It checks that every figure was produced and that the
// counts add up, never how fast anything was.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a local cluster")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	const n = 5
	rep, err := Run(ctx, Options{
		Sizes:        []Size{{N: n, C: 2}},
		Presets:      []Preset{Presets["production-like"]},
		PodRunFor:    500 * time.Millisecond,
		ReadDuration: 300 * time.Millisecond,
		HandlerBench: true,
		Scale:        []int{20},
		ScaleSubmit:  3,
		Nodes:        1,
		Log:          t.Logf,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Presets) != 1 || len(rep.Presets[0].Runs) != 1 {
		t.Fatalf("report has %d presets, want 1 with 1 run: %+v", len(rep.Presets), rep.Presets)
	}
	run := rep.Presets[0].Runs[0]
	checkWorkloads(t, run, n)
	checkReads(t, rep, run)
	checkScale(t, rep)
	var md bytes.Buffer
	rep.Markdown(&md)
	for _, want := range []string{
		"| N=5, C=2 | asyncjob (REST) | 5 | 5 (0) |",
		"| N=5, C=2 | raw batch/v1 Job | 5 | 5 (0) |",
		"| N=5, C=2 | **asyncjob ÷ raw** |",
		"| N=5, C=2 | GET /v1/jobs/{id} If-None-Match (304) |",
		"| get304 |",
		"| 20 | N=3, C=8 | **asyncjob ÷ raw** |",
		"| GET /v1/jobs?limit=20&label=batch=b1 |",
	} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("the table lacks %q:\n%s", want, md.String())
		}
	}
	if t.Failed() || testing.Verbose() {
		t.Log("\n" + md.String())
	}
}

// checkWorkloads checks both workloads' counts: every job accepted, done and
// accounted for.
func checkWorkloads(t *testing.T, run RunResult, n int) {
	t.Helper()
	for _, w := range []WorkloadResult{run.AsyncJob, run.Raw} {
		if w.Submitted != n || w.SubmitErrors != 0 || w.Done != n || w.Failed != 0 || w.Incomplete != "" {
			t.Errorf("%s: accepted %d, refused %d (%s), done %d, failed %d, incomplete %q; want all %d accepted and done",
				w.Name, w.Submitted, w.SubmitErrors, w.FirstError, w.Done, w.Failed, w.Incomplete, n)
		}
		if w.Submit.Count != n || w.SubmitToDone.Count != n {
			t.Errorf("%s: %d submit and %d submit-to-done latencies, want %d each", w.Name, w.Submit.Count, w.SubmitToDone.Count, n)
		}
		if w.Writes["jobs"] < 1 || w.Writes["pods"] < 1 {
			t.Errorf("%s: %.2f Job and %.2f pod writes per job; every job creates at least one of each", w.Name, w.Writes["jobs"], w.Writes["pods"])
		}
		if w.CPU["kube-apiserver"] <= 0 {
			t.Errorf("%s: no kube-apiserver CPU time measured: %v", w.Name, w.CPU)
		}
	}
	if a := run.AsyncJob; a.Writes["asyncjobs"] < 1 || a.ToJobCreated.Count != n || a.StatusLag.Count != n {
		t.Errorf("asyncjob: %.2f AsyncJob writes per job, %d Job-created and %d status-lag samples; want >= 1 and %d, %d",
			a.Writes["asyncjobs"], a.ToJobCreated.Count, a.StatusLag.Count, n, n)
	}
	if a, r := run.AsyncJob.Requests, run.Raw.Requests; a["asyncjob api"] < 1 || a["asyncjob controller"] < 1 || r["raw client"] < 1 {
		t.Errorf("requests per job: asyncjob %v, raw %v; want at least the REST API's create, the controller's Job, the raw client's Job", a, r)
	}
	if w := run.Raw.Writes["asyncjobs"]; w != 0 {
		t.Errorf("raw Jobs: %.2f AsyncJob writes per job counted in their phase, want 0", w)
	}
	if run.RESTCompleted != n {
		t.Errorf("the REST API answered COMPLETED for %d of %d jobs", run.RESTCompleted, n)
	}
	if m := run.Memory["asyncjob api"]; m.RSS == 0 {
		t.Errorf("no RSS measured for the API: %+v", run.Memory)
	}
}

// checkReads checks the read phase and the handler benchmarks: every kind ran
// and got only the answers it expects.
func checkReads(t *testing.T, rep *Report, run RunResult) {
	t.Helper()
	if len(run.Reads) != 4 {
		t.Fatalf("%d read kinds, want 4: %+v", len(run.Reads), run.Reads)
	}
	for _, r := range run.Reads {
		if r.Requests == 0 || r.Unexpected != 0 || r.Latency.Count != r.Requests {
			t.Errorf("%s: %d expected answers, %d unexpected, %d latencies; want some, none, one each", r.Name, r.Requests, r.Unexpected, r.Latency.Count)
		}
	}
	if len(rep.Handler) != 4 {
		t.Fatalf("%d handler benchmarks, want 4: %+v", len(rep.Handler), rep.Handler)
	}
	for _, h := range rep.Handler {
		if h.NsPerOp <= 0 {
			t.Errorf("handler benchmark %s: %.0f ns/op", h.Name, h.NsPerOp)
		}
	}
}

// checkScale checks the scale mode's step: seeded, resynced, measured.
func checkScale(t *testing.T, rep *Report) {
	t.Helper()
	if len(rep.Scale) != 1 {
		t.Fatalf("%d scale steps, want 1: %+v", len(rep.Scale), rep.Scale)
	}
	sc := rep.Scale[0]
	if sc.Seeded != 20 || sc.Jobs != 23 || sc.Reconciles < 20 || sc.SeedTime <= 0 || sc.Resync <= 0 {
		t.Errorf("scale: seeded %d, %d jobs, %.0f reconciles, seeding %s, resync %s; want 20, 23, >= 20 and both measured",
			sc.Seeded, sc.Jobs, sc.Reconciles, sc.SeedTime, sc.Resync)
	}
	if sc.API.RSS == 0 || sc.API.HeapInuse == 0 || sc.Controller.RSS == 0 || sc.Controller.HeapInuse == 0 {
		t.Errorf("scale: memory not measured: API %+v, controller %+v", sc.API, sc.Controller)
	}
	for _, w := range []WorkloadResult{sc.AsyncJob, sc.Raw} {
		if w.Submitted != 3 || w.Done != 3 || w.Failed != 0 || w.Incomplete != "" {
			t.Errorf("scale, %s: accepted %d, done %d, failed %d, incomplete %q; want 3, 3, 0", w.Name, w.Submitted, w.Done, w.Failed, w.Incomplete)
		}
	}
	if len(sc.Reads) != 5 {
		t.Fatalf("scale: %d read kinds, want 5: %+v", len(sc.Reads), sc.Reads)
	}
	for _, r := range sc.Reads {
		if r.Requests == 0 || r.Unexpected != 0 {
			t.Errorf("scale, %s: %d expected answers, %d unexpected", r.Name, r.Requests, r.Unexpected)
		}
	}
}
