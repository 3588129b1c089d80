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

package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/asyncjob/asyncjob/api/v1alpha1"
)

// progressWrites counts, from a watch on the API server, the writes that
// changed a job's status.progress.
type progressWrites struct {
	mu     sync.Mutex
	writes int
	last   *v1alpha1.Progress
}

func (w *progressWrites) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.writes
}

func (h *harness) watchProgress(ns, id string) *progressWrites {
	h.t.Helper()
	wc, err := client.NewWithWatch(h.env.Config, client.Options{Scheme: h.env.Scheme})
	h.must(err)
	ctx, cancel := context.WithCancel(context.Background())
	h.t.Cleanup(cancel)
	watch, err := wc.Watch(ctx, &v1alpha1.AsyncJobList{}, client.InNamespace(ns), client.MatchingFields{"metadata.name": id})
	h.must(err)
	h.t.Cleanup(watch.Stop)
	w := &progressWrites{}
	go func() {
		for ev := range watch.ResultChan() {
			aj, ok := ev.Object.(*v1alpha1.AsyncJob)
			if !ok {
				continue
			}
			w.mu.Lock()
			if !equality.Semantic.DeepEqual(aj.Status.Progress, w.last) {
				w.writes++
				w.last = aj.Status.Progress.DeepCopy()
			}
			w.mu.Unlock()
		}
	}()
	return w
}

// blast sends progress reports as fast as one client can, round robin over
// the servers, for d; it returns how many it sent and the last one.
func blast(t *testing.T, urls []string, id, token string, d time.Duration) (sent int, last map[string]any) {
	t.Helper()
	c := &http.Client{}
	for start := time.Now(); time.Since(start) < d; sent++ {
		last = map[string]any{"percent": sent % 100, "step": "blast", "message": fmt.Sprint(sent)}
		postProgress(t, c, urls[sent%len(urls)], id, token, last)
	}
	return sent, last
}

func postProgress(t *testing.T, c *http.Client, base, id, token string, report map[string]any) int {
	t.Helper()
	body, _ := json.Marshal(report)
	req, err := http.NewRequest(http.MethodPost, base+progressPath(id), bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent && resp.StatusCode != http.StatusAccepted {
		t.Fatalf("progress report answered %d", resp.StatusCode)
	}
	return resp.StatusCode
}

// idle reports whether no server holds or writes any report.
func idle(servers ...*Server) bool {
	for _, s := range servers {
		s.progress.mu.Lock()
		n := len(s.progress.jobs)
		s.progress.mu.Unlock()
		if n > 0 {
			return false
		}
	}
	return true
}

// checkCoalescing blasts reports at the servers, then sends a last one, and
// checks that the job's progress was written at most about once per
// interval, and that the last report is what is stored in the end.
func checkCoalescing(t *testing.T, h *harness, servers []*harness, d time.Duration) {
	j := h.submit(h.tenantA, nil)
	tok := h.workerToken(h.tenantA, j.ID)
	writes := h.watchProgress(h.tenantA, j.ID)
	var urls []string
	var all []*Server
	for _, s := range servers {
		urls = append(urls, s.srv.URL)
		all = append(all, s.server)
	}

	start := time.Now()
	sent, _ := blast(t, urls, j.ID, tok, d)
	// The last report, right after the others: it finds a window open, is
	// held, and must still be what is stored in the end.
	final := map[string]any{"percent": 100, "step": "done", "message": "final"}
	if code := postProgress(t, &http.Client{}, urls[sent%len(urls)], j.ID, tok, final); code != http.StatusAccepted {
		t.Logf("the last report answered %d (not held)", code)
	}
	h.eventually("no replica holds a report any more", func() bool { return idle(all...) })
	elapsed := time.Since(start)
	p := h.kubeJob(h.tenantA, j.ID).Status.Progress
	if p == nil || p.Percent != 100 || p.Step != "done" || p.Message != "final" {
		t.Errorf("stored progress %+v, want the last report", p)
	}
	got := h.request(http.MethodGet, "/v1/jobs/"+j.ID, h.tenantA, nil).expect(t, http.StatusOK).job(t)
	if got.Progress == nil || got.Progress.Message != "final" {
		t.Errorf("the client sees progress %+v", got.Progress)
	}
	h.eventually("the watch has seen the last write", func() bool {
		writes.mu.Lock()
		defer writes.mu.Unlock()
		return writes.last != nil && writes.last.Message == "final"
	})

	// About one write per interval for the job, whatever the replicas: one
	// per interval elapsed, plus the first (leading edge) and, per replica,
	// one that can come early (docs/worker-contract.md: "over any period ...
	// plus one"). Without the cross-replica check two replicas write about
	// twice as often, which this bound catches.
	interval := h.server.cfg.ProgressInterval
	bound := int(elapsed/interval) + 1 + len(servers)
	n := writes.count()
	t.Logf("%d reports over %d replica(s) in %s (%.0f/s): %d progress writes, bound %d",
		sent+1, len(servers), elapsed.Round(time.Millisecond), float64(sent+1)/elapsed.Seconds(), n, bound)
	if sent < 1000 {
		t.Errorf("only %d reports sent: the test needs thousands to mean anything", sent)
	}
	if n > bound {
		t.Errorf("%d progress writes for %d reports in %s: more than about one per %s (%d)", n, sent+1, elapsed, interval, bound)
	}
}

// TestProgressCoalescing: thousands of reports a second cost about one
// status write a second, and the last report is stored.
func TestProgressCoalescing(t *testing.T) {
	h := newHarness(t, withWorkerKey)
	checkCoalescing(t, h, []*harness{h}, 3*time.Second)
}

// TestProgressCoalescingTwoReplicas: the same with the reports spread over two
// API replicas (two servers with caches of their own on one API server): they
// see each other's writes through the job, so the bound holds for the job,
// not per replica, and a report one of them holds never replaces a newer one
// the other wrote.
func TestProgressCoalescingTwoReplicas(t *testing.T) {
	h := newHarness(t, withWorkerKey)
	other, _ := h.sibling(t)
	checkCoalescing(t, h, []*harness{h, other}, 5*time.Second)
}

// TestHeldProgressWrittenAfterTheJobEnds: a report held when the job
// finishes is still written (it was accepted while the job ran); later
// reports are refused.
func TestHeldProgressWrittenAfterTheJobEnds(t *testing.T) {
	h := newHarness(t, withWorkerKey, func(cfg *Config) { cfg.ProgressInterval = 2 * time.Second })
	j := h.submit(h.tenantA, nil)
	tok := h.workerToken(h.tenantA, j.ID)
	h.worker(http.MethodPost, progressPath(j.ID), tok, map[string]any{"percent": 90}).expect(t, http.StatusNoContent)
	h.worker(http.MethodPost, progressPath(j.ID), tok, map[string]any{"percent": 100, "step": "last"}).expect(t, http.StatusAccepted)
	h.updateStatus(h.tenantA, j.ID, func(s *v1alpha1.AsyncJobStatus) {
		s.State = v1alpha1.StateCompleted
		now := metav1.Now()
		s.CompletionTime = &now
	})
	h.worker(http.MethodPost, progressPath(j.ID), tok, map[string]any{"percent": 5}).expect(t, http.StatusConflict)
	h.eventually("the held report is written", func() bool {
		p := h.kubeJob(h.tenantA, j.ID).Status.Progress
		return p != nil && p.Step == "last"
	})
	if aj := h.kubeJob(h.tenantA, j.ID); aj.Status.State != v1alpha1.StateCompleted || aj.Status.CompletionTime == nil {
		t.Errorf("the progress write changed the controller's status: %+v", aj.Status)
	}
}

// TestCloseWritesHeldProgress: a replica that stops writes the reports it
// holds at once, whatever its interval.
func TestCloseWritesHeldProgress(t *testing.T) {
	h := newHarness(t, withWorkerKey, func(cfg *Config) { cfg.ProgressInterval = time.Hour })
	j := h.submit(h.tenantA, nil)
	tok := h.workerToken(h.tenantA, j.ID)
	h.worker(http.MethodPost, progressPath(j.ID), tok, map[string]any{"percent": 1}).expect(t, http.StatusNoContent)
	h.worker(http.MethodPost, progressPath(j.ID), tok, map[string]any{"percent": 2}).expect(t, http.StatusAccepted)
	h.worker(http.MethodPost, progressPath(j.ID), tok, map[string]any{"percent": 3, "message": "held"}).expect(t, http.StatusAccepted)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h.server.Close(ctx)
	if p := h.kubeJob(h.tenantA, j.ID).Status.Progress; p == nil || p.Percent != 3 || p.Message != "held" {
		t.Errorf("after Close: progress %+v, want the held report", p)
	}
}

// TestHeldReportNeverReplacesNewer: a report replica A holds is older than
// the one replica B stores meanwhile; when A's window ends, it must not
// write its report over B's. (B's shorter interval makes the order certain.)
func TestHeldReportNeverReplacesNewer(t *testing.T) {
	h := newHarness(t, withWorkerKey, func(cfg *Config) { cfg.ProgressInterval = 2 * time.Second })
	b, _ := h.sibling(t, func(cfg *Config) { cfg.ProgressInterval = 200 * time.Millisecond })
	j := h.submit(h.tenantA, nil)
	tok := h.workerToken(h.tenantA, j.ID)
	h.worker(http.MethodPost, progressPath(j.ID), tok, map[string]any{"percent": 1}).expect(t, http.StatusNoContent)
	h.worker(http.MethodPost, progressPath(j.ID), tok, map[string]any{"percent": 2, "step": "held by A"}).expect(t, http.StatusAccepted)
	if r := b.worker(http.MethodPost, progressPath(j.ID), tok, map[string]any{"percent": 3, "step": "newest"}); r.StatusCode != http.StatusNoContent {
		r.expect(t, http.StatusAccepted)
	}
	h.eventually("B stores the newest report", func() bool {
		p := h.kubeJob(h.tenantA, j.ID).Status.Progress
		return p != nil && p.Step == "newest"
	})
	h.eventually("no replica holds a report any more", func() bool { return idle(h.server, b.server) })
	if p := h.kubeJob(h.tenantA, j.ID).Status.Progress; p == nil || p.Step != "newest" {
		t.Errorf("stored progress %+v: an older report replaced the newest", p)
	}
}
