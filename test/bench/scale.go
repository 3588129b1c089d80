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
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/internal/scheme"
	"github.com/asyncjob/asyncjob/test/stack"
	"github.com/asyncjob/asyncjob/test/wrappers"
)

const (
	scaleTenant = "scale"
	// seedConcurrency is how many clients create the finished jobs.
	seedConcurrency = 32
	// seedLabel marks the seeded jobs with their batch (REST label "batch"),
	// so a list can filter by a label as clients do.
	seedLabel = "labels.asyncjob.io/batch"
)

// ScaleResult is the tenant with Jobs AsyncJobs in the cluster: Seeded of them
// created finished, the rest submitted through the REST API while they were.
type ScaleResult struct {
	Jobs, Seeded int
	// SeedTime is how long creating this step's finished jobs took.
	SeedTime time.Duration
	// Resync is from the controller's start until it had reconciled every
	// AsyncJob and its queue was empty; Reconciles is how many it counted.
	Resync     time.Duration
	Reconciles float64
	// API and Controller are the processes' memory after the resync, and
	// their growth per job over the empty tenant's.
	API, Controller                  MemSample
	APIBytesPerJob, ControllerPerJob MemSample
	Submit                           Size
	AsyncJob, Raw                    WorkloadResult
	Reads                            []ReadResult
}

// MemSample is a process's resident set and its Go heap in use (which
// includes garbage not yet collected).
type MemSample struct {
	RSS, HeapInuse float64
}

// runScale fills one tenant with finished jobs step by step (o.Scale holds
// the totals) and measures, at each step, memory, the controller's resync,
// submissions side by side with raw Jobs, and list latency.
func (e *env) runScale(ctx context.Context) ([]ScaleResult, error) {
	o, metricsURL := e.o, e.controllerMetrics
	cfg := e.s.Cluster.Config()
	cfg.QPS = -1
	seeder, err := client.New(cfg, client.Options{Scheme: scheme.New()})
	if err != nil {
		return nil, err
	}
	time.Sleep(2 * time.Second) // let the idle processes settle before the baseline
	baseAPI, baseCtl := e.memory(ctx)
	var out []ScaleResult
	seeded := 0
	for step, total := range o.Scale {
		r := ScaleResult{Seeded: total}
		o.Log("scale: %d finished jobs in tenant %s (seeding %d, controller stopped so it creates no Jobs for them)", total, scaleTenant, total-seeded)
		if err := e.s.StopController(false); err != nil {
			return out, err
		}
		start := time.Now()
		if err := seed(ctx, seeder, stack.Namespace(scaleTenant), seeded, total, fmt.Sprintf("b%d", step+1)); err != nil {
			return out, err
		}
		r.SeedTime = time.Since(start)
		seeded = total
		if err := e.waitCached(ctx, total); err != nil {
			return out, err
		}
		o.Log("scale: %d seeded in %s; restarting the controller", total, r.SeedTime.Round(time.Second))
		start = time.Now()
		if err := e.s.StartController(ctx); err != nil {
			return out, err
		}
		if r.Reconciles, err = waitResynced(ctx, metricsURL, total); err != nil {
			return out, err
		}
		r.Resync = time.Since(start)
		time.Sleep(2 * time.Second)
		r.API, r.Controller = e.memory(ctx)
		r.APIBytesPerJob = perJob(r.API, baseAPI, total)
		r.ControllerPerJob = perJob(r.Controller, baseCtl, total)
		r.Submit = Size{N: o.ScaleSubmit, C: 8}
		o.Log("scale: %d jobs: %s through the REST API and as raw Jobs", total, r.Submit)
		r.AsyncJob, _ = e.asyncJobs(ctx, scaleTenant, r.Submit)
		r.Raw = e.rawJobs(ctx, scaleTenant, r.Submit)
		r.Jobs = total + r.AsyncJob.Submitted
		if o.ReadDuration > 0 {
			o.Log("scale: %d jobs: reads, %s per kind", r.Jobs, o.ReadDuration)
			if r.Reads, err = e.scaleReads(ctx, r.Submit.C); err != nil {
				return out, err
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// seed creates the jobs [from, to) of the tenant's namespace as the REST API
// and the controller would have left them once finished: a Completed status
// with a typical result, conditions, and an expiry a day later. Their Jobs
// and pods are not created (a finished job's Job is kept until its AsyncJob
// expires, so a real cluster holds those too).
func seed(ctx context.Context, c client.Client, ns string, from, to int, batch string) error {
	var next atomic.Int64
	next.Store(int64(from))
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for range seedConcurrency {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= to || ctx.Err() != nil {
					return
				}
				if err := seedOne(ctx, c, ns, i, batch); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	return firstErr
}

func seedOne(ctx context.Context, c client.Client, ns string, i int, batch string) error {
	aj := wrappers.MakeAsyncJob(uuid.NewString(), ns).Tenant(scaleTenant).Label(seedLabel, batch).Type(benchType).
		Params(fmt.Sprintf(`{"index":%d,"input":"https://storage.example.com/inputs/video-%06d.mov","format":"webm"}`, i, i)).
		Obj()
	if err := c.Create(ctx, aj); err != nil {
		return fmt.Errorf("seeding: %w", err)
	}
	now := metav1.Now()
	expire := metav1.NewTime(now.Add(24 * time.Hour))
	cond := func(t string, s metav1.ConditionStatus, reason, msg string) metav1.Condition {
		return metav1.Condition{Type: t, Status: s, Reason: reason, Message: msg, ObservedGeneration: aj.Generation, LastTransitionTime: now}
	}
	aj.Status = asyncjobv1alpha1.AsyncJobStatus{
		State: asyncjobv1alpha1.StateCompleted, ObservedGeneration: aj.Generation,
		JobName: aj.Name, Attempts: 1, StartTime: &now, CompletionTime: &now, ExpireTime: &expire,
		Result: &apiextensionsv1.JSON{Raw: []byte(typicalResult)},
		Conditions: []metav1.Condition{
			cond(asyncjobv1alpha1.ConditionAccepted, metav1.ConditionTrue, asyncjobv1alpha1.ReasonJobCreated, "the Job was created"),
			cond(asyncjobv1alpha1.ConditionRunning, metav1.ConditionFalse, asyncjobv1alpha1.ReasonFinished, "the AsyncJob finished"),
			cond(asyncjobv1alpha1.ConditionComplete, metav1.ConditionTrue, asyncjobv1alpha1.ReasonJobComplete, "the Job completed"),
		},
	}
	if err := c.Status().Update(ctx, aj); err != nil {
		return fmt.Errorf("seeding status: %w", err)
	}
	return nil
}

// waitCached waits until the observer's watch has delivered n AsyncJobs of
// the scale tenant, finished; the API's informer is fed the same way.
func (e *env) waitCached(ctx context.Context, n int) error {
	prefix := stack.Namespace(scaleTenant) + "/"
	return pollUntil(ctx, 10*time.Minute, func() bool {
		e.obs.mu.Lock()
		defer e.obs.mu.Unlock()
		got := 0
		for k, s := range e.obs.asyncJobs {
			if strings.HasPrefix(k, prefix) && !s.finished.IsZero() {
				got++
			}
		}
		return got >= n
	})
}

// waitResynced waits until the controller has reconciled at least n AsyncJobs
// since its start and its queue is empty; it returns its reconcile count.
func waitResynced(ctx context.Context, metricsURL string, n int) (float64, error) {
	var reconciles float64
	err := pollUntil(ctx, 20*time.Minute, func() bool {
		m, err := scrapeProcess(ctx, metricsURL)
		if err != nil {
			return false
		}
		reconciles = m.sum("controller_runtime_reconcile_total", "controller", "asyncjob")
		return reconciles >= float64(n) && m.sum("workqueue_depth", "name", "asyncjob") == 0
	})
	return reconciles, err
}

// memory samples the API's and the controller's RSS and Go heap.
func (e *env) memory(ctx context.Context) (api, ctl MemSample) {
	measure := func(pid int, url string) MemSample {
		var s MemSample
		if u, err := usageOf(pid); err == nil {
			s.RSS = float64(u.RSS)
		}
		if m, err := scrapeProcess(ctx, url); err == nil {
			s.HeapInuse = m.sum("go_memstats_heap_inuse_bytes", "", "")
		}
		return s
	}
	return measure(e.s.APIPID(), e.s.APIMetricsURL), measure(e.s.ControllerPID(), e.controllerMetrics)
}

func perJob(s, base MemSample, n int) MemSample {
	return MemSample{RSS: (s.RSS - base.RSS) / float64(n), HeapInuse: (s.HeapInuse - base.HeapInuse) / float64(n)}
}

// scaleReads sends the reads that depend on the number of jobs: lists of 20,
// unfiltered and filtered by status and by label, and one job, against the
// same server's /healthz.
func (e *env) scaleReads(ctx context.Context, c int) ([]ReadResult, error) {
	key := e.s.APIKeys[scaleTenant]
	hc := newHTTPClient(c)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.s.APIURL+"/v1/jobs?limit=1&label=batch=b1", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	raw, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	var page struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(raw, &page) != nil || len(page.Items) != 1 {
		return nil, fmt.Errorf("GET /v1/jobs?limit=1&label=batch=b1: %d %s", resp.StatusCode, raw)
	}
	base := readKinds(e.s.APIURL, key, []string{page.Items[0].ID}, []string{""})
	list := func(name, query string) readKind {
		k := base[3]
		k.name = name
		k.request = func(ctx context.Context, _ int) (*http.Request, error) {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.s.APIURL+"/v1/jobs?"+query, nil)
			if err == nil {
				req.Header.Set("Authorization", "Bearer "+key)
			}
			return req, err
		}
		return k
	}
	kinds := []readKind{
		base[0], base[1],
		list("GET /v1/jobs?limit=20", "limit=20"),
		list("GET /v1/jobs?limit=20&status=COMPLETED", "limit=20&status=COMPLETED"),
		list("GET /v1/jobs?limit=20&label=batch=b1", "limit=20&label=batch=b1"),
	}
	return e.hammerAll(ctx, hc, kinds, c)
}

// processMetrics is a scrape of a process's Prometheus endpoint.
type processMetrics map[string][]*sample

type sample struct {
	labels map[string]string
	value  float64
}

// sum adds the samples of name whose label has value ("" label: all).
func (m processMetrics) sum(name, label, value string) float64 {
	total := 0.0
	for _, s := range m[name] {
		if label == "" || s.labels[label] == value {
			total += s.value
		}
	}
	return total
}

func scrapeProcess(ctx context.Context, url string) (processMetrics, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %d", url, resp.StatusCode)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return nil, err
	}
	out := processMetrics{}
	for name, f := range families {
		for _, mt := range f.GetMetric() {
			s := &sample{labels: map[string]string{}}
			for _, l := range mt.GetLabel() {
				s.labels[l.GetName()] = l.GetValue()
			}
			switch {
			case mt.Counter != nil:
				s.value = mt.GetCounter().GetValue()
			case mt.Gauge != nil:
				s.value = mt.GetGauge().GetValue()
			case mt.Untyped != nil:
				s.value = mt.GetUntyped().GetValue()
			}
			out[name] = append(out[name], s)
		}
	}
	return out, nil
}

// pollUntil polls cond every 250 ms until it holds or timeout.
func pollUntil(ctx context.Context, timeout time.Duration, cond func() bool) error {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %s", timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
	return nil
}
