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

package chaos

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/test/localcluster"
	"github.com/asyncjob/asyncjob/test/stack"
)

// kubeDeadline is the documented bound on one request's Kubernetes calls
// (docs/api.md; httpapi.DefaultKubeTimeout); answers may take a little
// longer on a busy machine, by outageSlack at most.
const (
	kubeDeadline = 10 * time.Second
	outageSlack  = 5 * time.Second
)

// TestEtcdOutage: etcd is down for 30 s (ASYNCJOB_ETCD_DOWN) behind a
// running kube-apiserver. Submissions answer 503 with Retry-After within the
// deadline and create nothing; reads of known jobs keep answering from the
// API's cache; once etcd is back, everything converges by itself: a job
// that ran through the outage and a new one complete, and no API replica
// restarted.
func TestEtcdOutage(t *testing.T) {
	e := start(t, stack.Options{})
	down := envDuration("ASYNCJOB_ETCD_DOWN", 30*time.Second)
	outage(t, e, "etcd", down, e.s.Cluster.KillEtcd, e.s.Cluster.StartEtcd)
}

// TestAPIServerOutage: the same with kube-apiserver down for 20 s
// (ASYNCJOB_APISERVER_DOWN); afterwards the informers resume without a
// re-list storm: the asyncjob processes list (or watch with initial events)
// no more often after the outage than they did at start-up, once per
// informer, as kube-apiserver's audit log counts them.
func TestAPIServerOutage(t *testing.T) {
	e := start(t, stack.Options{Cluster: localcluster.Options{AuditLog: true}})
	down := envDuration("ASYNCJOB_APISERVER_DOWN", 20*time.Second)
	startup, err := asyncjobLists(e, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var back time.Time
	outage(t, e, "kube-apiserver", down, e.s.Cluster.KillAPIServer, func(ctx context.Context) error {
		back = time.Now()
		return e.s.Cluster.StartAPIServer(ctx)
	})
	after, err := asyncjobLists(e, back)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("apiserver outage: full lists by asyncjob processes: %d at start-up (%s), %d after the outage (%s); supervisor restarts %v",
		len(startup), summarize(startup), len(after), summarize(after), e.s.Restarts())
	if len(after) > len(startup) {
		t.Errorf("re-list storm: %d full lists after the outage, more than the %d of start-up", len(after), len(startup))
	}
}

// asyncjobLists are the full lists the asyncjob processes (their user agent)
// sent since since.
func asyncjobLists(e *env, since time.Time) ([]localcluster.FullList, error) {
	all, err := e.s.Cluster.FullLists(since)
	if err != nil {
		return nil, err
	}
	var out []localcluster.FullList
	for _, l := range all {
		if strings.HasPrefix(l.UserAgent, "asyncjob") {
			out = append(out, l)
		}
	}
	return out, nil
}

func summarize(ls []localcluster.FullList) string {
	by := map[string]int{}
	for _, l := range ls {
		by[l.Resource]++
	}
	return fmt.Sprint(by)
}

// outage takes a component down with kill for down while probing the REST
// API, starts it again with restart and checks convergence.
func outage(t *testing.T, e *env, what string, down time.Duration, kill func() error, restart func(context.Context) error) {
	t.Helper()
	ctx := context.Background()
	known := mustSubmit(t, e, typeOK, 0)
	if _, err := e.waitStatus(ctx, known, 3*time.Minute, "COMPLETED"); err != nil {
		t.Fatal(err)
	}
	running := mustSubmit(t, e, typeLong, 1)
	if _, err := e.waitStatus(ctx, running, 3*time.Minute, "RUNNING"); err != nil {
		t.Fatal(err)
	}
	var before asyncjobv1alpha1.AsyncJobList
	if err := e.s.Client.List(ctx, &before, client.InNamespace(stack.Namespace(tenant))); err != nil {
		t.Fatal(err)
	}
	restartsBefore := e.s.Restarts()

	if err := kill(); err != nil {
		t.Fatal(err)
	}
	downAt := time.Now()
	var mu sync.Mutex
	var submits, reads, lists int
	var slowest time.Duration
	var wg sync.WaitGroup
	for r, c := range e.clients {
		wg.Add(2)
		go func() { // submissions: 503 with Retry-After, within the deadline
			defer wg.Done()
			for i := 0; time.Since(downAt) < down; i++ {
				began := time.Now()
				resp, raw, err := c.DoWithHeader(ctx, http.MethodPost, "/v1/jobs", submitBody(typeOK, 1000+i),
					http.Header{"Idempotency-Key": {fmt.Sprintf("outage-%d-%d", r, i)}})
				took := time.Since(began)
				mu.Lock()
				submits++
				slowest = max(slowest, took)
				mu.Unlock()
				switch {
				case err != nil:
					t.Errorf("%s down: POST via %s: %v", what, c.Base, err)
				case resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "":
					t.Errorf("%s down: POST via %s: %d (Retry-After %q) %s, want 503 with Retry-After", what, c.Base, resp.StatusCode, resp.Header.Get("Retry-After"), raw)
				case strings.Contains(string(raw), "etcd") || strings.Contains(string(raw), "dial tcp"):
					t.Errorf("%s down: the 503 leaks internal text: %s", what, raw)
				}
				if took > kubeDeadline+outageSlack {
					t.Errorf("%s down: POST via %s answered after %s, past the %s deadline", what, c.Base, took, kubeDeadline)
				}
				time.Sleep(time.Second)
			}
		}()
		go func() { // reads of known jobs: from the cache, 200
			defer wg.Done()
			for time.Since(downAt) < down {
				for _, path := range []string{"/v1/jobs/" + known, "/v1/jobs?limit=10"} {
					resp, raw, err := c.Do(ctx, http.MethodGet, path, nil)
					if err != nil || resp.StatusCode != http.StatusOK {
						t.Errorf("%s down: GET %s via %s: %v %s, want 200 from the cache", what, path, c.Base, err, statusOf(resp, raw))
					}
					mu.Lock()
					if strings.HasPrefix(path, "/v1/jobs?") {
						lists++
					} else {
						reads++
					}
					mu.Unlock()
				}
				time.Sleep(500 * time.Millisecond)
			}
		}()
	}
	wg.Wait()
	if err := restart(ctx); err != nil {
		t.Fatal(err)
	}
	backAt := time.Now()
	t.Logf("%s down %s: %d submissions answered 503 (slowest %s), %d reads and %d lists answered 200", what, backAt.Sub(downAt).Round(100*time.Millisecond),
		submits, slowest.Round(100*time.Millisecond), reads, lists)

	var after asyncjobv1alpha1.AsyncJobList
	if err := e.s.Client.List(ctx, &after, client.InNamespace(stack.Namespace(tenant))); err != nil {
		t.Fatal(err)
	}
	if len(after.Items) != len(before.Items) {
		t.Errorf("%d AsyncJobs after the outage, %d before: a refused submission created something", len(after.Items), len(before.Items))
	}
	// Convergence: the job that ran through the outage and a new one finish.
	fresh := mustSubmit(t, e, typeOK, 2)
	for _, id := range []string{running, fresh} {
		if _, err := e.waitStatus(ctx, id, 5*time.Minute, "COMPLETED"); err != nil {
			t.Error(err)
		}
	}
	t.Logf("%s outage: converged %s after it ended; supervisor restarts before %v, after %v", what, time.Since(backAt).Round(100*time.Millisecond), restartsBefore, e.s.Restarts())
	for _, name := range e.s.APINames() {
		if n := e.s.Restarts()[name] - restartsBefore[name]; n > 0 {
			t.Errorf("%s restarted %d times during the %s outage: the API must ride it out", name, n, what)
		}
	}
}

func statusOf(resp *http.Response, raw []byte) string {
	if resp == nil {
		return ""
	}
	return fmt.Sprintf("%d %s", resp.StatusCode, raw)
}
