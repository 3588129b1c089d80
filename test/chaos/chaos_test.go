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
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/test/restclient"
	"github.com/asyncjob/asyncjob/test/stack"
	"github.com/asyncjob/asyncjob/test/storagewatch"
)

// logical is one job a client wants to run: one Idempotency-Key, however
// many attempts it took.
type logical struct {
	n        int
	jobType  string
	want     string // the terminal status expected
	sub      restclient.Submission
	probe    bool      // submitted by the chaos loop to time recovery
	hook     *hookSpec // the webhook it is submitted with, or nil
	final    string
	finalErr error
}

// TestChaos: a steady stream of submissions through the REST API (a good
// client: one Idempotency-Key per job, retried with the same key on errors
// and timeouts, over both API replicas) while a chaos loop, at random
// moments, SIGKILLs the leading controller, SIGKILLs an API replica,
// restarts kube-apiserver and restarts etcd; the supervisor restarts what
// was killed. Afterwards: every job answered 202 exists and reached the
// status its type leads to (none lost); the etcd watch, running the whole
// test, saw exactly one Job created for each AsyncJob (none duplicated);
// a submission retried across a failure made one job, and replaying it
// answers the same job; every event a job with a webhook subscribes to and
// went through reached the test's receiver, signed, with one webhook-id
// (checkWebhooks); the bounded type never ran more than its bound at any
// etcd revision, every one of its jobs finished, and none started before
// one ahead of it in line (checkQueue). ASYNCJOB_CHAOS_DURATION (default 150s) sets how long
// the chaos lasts.
func TestChaos(t *testing.T) {
	duration := envDuration("ASYNCJOB_CHAOS_DURATION", 150*time.Second)
	e := start(t, stack.Options{
		ControllerArgs: []string{webhookAllowLoopback, webhookSchedule},
		APIArgs:        []string{webhookAllowLoopback},
	})
	ctx := context.Background()
	hooks := startReceiver(t, e)
	body := func(l *logical) map[string]any {
		b := submitBody(l.jobType, l.n)
		if l.hook != nil {
			b["webhook"] = l.hook.body(hooks.URL())
		}
		return b
	}
	watch, err := storagewatch.Start(ctx, e.s.Cluster.EtcdURL())
	if err != nil {
		t.Fatal(err)
	}
	defer watch.Stop()

	var mu sync.Mutex
	var jobs []*logical
	var reporters progressWorkers
	submit := func(jobType, want string, probe bool, hook *hookSpec) *logical {
		mu.Lock()
		l := &logical{n: len(jobs), jobType: jobType, want: want, probe: probe, hook: hook}
		jobs = append(jobs, l)
		mu.Unlock()
		l.sub = restclient.SubmitRetrying(ctx, e.clients, l.n, fmt.Sprintf("chaos-%d-%d", l.n, rand.Int64()), body(l), policy)
		if jobType == typeProgress && l.sub.ID != "" {
			reporters.start(ctx, e, l.sub.ID)
		}
		return l
	}

	// The stream: two submissions a second, one in five of a failing type,
	// one in ten of a type whose worker reports progress through the API,
	// one in five of a type that runs at most queuedMax at once;
	// three in ten with a webhook: one in ten quick jobs with the default
	// events, one in ten also subscribing to job.running, one in ten failing
	// jobs with the default events.
	streamCtx, stopStream := context.WithCancel(ctx)
	var stream errgroup.Group
	stream.Go(func() error {
		tick := time.NewTicker(500 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-streamCtx.Done():
				return nil
			case <-tick.C:
			}
			jobType, want := typeOK, "COMPLETED"
			switch {
			case i%5 == 4:
				jobType, want = typeFail, "FAILED"
			case i%10 == 2:
				jobType = typeProgress
			case i%10 == 3 || i%10 == 7:
				jobType = typeQueued
			}
			var hook *hookSpec
			switch i % 10 {
			case 1, 9:
				hook = &hookSpec{}
			case 6:
				hook = &hookSpec{events: []string{"job.running", "job.completed"}}
			}
			stream.Go(func() error { submit(jobType, want, false, hook); return nil })
		}
	})

	faults := runFaults(t, e, duration, func() *logical { return submit(typeOK, "COMPLETED", true, nil) })
	stopStream()
	_ = stream.Wait()
	t.Logf("chaos over after %d faults; waiting for every job to finish", len(faults))

	// A good client that got no answer comes back later with the same key.
	for _, l := range jobs {
		if l.sub.ID == "" && !l.sub.Refused {
			again := restclient.SubmitRetrying(ctx, e.clients, 0, l.sub.Key, body(l), policy)
			l.sub.Attempts += again.Attempts
			l.sub.Failures = append(l.sub.Failures, again.Failures...)
			l.sub.ID, l.sub.Refused = again.ID, again.Refused
		}
	}

	// Settle: every accepted job reaches a terminal status.
	var settle errgroup.Group
	settle.SetLimit(16)
	for _, l := range jobs {
		if l.sub.ID == "" {
			continue
		}
		settle.Go(func() error {
			l.final, l.finalErr = e.waitStatus(ctx, l.sub.ID, 10*time.Minute, "COMPLETED", "FAILED", "CANCELLED")
			return nil
		})
	}
	_ = settle.Wait()
	// The workers stop once their jobs are finished (409). Reports they had
	// held are written within the window, even after the job finished.
	workers := reporters.wait()
	e.settleProgress(workers)

	f := check(t, e, watch, jobs, body)
	f.faults = faults
	f.restarts = e.s.Restarts()
	f.print(t)
	p := checkProgress(t, e, workers, faults)
	p.print(t)
	if p.jobs == 0 || p.held == 0 || p.stored == 0 {
		t.Errorf("progress: %d jobs reported, %d reports held, %d stored at once: the check needs both kinds", p.jobs, p.held, p.stored)
	}
	withHook := map[string][]string{}
	for _, l := range jobs {
		if l.hook != nil && l.sub.ID != "" {
			withHook[l.sub.ID] = l.hook.subscribed()
		}
	}
	w := checkWebhooks(t, e, hooks, withHook)
	w.print(t.Logf)
	q := checkQueue(t, e, watch)
	q.print(t.Logf)
}

// figures is what TestChaos prints and docs/reliability.md quotes.
type figures struct {
	submitted, accepted, refused, retried, attempts int
	lost, wrongState, duplicated, jobsCreated       int
	faults                                          []fault
	restarts                                        map[string]int
	// failures counts the attempts that were not a 202, by answer: a
	// status code, or "no answer" (refused connection, reset, timeout).
	failures map[string]int
}

// check verifies the promises over every logical submission and returns the
// figures; each broken promise fails t with the jobs concerned.
func check(t *testing.T, e *env, watch *storagewatch.JobCreations, jobs []*logical, body func(*logical) map[string]any) *figures {
	t.Helper()
	ctx := context.Background()
	f := &figures{submitted: len(jobs), failures: map[string]int{}}
	for _, l := range jobs {
		f.countAttempts(t, l)
		f.checkOutcome(t, l)
	}

	// One Job per AsyncJob over the whole run, from etcd.
	if err := watch.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	bad, err := watch.Violations()
	if err != nil {
		t.Fatal(err)
	}
	f.duplicated = len(bad)
	for _, b := range bad {
		t.Errorf("DUPLICATED: %s", b)
	}
	seen, _ := watch.ByOwner()
	f.jobsCreated = watch.Total()

	// No AsyncJob beyond the accepted ones: retries made no extra job.
	var list asyncjobv1alpha1.AsyncJobList
	if err := e.s.Client.List(ctx, &list, client.InNamespace(stack.Namespace(tenant))); err != nil {
		t.Fatal(err)
	}
	accepted := map[string]*logical{}
	for _, l := range jobs {
		if l.sub.ID != "" {
			if other := accepted[l.sub.ID]; other != nil {
				t.Errorf("submissions %d and %d (different keys) got the same job %s", other.n, l.n, l.sub.ID)
			}
			accepted[l.sub.ID] = l
		}
	}
	for _, aj := range list.Items {
		if accepted[aj.Name] == nil {
			t.Errorf("AsyncJob %s exists, but no submission was answered with it", aj.Name)
		}
	}
	if len(list.Items) != len(accepted) {
		t.Errorf("%d AsyncJobs exist for %d accepted submissions", len(list.Items), len(accepted))
	}

	// Submissions retried across a failure: one job, one Job, and a replay
	// of the same key and request answers that job.
	for _, l := range jobs {
		if l.sub.ID == "" || len(l.sub.Failures) == 0 {
			continue
		}
		var aj asyncjobv1alpha1.AsyncJob
		if err := e.s.Client.Get(ctx, types.NamespacedName{Namespace: stack.Namespace(tenant), Name: l.sub.ID}, &aj); err != nil {
			t.Errorf("retried submission %d: job %s: %v", l.n, l.sub.ID, err)
			continue
		}
		if rec := seen[aj.UID]; rec.Created != 1 {
			t.Errorf("retried submission %d: job %s had %d Jobs created", l.n, l.sub.ID, rec.Created)
		}
		replay := restclient.SubmitRetrying(ctx, e.clients, l.n+1, l.sub.Key, body(l), policy)
		if replay.ID != l.sub.ID {
			t.Errorf("retried submission %d: a replay of key %s answered job %q (%s), want %s", l.n, l.sub.Key, replay.ID, lastOf(replay.Failures), l.sub.ID)
		}
	}
	if f.retried == 0 {
		t.Error("no submission needed a retry: the chaos never reached a client, so the test proved nothing about retries")
	}
	for _, l := range jobs {
		if l.sub.ID == "" {
			continue
		}
		var aj asyncjobv1alpha1.AsyncJob
		if err := e.s.Client.Get(ctx, types.NamespacedName{Namespace: stack.Namespace(tenant), Name: l.sub.ID}, &aj); err == nil && seen[aj.UID].Created != 1 {
			t.Errorf("job %s: %d Jobs created over the run, want 1", l.sub.ID, seen[aj.UID].Created)
		}
	}
	return f
}

// countAttempts tallies l's failed attempts by answer; a 500 fails t, since
// the API answers an unreachable or failing store with 503.
func (f *figures) countAttempts(t *testing.T, l *logical) {
	f.attempts += l.sub.Attempts
	for _, failure := range l.sub.Failures {
		_, answer, _ := strings.Cut(failure, ": ")
		code, _, _ := strings.Cut(answer, " ")
		if len(code) != 3 || code[0] < '1' || code[0] > '5' {
			code = "no answer"
		}
		f.failures[code]++
		if code == "500" {
			t.Errorf("submission %d: a 500 during the chaos: %s", l.n, failure)
		}
	}
}

// checkOutcome fails t unless l was accepted and its job reached the status
// its type leads to.
func (f *figures) checkOutcome(t *testing.T, l *logical) {
	switch {
	case l.sub.Refused:
		f.refused++
		t.Errorf("submission %d (key %s) was refused: %s", l.n, l.sub.Key, strings.Join(l.sub.Failures, "; "))
		return
	case l.sub.ID == "":
		t.Errorf("submission %d (key %s) never got an answer: %s", l.n, l.sub.Key, lastOf(l.sub.Failures))
		return
	}
	f.accepted++
	if len(l.sub.Failures) > 0 {
		f.retried++
	}
	switch {
	case l.finalErr != nil && l.final == "(not found)":
		f.lost++
		t.Errorf("LOST: submission %d, job %s was accepted and does not exist: %v", l.n, l.sub.ID, l.finalErr)
	case l.finalErr != nil:
		f.wrongState++
		t.Errorf("submission %d: %v", l.n, l.finalErr)
	case l.final != l.want:
		f.wrongState++
		t.Errorf("submission %d, job %s (%s): %s, want %s", l.n, l.sub.ID, l.jobType, l.final, l.want)
	}
}

func lastOf(s []string) string {
	if len(s) == 0 {
		return "no failure recorded"
	}
	return s[len(s)-1]
}

func (f *figures) print(t *testing.T) {
	kills := map[string]int{}
	var maxRec time.Duration
	maxBy := map[string]time.Duration{}
	for _, x := range f.faults {
		kills[x.kind]++
		maxRec = max(maxRec, x.recovery)
		maxBy[x.kind] = max(maxBy[x.kind], x.recovery)
	}
	kinds := make([]string, 0, len(kills))
	for k := range kills {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	var b strings.Builder
	fmt.Fprintf(&b, "chaos figures:\n")
	fmt.Fprintf(&b, "  submitted %d, accepted %d, refused %d, retried-then-accepted %d, attempts %d\n", f.submitted, f.accepted, f.refused, f.retried, f.attempts)
	fmt.Fprintf(&b, "  failed attempts by answer %v\n", f.failures)
	fmt.Fprintf(&b, "  lost %d, wrong final status %d, duplicated %d (Jobs created over the run: %d)\n", f.lost, f.wrongState, f.duplicated, f.jobsCreated)
	for _, k := range kinds {
		fmt.Fprintf(&b, "  fault %-24s x%d, max recovery %s\n", k, kills[k], maxBy[k].Round(100*time.Millisecond))
	}
	fmt.Fprintf(&b, "  max recovery %s (fault injected -> a job submitted right after it COMPLETED)\n", maxRec.Round(100*time.Millisecond))
	fmt.Fprintf(&b, "  supervisor restarts %v\n", f.restarts)
	t.Log(b.String())
}
