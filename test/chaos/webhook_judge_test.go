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
)

// TestJudgeWebhooks: the rule TestChaos applies to webhook deliveries,
// without a cluster: what at-least-once allows and what fails.
func TestJudgeWebhooks(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 5, 0, 0, 0, time.UTC)
	defaults := []string{"job.completed", "job.failed", "job.cancelled"}
	withRunning := []string{"job.running", "job.completed"}
	req := func(id, typ, job string, code int) hookRequest {
		return hookRequest{id: id, eventType: typ, jobID: job, eventTime: t0, verified: true, answered: code}
	}
	done := func(id, typ string) hookDelivery { return hookDelivery{id: id, eventType: typ, status: "delivered"} }
	completed := func(events []string, log ...hookDelivery) hookJob {
		return hookJob{id: "j1", final: "COMPLETED", events: events, log: log, summary: "delivered"}
	}
	cases := []struct {
		name                      string
		jobs                      []hookJob
		reqs                      []hookRequest
		expected, delivered       int
		retries, repeats, sigFail int
		lost, distinct, bad       int
	}{
		{name: "delivered at the first attempt", jobs: []hookJob{completed(defaults, done("A", "job.completed"))},
			reqs: []hookRequest{req("A", "job.completed", "j1", 204)}, expected: 1, delivered: 1},
		{name: "the first attempt answered 500, the retry 204", jobs: []hookJob{completed(defaults, done("A", "job.completed"))},
			reqs: []hookRequest{req("A", "job.completed", "j1", 500), req("A", "job.completed", "j1", 204)}, expected: 1, delivered: 1, retries: 1},
		{name: "the same id again after a 204: at least once", jobs: []hookJob{completed(defaults, done("A", "job.completed"))},
			reqs: []hookRequest{req("A", "job.completed", "j1", 204), req("A", "job.completed", "j1", 204)}, expected: 1, delivered: 1, repeats: 1},
		{name: "a failed job's job.failed", jobs: []hookJob{{id: "j1", final: "FAILED", events: defaults, log: []hookDelivery{done("A", "job.failed")}, summary: "delivered"}},
			reqs: []hookRequest{req("A", "job.failed", "j1", 204)}, expected: 1, delivered: 1},
		{name: "running and completed, both delivered", jobs: []hookJob{completed(withRunning, done("R", "job.running"), done("A", "job.completed"))},
			reqs: []hookRequest{req("A", "job.completed", "j1", 204), req("R", "job.running", "j1", 204)}, expected: 2, delivered: 2},
		{name: "a failed job not subscribed to job.failed expects nothing", jobs: []hookJob{{id: "j1", final: "FAILED", events: []string{"job.completed"}, summary: "pending"}}},

		{name: "still pending in the log", jobs: []hookJob{completed(defaults, hookDelivery{id: "A", eventType: "job.completed", status: "pending"})},
			reqs: []hookRequest{req("A", "job.completed", "j1", 500)}, expected: 1, lost: 1},
		{name: "logged delivered, never answered 2xx", jobs: []hookJob{completed(defaults, done("A", "job.completed"))},
			reqs: []hookRequest{req("A", "job.completed", "j1", 500)}, expected: 1, lost: 1},
		{name: "no delivery for the terminal event", jobs: []hookJob{completed(defaults)}, expected: 1, lost: 1},
		{name: "the job's summary is not delivered", jobs: []hookJob{{id: "j1", final: "COMPLETED", events: defaults, log: []hookDelivery{done("A", "job.completed")}, summary: "pending"}},
			reqs: []hookRequest{req("A", "job.completed", "j1", 204)}, expected: 1, lost: 1},
		{name: "a logged job.running never delivered", jobs: []hookJob{completed(withRunning, hookDelivery{id: "R", eventType: "job.running", status: "failed"}, done("A", "job.completed"))},
			reqs: []hookRequest{req("A", "job.completed", "j1", 204)}, expected: 2, delivered: 1, lost: 1},
		{name: "two ids received for one event", jobs: []hookJob{completed(defaults, done("A", "job.completed"))},
			reqs: []hookRequest{req("A", "job.completed", "j1", 204), req("B", "job.completed", "j1", 204)}, distinct: 1, bad: 1},
		{name: "two deliveries logged for one event", jobs: []hookJob{completed(defaults, done("A", "job.completed"), done("B", "job.completed"))},
			reqs: []hookRequest{req("A", "job.completed", "j1", 204)}, distinct: 1},
		{name: "a signature that does not verify", jobs: []hookJob{completed(defaults, done("A", "job.completed"))},
			reqs:     []hookRequest{{id: "A", eventType: "job.completed", jobID: "j1", eventTime: t0, answered: 401}, req("A", "job.completed", "j1", 204)},
			expected: 1, delivered: 1, sigFail: 1},
		{name: "a request for a job that has no webhook", jobs: []hookJob{completed(defaults, done("A", "job.completed"))},
			reqs: []hookRequest{req("A", "job.completed", "j1", 204), req("X", "job.completed", "j2", 204)}, expected: 1, delivered: 1, bad: 1},
		{name: "one id, two event times", jobs: []hookJob{completed(defaults, done("A", "job.completed"))},
			reqs:     []hookRequest{req("A", "job.completed", "j1", 204), {id: "A", eventType: "job.completed", jobID: "j1", eventTime: t0.Add(time.Second), verified: true, answered: 204}},
			expected: 1, delivered: 1, repeats: 1, bad: 1},
		{name: "an event not subscribed to arrives", jobs: []hookJob{completed(defaults, done("A", "job.completed"), done("R", "job.running"))},
			reqs: []hookRequest{req("A", "job.completed", "j1", 204), req("R", "job.running", "j1", 204)}, expected: 1, delivered: 1, bad: 1},
	}
	for _, c := range cases {
		v := judgeWebhooks(c.jobs, c.reqs)
		if v.expected != c.expected || v.delivered != c.delivered || v.retries != c.retries || v.repeats != c.repeats || v.sigFailed != c.sigFail ||
			len(v.lost) != c.lost || len(v.distinct) != c.distinct || len(v.bad) != c.bad {
			t.Errorf("%s: verdict %+v;\n want expected %d, delivered %d, retries %d, repeats %d, signature failures %d, lost %d, distinct %d, bad %d",
				c.name, v, c.expected, c.delivered, c.retries, c.repeats, c.sigFail, c.lost, c.distinct, c.bad)
		}
	}
}
