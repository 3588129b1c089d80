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

package controller

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/internal/webhook"
)

// This file decides, without I/O, which webhook deliveries an AsyncJob owes
// and what an attempt's outcome does to them. The delivery log in
// status.webhook is the whole state: whatever replica leads next reads it.

// webhookEvent is an event of the job a delivery is owed for.
type webhookEvent struct {
	Type webhookType
	// Key names the event among the job's: a delivery's id is derived from
	// it, so the same event always gets the same id.
	Key  string
	Time metav1.Time
}

type webhookType = asyncjobv1alpha1.WebhookEventType

// deliveryID is the webhook-id of an event's delivery: a hash of the job's UID
// and the event's key. Deterministic, so that a status write that was lost,
// or a new leader, re-creates the same id instead of a second message.
func deliveryID(uid types.UID, key string) string {
	sum := sha256.Sum256([]byte(string(uid) + "\x00" + key))
	return "msg_" + hex.EncodeToString(sum[:16])
}

// subscribed returns the events a webhook asks for.
func subscribed(spec *asyncjobv1alpha1.WebhookSpec) []webhookType {
	if len(spec.Events) == 0 {
		return asyncjobv1alpha1.DefaultWebhookEvents
	}
	return spec.Events
}

// happened lists the subscribed events the observed AsyncJob has gone
// through, in the order they happen.
func happened(aj *asyncjobv1alpha1.AsyncJob, now metav1.Time) []webhookEvent {
	want := subscribed(aj.Spec.Webhook)
	st := aj.Status
	var out []webhookEvent
	if slices.Contains(want, asyncjobv1alpha1.WebhookJobRunning) && (st.State == asyncjobv1alpha1.StateRunning || st.StartTime != nil) {
		out = append(out, webhookEvent{Type: asyncjobv1alpha1.WebhookJobRunning, Key: "state/running", Time: orNow(st.StartTime, now)})
	}
	finished := st.State.IsFinished()
	if p := st.Progress; p != nil && p.UpdateTime != nil && !finished && slices.Contains(want, asyncjobv1alpha1.WebhookJobProgress) {
		out = append(out, webhookEvent{
			Type: asyncjobv1alpha1.WebhookJobProgress,
			Key:  "progress/" + p.UpdateTime.UTC().Format(time.RFC3339Nano),
			Time: metav1.NewTime(p.UpdateTime.Time),
		})
	}
	if finished {
		t := webhookType("job." + strings.ToLower(string(st.State)))
		if slices.Contains(want, t) {
			out = append(out, webhookEvent{Type: t, Key: "state/" + strings.ToLower(string(st.State)), Time: orNow(st.CompletionTime, now)})
		}
	}
	return out
}

func orNow(t *metav1.Time, now metav1.Time) metav1.Time {
	if t != nil {
		return *t
	}
	return now
}

// planWebhook returns the delivery log the AsyncJob should have before any
// attempt: redeliveries asked for by the annotation reset to Pending, and a
// new Pending delivery for each event that has none yet. changed says whether
// it differs from the status, i.e. whether it must be written first.
func planWebhook(aj *asyncjobv1alpha1.AsyncJob, now time.Time) (*asyncjobv1alpha1.WebhookStatus, bool) {
	st := &asyncjobv1alpha1.WebhookStatus{}
	if aj.Status.Webhook != nil {
		st = aj.Status.Webhook.DeepCopy()
	}
	if aj.Spec.Webhook == nil {
		return st, false
	}
	mnow := metav1.NewTime(now)
	changed := false

	for _, id := range redeliveries(aj) {
		if i := indexOf(st, id); i >= 0 {
			d := &st.Deliveries[i]
			d.State = asyncjobv1alpha1.WebhookPending
			d.NextAttemptTime = &mnow
			d.AttemptsBeforeRedelivery = d.AttemptCount
			changed = true
		}
	}

	// A 410 Gone means the receiver wants nothing more about this job.
	stopped := slices.ContainsFunc(st.Deliveries, func(d asyncjobv1alpha1.WebhookDelivery) bool {
		return d.State == asyncjobv1alpha1.WebhookStopped
	})
	if !stopped {
		for _, ev := range happened(aj, mnow) {
			id := deliveryID(aj.UID, ev.Key)
			if indexOf(st, id) >= 0 {
				continue
			}
			if ev.Type == asyncjobv1alpha1.WebhookJobProgress {
				// Coalesced: a newer report replaces a progress delivery still
				// waiting, rather than queueing behind it.
				st.Deliveries = slices.DeleteFunc(st.Deliveries, func(d asyncjobv1alpha1.WebhookDelivery) bool {
					return d.Type == asyncjobv1alpha1.WebhookJobProgress && d.State == asyncjobv1alpha1.WebhookPending
				})
			}
			st.Deliveries = append(st.Deliveries, asyncjobv1alpha1.WebhookDelivery{
				ID: id, Type: ev.Type, EventTime: ev.Time,
				State: asyncjobv1alpha1.WebhookPending, NextAttemptTime: &mnow,
			})
			changed = true
		}
	}
	boundDeliveries(st)
	return st, changed
}

// redeliveries are the ids the REST API asked to send again.
func redeliveries(aj *asyncjobv1alpha1.AsyncJob) []string {
	return strings.Fields(aj.Annotations[asyncjobv1alpha1.AnnotationWebhookRedeliver])
}

func indexOf(st *asyncjobv1alpha1.WebhookStatus, id string) int {
	return slices.IndexFunc(st.Deliveries, func(d asyncjobv1alpha1.WebhookDelivery) bool { return d.ID == id })
}

// boundDeliveries keeps the log within MaxWebhookDeliveries: the oldest
// progress deliveries go first, settled ones before a waiting one; a state
// event's delivery is never dropped (a job has at most two).
func boundDeliveries(st *asyncjobv1alpha1.WebhookStatus) {
	for len(st.Deliveries) > asyncjobv1alpha1.MaxWebhookDeliveries {
		drop := slices.IndexFunc(st.Deliveries, func(d asyncjobv1alpha1.WebhookDelivery) bool {
			return d.Type == asyncjobv1alpha1.WebhookJobProgress && d.State != asyncjobv1alpha1.WebhookPending
		})
		if drop < 0 {
			drop = slices.IndexFunc(st.Deliveries, func(d asyncjobv1alpha1.WebhookDelivery) bool {
				return d.Type == asyncjobv1alpha1.WebhookJobProgress
			})
		}
		if drop < 0 {
			return
		}
		st.Deliveries = slices.Delete(st.Deliveries, drop, drop+1)
	}
}

// dueDeliveries are the ids of the Pending deliveries to attempt at now, and
// how long until the next one falls due (0: none is waiting).
func dueDeliveries(st *asyncjobv1alpha1.WebhookStatus, now time.Time) (due []string, wake time.Duration) {
	if st == nil {
		return nil, 0
	}
	for _, d := range st.Deliveries {
		if d.State != asyncjobv1alpha1.WebhookPending {
			continue
		}
		if d.NextAttemptTime == nil || !d.NextAttemptTime.After(now) {
			due = append(due, d.ID)
			continue
		}
		if w := d.NextAttemptTime.Sub(now); wake == 0 || w < wake {
			wake = w
		}
	}
	return due, wake
}

// recordAttempt applies one attempt's outcome to the delivery id, sent at at:
// 2xx delivers, 410 stops every waiting delivery of the job, a refused
// destination fails at once, anything else is retried on the schedule until
// it ends. jitter in [-1, 1) spreads the retry. It returns false when the
// delivery is no longer waiting (nothing to record).
func recordAttempt(st *asyncjobv1alpha1.WebhookStatus, id string, o webhook.Outcome, at time.Time,
	sched webhook.Schedule, jitter float64) bool {
	i := indexOf(st, id)
	if i < 0 || st.Deliveries[i].State != asyncjobv1alpha1.WebhookPending {
		return false
	}
	d := &st.Deliveries[i]
	d.Attempts = append(d.Attempts, asyncjobv1alpha1.WebhookAttempt{
		Time:                 metav1.NewMicroTime(at),
		StatusCode:           int32(o.StatusCode),
		DurationMilliseconds: o.Duration.Milliseconds(),
		Error:                truncate(o.Error, 256),
	})
	if n := len(d.Attempts) - asyncjobv1alpha1.MaxWebhookAttempts; n > 0 {
		d.Attempts = slices.Delete(d.Attempts, 0, n)
	}
	d.AttemptCount++
	d.NextAttemptTime = nil
	switch {
	case o.Error == "" && o.StatusCode >= 200 && o.StatusCode <= 299:
		d.State = asyncjobv1alpha1.WebhookDelivered
	case o.StatusCode == 410:
		for j := range st.Deliveries {
			if st.Deliveries[j].State == asyncjobv1alpha1.WebhookPending {
				st.Deliveries[j].State = asyncjobv1alpha1.WebhookStopped
				st.Deliveries[j].NextAttemptTime = nil
			}
		}
	case o.Refused:
		d.State = asyncjobv1alpha1.WebhookFailed
	default:
		delay, ok := sched.Next(int(d.AttemptCount-d.AttemptsBeforeRedelivery), jitter, o.RetryAfter)
		if !ok {
			d.State = asyncjobv1alpha1.WebhookFailed
			break
		}
		// Rounded up: status times have whole seconds, and rounding down
		// could attempt before a Retry-After.
		next := metav1.NewTime(at.Add(delay).Truncate(time.Second).Add(time.Second))
		d.NextAttemptTime = &next
	}
	return true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
