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
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// hookRequest is one request the test's receiver got, and what it answered.
type hookRequest struct {
	id        string    // webhook-id
	eventType string    // the payload's type
	jobID     string    // the payload's data.id
	eventTime time.Time // the payload's timestamp: when the event happened
	signedAt  string    // webhook-timestamp
	verified  bool      // the Standard Webhooks signature verified with the tenant's secret
	answered  int       // the status code the receiver answered
}

func (r hookRequest) accepted() bool { return r.answered >= 200 && r.answered < 300 }

// hookDelivery is one entry of a job's delivery log (GET .../webhook-deliveries).
type hookDelivery struct {
	id, eventType, status string
}

// hookJob is an accepted job submitted with a webhook, as the API shows it
// once everything has settled.
type hookJob struct {
	id     string
	final  string   // COMPLETED, FAILED or CANCELLED
	events []string // the events it subscribes to
	log    []hookDelivery
	// summary is webhook.status of GET /v1/jobs/{id}: its latest delivery's.
	summary string
}

// webhookVerdict is what the receiver's requests say of the jobs' deliveries.
type webhookVerdict struct {
	jobs     int
	expected int // events that must have been delivered
	// delivered: expected events with a verified 2xx request carrying the
	// id the log shows, and the log (and the job's summary) saying delivered.
	delivered int
	requests  int
	retries   int // requests after the receiver answered non-2xx to that id
	repeats   int // requests after the receiver had answered 2xx to that id: at least once
	sigFailed int
	lost      []string // expected events not delivered
	distinct  []string // two different webhook-ids for one event of one job
	bad       []string // anything else no rule allows
}

// terminalEvent is the webhook event a job's final status is.
func terminalEvent(final string) string { return "job." + strings.ToLower(final) }

// judgeWebhooks applies the rule TestChaos checks webhooks by: every event a
// job subscribes to and went through (its terminal event, and any other its
// delivery log shows) arrived, signed, with the webhook-id its log shows,
// and is logged delivered; one event never has two webhook-ids (in the log
// or at the receiver); a webhook-id repeated after a 2xx is the documented
// at-least-once window, counted, not failed; no signature fails; nothing
// arrives that no job's log explains. reqs are in the order received.
func judgeWebhooks(jobs []hookJob, reqs []hookRequest) webhookVerdict {
	v := webhookVerdict{jobs: len(jobs), requests: len(reqs)}
	byJob := map[string][]hookRequest{}
	answeredOK := map[string]bool{}
	first := map[string]hookRequest{}
	sent := map[string]int{}
	for _, r := range reqs {
		if !r.verified {
			v.sigFailed++
			continue
		}
		if f, ok := first[r.id]; !ok {
			first[r.id] = r
		} else if f.eventType != r.eventType || f.jobID != r.jobID || !f.eventTime.Equal(r.eventTime) {
			v.bad = append(v.bad, fmt.Sprintf("webhook-id %s was sent for %s %s at %s, then for %s %s at %s",
				r.id, f.jobID, f.eventType, f.eventTime.Format(time.RFC3339Nano), r.jobID, r.eventType, r.eventTime.Format(time.RFC3339Nano)))
		}
		sent[r.id]++
		switch {
		case answeredOK[r.id]:
			v.repeats++
		case sent[r.id] > 1:
			v.retries++
		}
		if r.accepted() {
			answeredOK[r.id] = true
		}
		byJob[r.jobID] = append(byJob[r.jobID], r)
	}
	known := map[string]bool{}
	for _, j := range jobs {
		known[j.id] = true
		v.judgeJob(j, byJob[j.id], answeredOK)
	}
	var strays []string
	for id := range byJob {
		if !known[id] {
			strays = append(strays, id)
		}
	}
	sort.Strings(strays)
	for _, id := range strays {
		v.bad = append(v.bad, fmt.Sprintf("job %s: %d requests, but no job with a webhook has this id", id, len(byJob[id])))
	}
	return v
}

func (v *webhookVerdict) judgeJob(j hookJob, reqs []hookRequest, answeredOK map[string]bool) {
	logged := map[string][]string{} // event type -> delivery ids in the log
	status := map[string]string{}   // delivery id -> its status
	for _, d := range j.log {
		logged[d.eventType] = append(logged[d.eventType], d.id)
		status[d.id] = d.status
	}
	received := map[string][]string{} // event type -> distinct ids received
	for _, r := range reqs {
		if !slices.Contains(received[r.eventType], r.id) {
			received[r.eventType] = append(received[r.eventType], r.id)
		}
		if _, ok := status[r.id]; !ok {
			v.bad = append(v.bad, fmt.Sprintf("job %s: %s arrived with webhook-id %s, which its delivery log does not show", j.id, r.eventType, r.id))
		}
		if !slices.Contains(j.events, r.eventType) {
			v.bad = append(v.bad, fmt.Sprintf("job %s: %s arrived, which it does not subscribe to (%v)", j.id, r.eventType, j.events))
		}
	}
	types := map[string]bool{}
	for t := range logged {
		types[t] = true
	}
	for t := range received {
		types[t] = true
	}
	terminal := terminalEvent(j.final)
	if slices.Contains(j.events, terminal) {
		types[terminal] = true
	}
	names := make([]string, 0, len(types))
	for t := range types {
		names = append(names, t)
	}
	sort.Strings(names)
	for _, t := range names {
		if ids := distinctOf(logged[t], received[t]); len(ids) > 1 {
			v.distinct = append(v.distinct, fmt.Sprintf("job %s: %s has %d webhook-ids %v (log %v, received %v)", j.id, t, len(ids), ids, logged[t], received[t]))
			continue
		}
		if !slices.Contains(j.events, t) {
			if len(received[t]) == 0 { // a request for it is reported above
				v.bad = append(v.bad, fmt.Sprintf("job %s: its log has a %s delivery, which it does not subscribe to (%v)", j.id, t, j.events))
			}
			continue
		}
		v.expected++
		switch {
		case len(logged[t]) == 0:
			v.lost = append(v.lost, fmt.Sprintf("job %s (%s): no %s delivery in its log", j.id, j.final, t))
		case status[logged[t][0]] != "delivered":
			v.lost = append(v.lost, fmt.Sprintf("job %s: %s delivery %s is %s", j.id, t, logged[t][0], status[logged[t][0]]))
		case !answeredOK[logged[t][0]]:
			v.lost = append(v.lost, fmt.Sprintf("job %s: %s delivery %s is logged delivered, but the receiver never answered 2xx to it (%d requests for the job)", j.id, t, logged[t][0], len(reqs)))
		case t == terminal && j.summary != "delivered":
			v.lost = append(v.lost, fmt.Sprintf("job %s: its webhook status is %q after %s was delivered", j.id, j.summary, t))
		default:
			v.delivered++
		}
	}
}

// distinctOf is the union of the ids, without repeats.
func distinctOf(a, b []string) []string {
	var out []string
	for _, id := range append(slices.Clone(a), b...) {
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

func (v webhookVerdict) print(log func(string, ...any)) {
	log("webhook figures:\n"+
		"  jobs with a webhook %d, events expected %d, delivered %d\n"+
		"  requests received %d: retries after the receiver's 500 %d, repeats of an id already answered 2xx %d (at least once)\n"+
		"  lost %d (must be 0), distinct webhook-ids for one event %d (must be 0), signature failures %d (must be 0), other violations %d",
		v.jobs, v.expected, v.delivered, v.requests, v.retries, v.repeats, len(v.lost), len(v.distinct), v.sigFailed, len(v.bad))
}
