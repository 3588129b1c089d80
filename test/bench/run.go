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
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/go-logr/logr"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/test/framework"
	"github.com/asyncjob/asyncjob/test/localcluster"
	"github.com/asyncjob/asyncjob/test/restclient"
	"github.com/asyncjob/asyncjob/test/stack"
)

const (
	// benchType is the AsyncJobType every asyncjob job of the benchmark uses.
	benchType = "bench"
	// typicalResult is each pod's termination message, so each job has a
	// result of a typical size (about 120 bytes) for asyncjob to carry.
	typicalResult = `{"output":"https://storage.example.com/results/2026/12/01/output-000001.webm","bytes":73400320,"frames":2600,"format":"webm"}`
	// maxReadIDs bounds the jobs the read phase cycles through.
	maxReadIDs = 100
)

// Run runs every preset's sizes and returns the report. Each preset gets its
// own local cluster (kube-controller-manager's flags are fixed at start).
func Run(ctx context.Context, o Options) (*Report, error) {
	o = o.withDefaults()
	// The watches and the in-process API log through controller-runtime;
	// the report is the output.
	ctrllog.SetLogger(logr.Discard())
	started := time.Now()
	rep := &Report{Options: o, Env: environment()}
	bin := o.Binary
	if bin == "" {
		dir, err := os.MkdirTemp("", "asyncjob-bench-")
		if err != nil {
			return nil, err
		}
		defer func() { _ = os.RemoveAll(dir) }()
		bin = filepath.Join(dir, "asyncjob")
		o.Log("building the asyncjob binary")
		build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd")
		build.Dir = framework.RepoRoot()
		if out, err := build.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("go build ./cmd: %w\n%s", err, out)
		}
	}
	for i, p := range o.Presets {
		if i > 0 && len(o.Sizes) == 0 {
			break // the scale mode runs on the first preset's cluster only
		}
		pr, err := runPreset(ctx, o, p, bin, rep, i == 0)
		if pr != nil && len(pr.Runs) > 0 {
			rep.Presets = append(rep.Presets, *pr)
		}
		if err != nil {
			return rep, fmt.Errorf("preset %s: %w", p.Name, err)
		}
	}
	rep.Env.LoadAfter = loadAverage()
	rep.Duration = time.Since(started)
	return rep, nil
}

// env is one preset's running stack and the harness's clients of it.
type env struct {
	o  Options
	s  *stack.Stack
	cs kubernetes.Interface
	// rawCS creates the raw Jobs, as its own ServiceAccount.
	rawCS kubernetes.Interface
	obs   *observer
	// template is the pod template of both workloads: the bench type's.
	template batchv1.JobTemplateSpec
	// controllerMetrics is the asyncjob controller's metrics URL.
	controllerMetrics string
	// rawPhases numbers the raw-Job phases, so names never repeat in a
	// namespace that several phases use.
	rawPhases int
}

// runPreset runs every size on one cluster of preset p; the first preset's
// cluster then runs the handler benchmarks and the scale mode, if asked.
func runPreset(ctx context.Context, o Options, p Preset, bin string, rep *Report, first bool) (*PresetResult, error) {
	tenants := make([]string, 0, 2+len(o.Sizes))
	tenants = append(tenants, "warmup")
	for i := range o.Sizes {
		tenants = append(tenants, runTenant(i))
	}
	if first && len(o.Scale) > 0 {
		tenants = append(tenants, scaleTenant)
	}
	e, stop, err := startEnv(ctx, o, p, bin, tenants)
	if err != nil {
		return nil, err
	}
	defer stop()
	if rep.Env.Kubernetes == "" {
		rep.Env.Kubernetes = e.kubeVersion()
	}
	pr := &PresetResult{Preset: p}
	if o.Warmup > 0 && len(o.Sizes) > 0 {
		o.Log("preset %s: warm-up, %d jobs of each kind", p.Name, o.Warmup)
		warm := Size{N: o.Warmup, C: min(o.Warmup, 4)}
		if r, _ := e.asyncJobs(ctx, tenants[0], warm); r.Done != warm.N {
			return pr, fmt.Errorf("warm-up: %d of %d asyncjob jobs done (%s)", r.Done, warm.N, r.FirstError)
		}
		if r := e.rawJobs(ctx, tenants[0], warm); r.Done != warm.N {
			return pr, fmt.Errorf("warm-up: %d of %d raw Jobs done (%s)", r.Done, warm.N, r.FirstError)
		}
	}
	for i, size := range o.Sizes {
		tenant := runTenant(i)
		rr := RunResult{Size: size}
		o.Log("preset %s, %s: %d jobs through the REST API", p.Name, size, size.N)
		var ids []string
		rr.AsyncJob, ids = e.asyncJobs(ctx, tenant, size)
		o.Log("preset %s, %s: %d raw Jobs", p.Name, size, size.N)
		rr.Raw = e.rawJobs(ctx, tenant, size)
		rr.RESTCompleted, err = e.restCompleted(ctx, tenant, ids)
		if err != nil {
			return pr, err
		}
		if len(ids) > maxReadIDs {
			ids = ids[:maxReadIDs]
		}
		if o.ReadDuration > 0 && len(ids) > 0 {
			o.Log("preset %s, %s: status reads, %s per kind", p.Name, size, o.ReadDuration)
			if rr.Reads, err = e.reads(ctx, tenant, ids, size.C); err != nil {
				return pr, err
			}
		}
		rr.Memory = processes(map[string]int{procAPI: e.s.APIPID(), procController: e.s.ControllerPID()})
		pr.Runs = append(pr.Runs, rr)
		if first && o.HandlerBench && i == len(o.Sizes)-1 && len(ids) > 0 {
			o.Log("preset %s: in-process handler benchmarks", p.Name)
			if rep.Handler, err = e.handlerBench(ctx, tenant, ids); err != nil {
				return pr, err
			}
			rep.HandlerJobs = size.N
		}
	}
	if first && len(o.Scale) > 0 {
		rep.Scale, err = e.runScale(ctx)
		if err != nil {
			return pr, fmt.Errorf("scale: %w", err)
		}
	}
	return pr, nil
}

// startEnv starts a stack for preset p with a namespace for each tenant's raw
// Jobs, the watches and the bench type, ready to submit. stop ends it all.
func startEnv(ctx context.Context, o Options, p Preset, bin string, tenants []string) (e *env, stop func(), err error) {
	o.Log("preset %s: starting the local cluster and asyncjob", p)
	port, err := localcluster.FreePort()
	if err != nil {
		return nil, nil, err
	}
	idDir, err := os.MkdirTemp("", "asyncjob-bench-identities-")
	if err != nil {
		return nil, nil, err
	}
	var rawCfg *rest.Config
	s, err := stack.Start(ctx, stack.Options{
		Cluster: localcluster.Options{SimulatedNodes: o.Nodes, ControllerManager: p.ControllerManager, KeepDir: o.KeepDir},
		Tenants: tenants,
		Binary:  bin,
		Log:     o.Log,
		APIArgs: []string{
			"--kubeconfig=" + identityKubeconfig(idDir, identityAPI),
			fmt.Sprintf("--rate-limit=%g", o.APIRateLimit),
			// Bound so high it never refuses, but still checked on every
			// submission, as in production.
			"--max-unfinished-jobs=10000000",
		},
		ControllerArgs: []string{
			"--kubeconfig=" + identityKubeconfig(idDir, identityController),
			// Its metrics tell the scale mode when a resync is done.
			// Plain HTTP on loopback, scraped without a token.
			fmt.Sprintf("--metrics-bind-address=127.0.0.1:%d", port), "--metrics-secure=false",
		},
		BeforeStart: func(ctx context.Context, s *stack.Stack) (err error) {
			rawCfg, err = createIdentities(ctx, s, idDir)
			return err
		},
	})
	if err != nil {
		_ = os.RemoveAll(idDir)
		return nil, nil, err
	}
	obsCtx, stopObserver := context.WithCancel(ctx)
	stop = func() {
		stopObserver()
		if err := s.Stop(); err != nil {
			o.Log("stopping the stack: %v", err)
		}
		_ = os.RemoveAll(idDir)
	}
	defer func() {
		if err != nil {
			stop()
		}
	}()
	cfg := s.Cluster.Config()
	cfg.QPS = -1 // no client-side limit, as the asyncjob processes have none
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, nil, err
	}
	obs, err := startObserver(obsCtx, cfg)
	if err != nil {
		return nil, nil, err
	}
	rawCfg.QPS = -1
	rawCS, err := kubernetes.NewForConfig(rawCfg)
	if err != nil {
		return nil, nil, err
	}
	jt := stack.SimulatedType(benchType, localcluster.PodBehavior{RunFor: o.PodRunFor, TerminationMessage: typicalResult, Quick: true}, asyncjobv1alpha1.JobLimits{})
	if err := s.Client.Create(ctx, jt); err != nil {
		return nil, nil, fmt.Errorf("creating the bench type: %w", err)
	}
	e = &env{o: o, s: s, cs: cs, rawCS: rawCS, obs: obs, template: jt.Spec.Template,
		controllerMetrics: fmt.Sprintf("http://127.0.0.1:%d/metrics", port)}
	if err := e.waitSubmittable(ctx, tenants[0]); err != nil {
		return nil, nil, err
	}
	for _, t := range tenants {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: rawNamespace(t)}}
		if _, err := cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
			return nil, nil, err
		}
	}
	return e, stop, nil
}

func (e *env) kubeVersion() string {
	v, err := e.cs.Discovery().ServerVersion()
	if err != nil {
		return ""
	}
	return v.GitVersion
}

func runTenant(i int) string { return fmt.Sprintf("run%d", i+1) }

// rawNamespace holds a tenant's raw Jobs, apart from asyncjob's.
func rawNamespace(tenant string) string { return "raw-" + tenant }

// waitSubmittable waits until the API accepts the bench type.
func (e *env) waitSubmittable(ctx context.Context, tenant string) error {
	cl := e.restClient(tenant, 1)
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		resp, _, err := cl.Do(ctx, http.MethodGet, "/v1/types/"+benchType, nil)
		return err == nil && resp.StatusCode == http.StatusOK, nil
	})
	if err != nil {
		return fmt.Errorf("type %s never became submittable: %w", benchType, err)
	}
	return nil
}

func (e *env) restClient(tenant string, c int) *restclient.Client {
	return &restclient.Client{Base: e.s.APIURL, Key: e.s.APIKeys[tenant], HTTP: newHTTPClient(c)}
}

// asyncJobs submits size.N jobs through the REST API, as a client would, and
// waits for them; it returns the result and the jobs' ids.
func (e *env) asyncJobs(ctx context.Context, tenant string, size Size) (WorkloadResult, []string) {
	ns := stack.Namespace(tenant)
	cl := e.restClient(tenant, size.C)
	submit := func(ctx context.Context, i int) (string, error) {
		body := map[string]any{"type": benchType, "parameters": map[string]any{"index": i}}
		resp, raw, err := cl.Do(ctx, http.MethodPost, "/v1/jobs", body)
		if err != nil {
			return "", err
		}
		if resp.StatusCode != http.StatusAccepted {
			return "", fmt.Errorf("POST /v1/jobs: %d %s", resp.StatusCode, raw)
		}
		var job struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(raw, &job); err != nil || job.ID == "" {
			return "", fmt.Errorf("POST /v1/jobs answered no id: %s", raw)
		}
		return ns + "/" + job.ID, nil
	}
	r, subs := e.phase(ctx, "asyncjob (REST)", size, submit, e.obs.asyncJobs)
	// Where asyncjob's time goes: until its Job exists, and from the Job's
	// completion until the AsyncJob says Completed.
	var toJob, lag []time.Duration
	ids := make([]string, 0, len(subs))
	for _, s := range subs {
		if s.err != nil {
			continue
		}
		ids = append(ids, s.key[len(ns)+1:])
		job, ok := e.obs.lookup(e.obs.owned, s.key)
		if !ok {
			continue
		}
		toJob = append(toJob, job.created.Sub(s.start))
		if aj, ok := e.obs.lookup(e.obs.asyncJobs, s.key); ok && !aj.finished.IsZero() && !job.finished.IsZero() {
			lag = append(lag, aj.finished.Sub(job.finished))
		}
	}
	r.ToJobCreated, r.StatusLag = summarise(toJob), summarise(lag)
	return r, ids
}

// rawJobs creates size.N batch/v1 Jobs with the bench type's pod template
// directly, as a client of kube-apiserver would, and waits for them.
func (e *env) rawJobs(ctx context.Context, tenant string, size Size) WorkloadResult {
	ns := rawNamespace(tenant)
	e.rawPhases++
	phase := e.rawPhases
	submit := func(ctx context.Context, i int) (string, error) {
		job := &batchv1.Job{
			ObjectMeta: metav1.ObjectMeta{
				Name: fmt.Sprintf("raw-%d-%06d", phase, i), Namespace: ns,
				Labels: e.template.Labels, Annotations: e.template.Annotations,
			},
			Spec: *e.template.Spec.DeepCopy(),
		}
		created, err := e.rawCS.BatchV1().Jobs(ns).Create(ctx, job, metav1.CreateOptions{})
		if err != nil {
			return "", err
		}
		return ns + "/" + created.Name, nil
	}
	r, _ := e.phase(ctx, "raw batch/v1 Job", size, submit, e.obs.jobs)
	return r
}

// phase submits, waits until every accepted job was seen finished (or a
// timeout), lets the writes settle, and measures.
func (e *env) phase(ctx context.Context, name string, size Size, submit func(context.Context, int) (string, error), finished map[string]*seen) (WorkloadResult, []submission) {
	r := WorkloadResult{Name: name}
	rc := e.cs.CoreV1().RESTClient()
	before, err := scrapeCounters(ctx, rc)
	if err != nil {
		r.Incomplete = err.Error()
		return r, nil
	}
	procBefore, busyBefore, started := processes(e.pids()), machineBusy(), time.Now()
	subs := submitAll(ctx, size.N, size.C, submit)
	keys := make([]string, 0, len(subs))
	for _, s := range subs {
		if s.err == nil {
			keys = append(keys, s.key)
		}
	}
	timeout := 2*time.Minute + time.Duration(size.N)*time.Second/2 + e.o.PodRunFor
	if err := e.obs.waitFinished(ctx, finished, keys, timeout); err != nil {
		r.Incomplete = err.Error()
	}
	after, settled, err := e.settle(ctx, rc)
	if err != nil {
		r.Incomplete = err.Error()
		return r, subs
	}
	if !settled && r.Incomplete == "" {
		r.Incomplete = "writes had not settled 30 s after the last job finished; later writes are not counted"
	}
	r.CPU = cpuBetween(procBefore, processes(e.pids()))
	r.OthersCPU = othersCPU(machineBusy()-busyBefore, r.CPU)
	r.Elapsed = time.Since(started)
	summariseSubmissions(&r, subs, func(key string) (seen, bool) { return e.obs.lookup(finished, key) })
	if r.Submitted > 0 {
		delta := after.since(before)
		r.Requests = delta.perClient(r.Submitted)
		r.Writes = groupWrites(delta.requests.byResource(writeVerbs), r.Submitted)
		for _, g := range writeGroups {
			r.WritesPerJob += r.Writes[g]
		}
	}
	return r, subs
}

// settle waits until a second passes without a write to the resources jobs
// touch (at most 30 s) and returns the counters then, so trailing writes (a
// last status update, an event) count with the phase that caused them.
func (e *env) settle(ctx context.Context, rc rest.Interface) (counters apiCounters, settled bool, err error) {
	prev, err := scrapeCounters(ctx, rc)
	if err != nil {
		return apiCounters{}, false, err
	}
	for range 30 {
		select {
		case <-ctx.Done():
			return apiCounters{}, false, ctx.Err()
		case <-time.After(time.Second):
		}
		cur, err := scrapeCounters(ctx, rc)
		if err != nil {
			return apiCounters{}, false, err
		}
		quiet := true
		w := groupWrites(cur.since(prev).requests.byResource(writeVerbs), 1)
		for _, g := range writeGroups {
			if w[g] > 0 {
				quiet = false
			}
		}
		if quiet {
			return cur, true, nil
		}
		prev = cur
	}
	return prev, false, nil
}

// pids are the processes whose CPU time a phase reports.
func (e *env) pids() map[string]int {
	pids := e.s.Cluster.PIDs()
	pids[procController] = e.s.ControllerPID()
	pids[procAPI] = e.s.APIPID()
	pids["harness"] = os.Getpid()
	return pids
}

// restCompleted asks the REST API for every job and counts those it answers
// COMPLETED: the observer watched the AsyncJobs, this checks what a client reads.
func (e *env) restCompleted(ctx context.Context, tenant string, ids []string) (int, error) {
	cl := e.restClient(tenant, 1)
	n := 0
	for _, id := range ids {
		resp, raw, err := cl.Do(ctx, http.MethodGet, "/v1/jobs/"+id, nil)
		if err != nil {
			return 0, err
		}
		var job struct {
			Status string `json:"status"`
		}
		if resp.StatusCode == http.StatusOK && json.Unmarshal(raw, &job) == nil && job.Status == "COMPLETED" {
			n++
		}
	}
	return n, nil
}
