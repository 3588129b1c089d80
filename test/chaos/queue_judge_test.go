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
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"

	"github.com/asyncjob/asyncjob/internal/queue"
	"github.com/asyncjob/asyncjob/test/storagewatch"
)

// TestJudgeQueue: the rule TestChaos applies to the bounded type's Jobs,
// without a cluster: the bound at every revision, jobs left waiting or
// running, and starts that jumped the line.
func TestJudgeQueue(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 5, 0, 0, 0, time.UTC)
	// Jobs a, b, c, d: submitted in that order, one a second.
	line := map[types.UID]queue.Entry{}
	for i, n := range []string{"a", "b", "c", "d"} {
		line[types.UID("aj-"+n)] = queue.Entry{Namespace: "ns", Name: n, Created: t0.Add(time.Duration(i) * time.Second)}
	}
	var rev int64
	st := func(n string, suspended, finished bool) storagewatch.QueueState {
		rev++
		return storagewatch.QueueState{Rev: rev, Job: types.UID("job-" + n), Owner: types.UID("aj-" + n), Suspended: suspended, Finished: finished}
	}
	create := func(n string) storagewatch.QueueState { s := st(n, true, false); s.Created = true; return s }
	unsuspend := func(n string) storagewatch.QueueState { return st(n, false, false) }
	finish := func(n string) storagewatch.QueueState { return st(n, false, true) }
	deleted := func(n string) storagewatch.QueueState { s := st(n, false, false); s.Deleted = true; return s }
	all := func(ss ...storagewatch.QueueState) []storagewatch.QueueState { return ss }
	cases := []struct {
		name                            string
		states                          func() []storagewatch.QueueState
		line                            map[types.UID]queue.Entry
		bound                           int // 0: 2
		maxRunning, over, stuck, jumped int
	}{
		{name: "bound 1: the second start is over it", bound: 1, maxRunning: 2, over: 1, states: func() []storagewatch.QueueState {
			return all(create("a"), create("b"), create("c"), create("d"), unsuspend("a"), unsuspend("b"), finish("a"), finish("b"), unsuspend("c"), finish("c"), unsuspend("d"), finish("d"))
		}},
		{name: "two at a time, in order, all finish", maxRunning: 2, states: func() []storagewatch.QueueState {
			return all(create("a"), create("b"), create("c"), create("d"), unsuspend("a"), unsuspend("b"), finish("a"), unsuspend("c"), finish("b"), unsuspend("d"), finish("c"), finish("d"))
		}},
		{name: "a third started before one finished, a fourth too", maxRunning: 3, over: 2, states: func() []storagewatch.QueueState {
			return all(create("a"), create("b"), create("c"), create("d"), unsuspend("a"), unsuspend("b"), unsuspend("c"), finish("a"), unsuspend("d"), finish("b"), finish("c"), finish("d"))
		}},
		{name: "a Job created running counts", maxRunning: 3, over: 1, states: func() []storagewatch.QueueState {
			runningAtOnce := func(n string) storagewatch.QueueState { s := st(n, false, false); s.Created = true; return s }
			return all(create("a"), create("b"), unsuspend("a"), unsuspend("b"), runningAtOnce("c"), create("d"), finish("a"), finish("b"), finish("c"), unsuspend("d"), finish("d"))
		}},
		{name: "a deleted running Job frees its slot", maxRunning: 2, stuck: 1, states: func() []storagewatch.QueueState {
			return all(create("a"), create("b"), create("c"), create("d"), unsuspend("a"), unsuspend("b"), deleted("a"), unsuspend("c"), finish("b"), unsuspend("d"), finish("c"), finish("d"))
		}},
		{name: "a leaked slot: one left suspended", maxRunning: 2, stuck: 1, states: func() []storagewatch.QueueState {
			return all(create("a"), create("b"), create("c"), create("d"), unsuspend("a"), unsuspend("b"), finish("a"), unsuspend("c"), finish("b"), finish("c"))
		}},
		{name: "one never finished, one never created", maxRunning: 2, stuck: 2, states: func() []storagewatch.QueueState {
			return all(create("a"), create("b"), create("c"), unsuspend("a"), unsuspend("b"), finish("a"), unsuspend("c"), finish("c"))
		}},
		{name: "c started while b, earlier and created before it, waited", maxRunning: 2, jumped: 1, states: func() []storagewatch.QueueState {
			return all(create("a"), create("b"), create("c"), create("d"), unsuspend("a"), unsuspend("c"), finish("a"), unsuspend("b"), finish("c"), unsuspend("d"), finish("b"), finish("d"))
		}},
		{name: "b's Job was created after c's (the pass may not have listed it): c may start first", maxRunning: 1, states: func() []storagewatch.QueueState {
			return all(create("a"), unsuspend("a"), create("c"), create("b"), finish("a"), unsuspend("c"), create("d"), finish("c"), unsuspend("b"), finish("b"), unsuspend("d"), finish("d"))
		}},
		{name: "a Job of an unknown AsyncJob counts but is not judged for order", maxRunning: 2, over: 0, states: func() []storagewatch.QueueState {
			// x: a Job whose AsyncJob is not in the line (its owner unknown).
			return all(create("a"), create("x"), create("b"), create("c"), create("d"), unsuspend("x"), unsuspend("a"), finish("a"), unsuspend("b"), finish("b"),
				unsuspend("c"), finish("c"), unsuspend("d"), finish("d"), finish("x"))
		}},
		{name: "nothing accepted, nothing seen", line: map[types.UID]queue.Entry{}, states: func() []storagewatch.QueueState { return nil }},
	}
	for _, c := range cases {
		rev = 0
		l := line
		if c.line != nil {
			l = c.line
		}
		bound := c.bound
		if bound == 0 {
			bound = 2
		}
		v := judgeQueue(c.states(), l, bound)
		if v.maxRunning != c.maxRunning || len(v.over) != c.over || len(v.stuck) != c.stuck || len(v.outOfOrder) != c.jumped {
			t.Errorf("%s: max running %d, over %v, stuck %v, out of order %v; want max %d, over %d, stuck %d, out of order %d",
				c.name, v.maxRunning, v.over, v.stuck, v.outOfOrder, c.maxRunning, c.over, c.stuck, c.jumped)
		}
	}
}
