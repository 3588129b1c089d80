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
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"k8s.io/apimachinery/pkg/util/wait"
)

// The chaos stack's webhook flags: the receiver listens on this machine's
// loopback, which both the API (at submission) and the controller (at each
// connection) refuse by default; and a short retry schedule, so that a
// delivery the receiver fails once is retried within the run (the default
// waits 5 s, then 5 minutes).
var (
	webhookAllowLoopback = "--webhook-allowed-cidrs=127.0.0.0/8,::1/128"
	webhookSchedule      = "--webhook-retry-schedule=1s,2s,4s,8s,15s,30s,30s,30s,30s"
)

// receiver is the webhook receiver TestChaos submits jobs to: it verifies
// every request's signature with the maintained Standard Webhooks library,
// answers 500 to the first attempt of about one delivery in three (so that
// retries happen) and 204 otherwise, and records every request.
type receiver struct {
	srv  *httptest.Server
	wh   *standardwebhooks.Webhook
	mu   sync.Mutex
	reqs []hookRequest
	sent map[string]int // requests per webhook-id
}

// startReceiver reads the tenant's signing secret through the REST API
// (creating it, before any job signs) and starts the receiver.
func startReceiver(t *testing.T, e *env) *receiver {
	t.Helper()
	secret, err := e.webhookSecret(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatalf("the tenant's secret: %v", err)
	}
	r := &receiver{wh: wh, sent: map[string]int{}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

// URL is where the jobs' webhooks point.
func (r *receiver) URL() string { return r.srv.URL + "/hooks/chaos" }

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	rec := hookRequest{id: req.Header.Get("webhook-id"), signedAt: req.Header.Get("webhook-timestamp")}
	rec.verified = r.wh.Verify(body, req.Header) == nil
	var p struct {
		Type      string    `json:"type"`
		Timestamp time.Time `json:"timestamp"`
		Data      struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if rec.verified && json.Unmarshal(body, &p) != nil {
		rec.verified = false // signed, yet not the payload the API documents
	}
	rec.eventType, rec.eventTime, rec.jobID = p.Type, p.Timestamp, p.Data.ID

	r.mu.Lock()
	r.sent[rec.id]++
	switch {
	case !rec.verified:
		rec.answered = http.StatusUnauthorized
	case r.sent[rec.id] == 1 && failsFirst(rec.id):
		rec.answered = http.StatusInternalServerError
	default:
		rec.answered = http.StatusNoContent
	}
	r.reqs = append(r.reqs, rec)
	r.mu.Unlock()
	w.WriteHeader(rec.answered)
}

// failsFirst picks about one delivery in three, by its id, whose first
// attempt the receiver answers 500.
func failsFirst(id string) bool {
	h := fnv.New32a()
	_, _ = h.Write([]byte(id))
	return h.Sum32()%3 == 0
}

func (r *receiver) requests() []hookRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]hookRequest(nil), r.reqs...)
}

// webhookSecret is GET /v1/webhooks/secret through any replica.
func (e *env) webhookSecret(ctx context.Context) (string, error) {
	var secret string
	err := wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		for _, c := range e.clients {
			resp, raw, err := c.Do(ctx, http.MethodGet, "/v1/webhooks/secret", nil)
			if err != nil || resp.StatusCode != http.StatusOK {
				continue
			}
			var s struct {
				Secret string `json:"secret"`
			}
			if json.Unmarshal(raw, &s) == nil && s.Secret != "" {
				secret = s.Secret
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		return "", fmt.Errorf("GET /v1/webhooks/secret: %w", err)
	}
	return secret, nil
}

// hookSpec is a submission's webhook: events nil for the defaults.
type hookSpec struct {
	events []string
}

func (h *hookSpec) subscribed() []string {
	if len(h.events) == 0 {
		return []string{"job.completed", "job.failed", "job.cancelled"}
	}
	return h.events
}

// body is the webhook member of a submission to url.
func (h *hookSpec) body(url string) map[string]any {
	m := map[string]any{"url": url}
	if len(h.events) > 0 {
		m["events"] = h.events
	}
	return m
}

// hookJobOf reads job id's webhook and delivery log through any replica;
// settled says no delivery is pending.
func (e *env) hookJobOf(ctx context.Context, id string) (j hookJob, settled bool, err error) {
	j.id = id
	var job struct {
		Status  string `json:"status"`
		Webhook *struct {
			Events []string `json:"events"`
			Status string   `json:"status"`
		} `json:"webhook"`
	}
	var log struct {
		Items []struct {
			ID     string `json:"id"`
			Type   string `json:"type"`
			Status string `json:"status"`
		} `json:"items"`
	}
	if err := e.getJSON(ctx, "/v1/jobs/"+id, &job); err != nil {
		return j, false, err
	}
	if err := e.getJSON(ctx, "/v1/jobs/"+id+"/webhook-deliveries", &log); err != nil {
		return j, false, err
	}
	if job.Webhook == nil {
		return j, false, fmt.Errorf("job %s: no webhook", id)
	}
	j.final, j.events, j.summary = job.Status, job.Webhook.Events, job.Webhook.Status
	settled = j.summary != "pending"
	// The log is newest first; the judge reads it in event order.
	for i := len(log.Items) - 1; i >= 0; i-- {
		d := log.Items[i]
		j.log = append(j.log, hookDelivery{id: d.ID, eventType: d.Type, status: d.Status})
		settled = settled && d.Status != "pending"
	}
	// Its terminal event's delivery may not be planned yet (no leader).
	if t := terminalEvent(j.final); slices.Contains(j.events, t) {
		settled = settled && slices.ContainsFunc(j.log, func(d hookDelivery) bool { return d.eventType == t })
	}
	return j, settled, nil
}

// getJSON GETs path through the first replica that answers 200.
func (e *env) getJSON(ctx context.Context, path string, into any) error {
	for _, c := range e.clients {
		resp, raw, err := c.Do(ctx, http.MethodGet, path, nil)
		if err != nil || resp.StatusCode != http.StatusOK {
			continue
		}
		return json.Unmarshal(raw, into)
	}
	return fmt.Errorf("no replica answered GET %s with 200", path)
}

// settleWebhooks waits (at most 3 minutes: the shortened schedule retries
// for about 2.5) until no delivery of the jobs is pending, then returns them
// as the API shows them. A job that cannot be read is returned with what
// was read, for the judge to report.
func (e *env) settleWebhooks(ctx context.Context, ids []string) []hookJob {
	out := make([]hookJob, len(ids))
	done := make([]bool, len(ids))
	_ = wait.PollUntilContextTimeout(ctx, time.Second, 3*time.Minute, true, func(ctx context.Context) (bool, error) {
		all := true
		for i, id := range ids {
			if done[i] {
				continue
			}
			j, settled, err := e.hookJobOf(ctx, id)
			if err == nil {
				out[i] = j
			} else if out[i].id == "" {
				out[i] = hookJob{id: id}
			}
			done[i] = err == nil && settled
			all = all && done[i]
		}
		return all, nil
	})
	return out
}

// checkWebhooks judges what the receiver got against the delivery logs of
// the jobs (id -> the events submitted) and fails t on anything beyond
// at-least-once.
func checkWebhooks(t *testing.T, e *env, r *receiver, submitted map[string][]string) webhookVerdict {
	t.Helper()
	ids := make([]string, 0, len(submitted))
	for id := range submitted {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	jobs := e.settleWebhooks(context.Background(), ids)
	for i, j := range jobs {
		// The judge holds the jobs to what was submitted, not to what the API shows.
		if want := submitted[j.id]; !slices.Equal(slices.Sorted(slices.Values(j.events)), slices.Sorted(slices.Values(want))) {
			t.Errorf("webhook: job %s shows events %v, submitted %v", j.id, j.events, want)
		}
		jobs[i].events = submitted[j.id]
	}
	// Requests still in flight when the last delivery was recorded have
	// been answered by now; a second's grace lets a repeat show.
	time.Sleep(time.Second)
	v := judgeWebhooks(jobs, r.requests())
	for _, s := range v.lost {
		t.Errorf("WEBHOOK LOST: %s", s)
	}
	for _, s := range v.distinct {
		t.Errorf("WEBHOOK DUPLICATED (distinct ids): %s", s)
	}
	for _, s := range v.bad {
		t.Errorf("webhook: %s", s)
	}
	if v.sigFailed > 0 {
		t.Errorf("webhook: %d requests whose signature did not verify with the tenant's secret", v.sigFailed)
	}
	if v.expected == 0 || v.retries == 0 {
		t.Errorf("webhook: %d events expected, %d retries: the check needs both", v.expected, v.retries)
	}
	return v
}
