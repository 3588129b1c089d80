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
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/test/restclient"
	"github.com/asyncjob/asyncjob/test/stack"
	"github.com/asyncjob/asyncjob/test/storagewatch"
)

// Leader election as controller-runtime configures it (the controller sets
// no durations of its own): a standby takes over once the lease, last
// renewed by the killed leader, has gone unrenewed for leaseDuration; it
// notices within one retry period (client-go jitters it by up to 1.2x).
const (
	leaseDuration = 15 * time.Second
	retryPeriod   = 2 * time.Second
	// busySlack is what a loaded 2-core machine may add to any bound.
	busySlack = 5 * time.Second
)

// jittered is the longest a jittered retry period lasts: client-go's
// leader election waits wait.Jitter(d, 1.2), up to d + 1.2 d.
func jittered(d time.Duration) time.Duration { return d + d*6/5 }

// TestLeaderFailover: the leading controller is SIGKILLed while jobs run and
// more arrive; the standby takes the lease within the lease duration (plus
// the retry period in which it notices); every job, those running at the
// kill and those submitted while no one led, completes on its first
// attempt with exactly one Job created. A SIGKILLed leader releases
// nothing, so the takeover comes a lease duration after its last renewal,
// plus the standby's retry periods.
func TestLeaderFailover(t *testing.T) {
	e := start(t, stack.Options{})
	ctx := context.Background()
	watch, err := storagewatch.Start(ctx, e.s.Cluster.EtcdURL())
	if err != nil {
		t.Fatal(err)
	}
	defer watch.Stop()

	var leader int
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 2*time.Minute, true, func(context.Context) (bool, error) {
		leader, err = e.s.Leader()
		return leader >= 0, err
	})
	if err != nil {
		t.Fatalf("no controller replica leads: %v", err)
	}
	var ids []string
	for i := range 10 {
		ids = append(ids, mustSubmit(t, e, typeLong, i))
	}
	if _, err := e.waitStatus(ctx, ids[len(ids)-1], 3*time.Minute, "RUNNING"); err != nil {
		t.Fatal(err)
	}
	before, err := e.s.Lease(ctx)
	if err != nil {
		t.Fatal(err)
	}
	holder := *before.Spec.HolderIdentity

	killed := time.Now()
	if err := e.s.KillController(leader); err != nil {
		t.Fatal(err)
	}
	// Submissions while no controller leads: accepted, picked up later.
	for i := range 5 {
		ids = append(ids, mustSubmit(t, e, typeOK, 100+i))
	}
	var after *coordinationLease
	err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		l, err := e.s.Lease(ctx)
		if err != nil || l.Spec.HolderIdentity == nil || *l.Spec.HolderIdentity == holder {
			return false, nil
		}
		after = &coordinationLease{holder: *l.Spec.HolderIdentity, acquired: l.Spec.AcquireTime.Time, transitions: *l.Spec.LeaseTransitions}
		return true, nil
	})
	if err != nil {
		t.Fatalf("no replica took the lease from %s: %v", holder, err)
	}
	seen := time.Now()
	// The killed leader renewed at most retryPeriod before the kill; the
	// standby saw that renewal within one jittered retry period, waits
	// leaseDuration from then and acquires at its next jittered retry.
	takeover := after.acquired.Sub(killed)
	t.Logf("failover: lease %s -> %s; kill -> new acquireTime %s, kill -> takeover seen by the test %s (lease %s, retry period %s), transitions %d",
		holder, after.holder, takeover.Round(100*time.Millisecond), seen.Sub(killed).Round(100*time.Millisecond), leaseDuration, retryPeriod, after.transitions)
	if limit := leaseDuration + 2*jittered(retryPeriod) + busySlack; takeover > limit {
		t.Errorf("takeover took %s after the kill, more than the lease duration plus two jittered retry periods (and %s slack): %s", takeover, busySlack, limit)
	}

	for _, id := range ids {
		if _, err := e.waitStatus(ctx, id, 5*time.Minute, "COMPLETED"); err != nil {
			t.Error(err)
		}
	}
	if err := watch.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	seenJobs, err := watch.ByOwner()
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		var aj asyncjobv1alpha1.AsyncJob
		if err := e.s.Client.Get(ctx, types.NamespacedName{Namespace: stack.Namespace(tenant), Name: id}, &aj); err != nil {
			t.Fatal(err)
		}
		if rec := seenJobs[aj.UID]; rec.Created != 1 || len(rec.UIDs) != 1 {
			t.Errorf("job %s: %+v Jobs created, want exactly one", id, rec)
		}
		if aj.Status.Attempts != 1 {
			t.Errorf("job %s: %d attempts, want 1: the failover must not run it again", id, aj.Status.Attempts)
		}
	}
}

type coordinationLease struct {
	holder      string
	acquired    time.Time
	transitions int32
}

// mustSubmit submits one job as a good client and fails t unless it is accepted.
func mustSubmit(t *testing.T, e *env, jobType string, n int) string {
	t.Helper()
	sub := restclient.SubmitRetrying(context.Background(), e.clients, n, fmt.Sprintf("%s-%d-%d", t.Name(), n, time.Now().UnixNano()), submitBody(jobType, n), policy)
	if sub.ID == "" {
		t.Fatalf("submission %d not accepted: %v", n, sub.Failures)
	}
	return sub.ID
}
