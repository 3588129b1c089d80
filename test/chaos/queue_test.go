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
	"cmp"
	"context"
	"fmt"
	"slices"
	"testing"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/internal/queue"
	"github.com/asyncjob/asyncjob/test/stack"
	"github.com/asyncjob/asyncjob/test/storagewatch"
)

// typeQueued runs 2 s like typeOK, but at most queuedMax at once: its Jobs
// are created suspended and the leader's admission pass unsuspends them.
const (
	typeQueued = "chaos-queued"
	queuedMax  = 2
)

// queueVerdict is what judgeQueue finds over a whole run.
type queueVerdict struct {
	jobs       int   // AsyncJobs of the type that were accepted
	starts     int   // Jobs unsuspended (or created running)
	maxRunning int   // the most running at once, at any revision
	maxAt      int64 // the first revision it was reached
	over       []string
	stuck      []string
	outOfOrder []string
}

// judgeQueue replays the etcd changes of one bounded type's Jobs in revision
// order. Running: not suspended, not finished, not deleted (the admission
// pass's count). It reports every start after which more than bound ran;
// every accepted job (line: its place in the queue's order, by AsyncJob UID)
// whose Job never finished (never created, still suspended, still running,
// deleted first); and every start that jumped the line: a Job unsuspended
// while a Job that comes before it in the queue's order was waiting and had
// been created before it. The pass that started the later Job listed the Jobs
// after that Job's creation, so it saw the earlier one waiting; docs/
// controller.md promises that order from every replica and every restart, so
// no exception is made for failovers.
func judgeQueue(states []storagewatch.QueueState, line map[types.UID]queue.Entry, bound int) queueVerdict {
	v := queueVerdict{jobs: len(line)}
	jobs := map[types.UID]*queuedJob{}
	running := 0
	isRunning := func(s storagewatch.QueueState) bool { return !s.Suspended && !s.Finished && !s.Deleted }
	states = slices.Clone(states)
	slices.SortStableFunc(states, func(a, b storagewatch.QueueState) int { return cmp.Compare(a.Rev, b.Rev) })
	for _, s := range states {
		j := jobs[s.Job]
		if j == nil || s.Created {
			if j != nil && isRunning(j.state) {
				running-- // created again under its name: the old one is gone
			}
			j = &queuedJob{owner: s.Owner, created: s.Rev}
			jobs[s.Job] = j
		}
		was, now := j.seen && isRunning(j.state), isRunning(s)
		started := now && (!j.seen || j.state.Suspended)
		j.state, j.seen = s, true
		switch {
		case now && !was:
			running++
		case was && !now:
			running--
		}
		if running > v.maxRunning {
			v.maxRunning, v.maxAt = running, s.Rev
		}
		if started && running > bound {
			v.over = append(v.over, fmt.Sprintf("revision %d: Job %s started, %d running, bound %d", s.Rev, s.Job, running, bound))
		}
		if !started {
			continue
		}
		v.starts++
		me, known := line[j.owner]
		if !known {
			continue
		}
		var jumped []string
		for uid, other := range jobs {
			w := other.state
			if uid == s.Job || !w.Suspended || w.Finished || w.Deleted || other.created >= j.created {
				continue
			}
			if before, ok := line[other.owner]; ok && queue.Compare(before, me) < 0 {
				jumped = append(jumped, before.Name)
			}
		}
		if len(jumped) > 0 {
			slices.Sort(jumped)
			v.outOfOrder = append(v.outOfOrder, fmt.Sprintf("revision %d: %s started while %v, before it in line, waited", s.Rev, me.Name, jumped))
		}
	}
	v.stuck = stuckJobs(jobs, line)
	return v
}

// queuedJob is what judgeQueue knows of one Job: its AsyncJob, the revision
// that created it, and its last change.
type queuedJob struct {
	owner   types.UID
	created int64
	seen    bool // state holds a change
	state   storagewatch.QueueState
}

// stuckJobs names each job in line whose Job did not finish, and why.
func stuckJobs(jobs map[types.UID]*queuedJob, line map[types.UID]queue.Entry) []string {
	finished := map[types.UID]bool{}
	why := map[types.UID]string{}
	for _, j := range jobs {
		switch {
		case j.state.Finished:
			finished[j.owner] = true
		case j.state.Deleted:
			why[j.owner] = "its Job was deleted before it finished"
		case j.state.Suspended:
			why[j.owner] = "its Job is still suspended"
		default:
			why[j.owner] = "its Job is still running"
		}
	}
	var out []string
	for uid, e := range line {
		switch {
		case finished[uid]:
		case why[uid] != "":
			out = append(out, fmt.Sprintf("%s: %s", e.Name, why[uid]))
		default:
			out = append(out, fmt.Sprintf("%s: no Job was created", e.Name))
		}
	}
	slices.Sort(out)
	return out
}

// checkQueue judges typeQueued over the run from the etcd watch (synced by
// check) and the accepted AsyncJobs of the type; each broken promise fails t.
func checkQueue(t *testing.T, e *env, watch *storagewatch.JobCreations) queueVerdict {
	t.Helper()
	var list asyncjobv1alpha1.AsyncJobList
	if err := e.s.Client.List(context.Background(), &list, client.InNamespace(stack.Namespace(tenant))); err != nil {
		t.Fatal(err)
	}
	line := map[types.UID]queue.Entry{}
	for i := range list.Items {
		aj := &list.Items[i]
		if aj.Spec.Type == typeQueued {
			line[aj.UID] = queue.Entry{Namespace: aj.Namespace, Name: aj.Name, Tenant: tenant, Priority: aj.Spec.Priority, Created: queue.SubmittedAt(aj)}
		}
	}
	var states []storagewatch.QueueState
	for _, s := range watch.QueueStates() {
		if s.Type == typeQueued {
			states = append(states, s)
		}
	}
	v := judgeQueue(states, line, queuedMax)
	for _, o := range v.over {
		t.Errorf("QUEUE OVER THE BOUND: %s", o)
	}
	for _, s := range v.stuck {
		t.Errorf("QUEUE STUCK: %s", s)
	}
	for _, o := range v.outOfOrder {
		t.Errorf("QUEUE OUT OF ORDER: %s", o)
	}
	if v.jobs == 0 || v.starts == 0 {
		t.Errorf("queue: %d jobs of %s accepted, %d started: the check saw nothing", v.jobs, typeQueued, v.starts)
	}
	return v
}

func (v queueVerdict) print(logf func(string, ...any)) {
	logf("queue figures (%s, concurrency max %d):\n  queued jobs %d, starts %d, max running seen %d (at etcd revision %d; bound %d), revisions over the bound %d, stuck %d, out-of-order starts %d",
		typeQueued, queuedMax, v.jobs, v.starts, v.maxRunning, v.maxAt, queuedMax, len(v.over), len(v.stuck), len(v.outOfOrder))
}
