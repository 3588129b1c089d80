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
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/internal/webhook"
	"github.com/asyncjob/asyncjob/test/wrappers"
)

var (
	hookNow  = time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	hookMNow = metav1.NewTime(hookNow)
)

func hookJob(events ...asyncjobv1alpha1.WebhookEventType) *wrappers.AsyncJobWrapper {
	return wrappers.MakeAsyncJob("j1", "team-a").UID("uid-1").Webhook("https://hooks.example.com/x", events...)
}

func pending(id string, t asyncjobv1alpha1.WebhookEventType, at metav1.Time) asyncjobv1alpha1.WebhookDelivery {
	return asyncjobv1alpha1.WebhookDelivery{ID: id, Type: t, EventTime: at, State: asyncjobv1alpha1.WebhookPending, NextAttemptTime: &hookMNow}
}

func TestPlanWebhookOneDeliveryPerEventWithAStableID(t *testing.T) {
	started := metav1.NewTime(hookNow.Add(-time.Minute))
	done := metav1.NewTime(hookNow.Add(-time.Second))
	aj := hookJob().Obj()
	aj.Status = asyncjobv1alpha1.AsyncJobStatus{State: asyncjobv1alpha1.StateCompleted, StartTime: &started, CompletionTime: &done}

	st, changed := planWebhook(aj, hookNow)
	want := []asyncjobv1alpha1.WebhookDelivery{pending(deliveryID("uid-1", "state/completed"), asyncjobv1alpha1.WebhookJobCompleted, done)}
	if !changed {
		t.Fatal("a new event must be recorded")
	}
	if diff := cmp.Diff(want, st.Deliveries); diff != "" {
		t.Fatalf("deliveries (-want +got):\n%s", diff)
	}
	// The plan written: planning again changes nothing.
	aj.Status.Webhook = st
	if _, changed := planWebhook(aj, hookNow.Add(time.Hour)); changed {
		t.Error("planning again re-created a recorded delivery")
	}
	// The write was lost: planning from the same observation gives the same id.
	aj.Status.Webhook = nil
	again, _ := planWebhook(aj, hookNow.Add(time.Hour))
	if again.Deliveries[0].ID != want[0].ID {
		t.Errorf("a re-planned delivery got id %s, want %s", again.Deliveries[0].ID, want[0].ID)
	}
	if other := deliveryID("uid-2", "state/completed"); other == want[0].ID {
		t.Error("two jobs share a delivery id")
	}
	if len(want[0].ID) > 64 {
		t.Errorf("id %q longer than the API allows", want[0].ID)
	}
}

func TestPlanWebhookOnlySubscribedEventsThatHappened(t *testing.T) {
	started := metav1.NewTime(hookNow.Add(-time.Minute))
	up := metav1.NewMicroTime(hookNow.Add(-30 * time.Second))
	for name, tc := range map[string]struct {
		aj   *asyncjobv1alpha1.AsyncJob
		want []asyncjobv1alpha1.WebhookEventType
	}{
		"pending, default events": {hookJob().State(asyncjobv1alpha1.StatePending).Obj(), nil},
		"running, default events": {hookJob().State(asyncjobv1alpha1.StateRunning).Obj(), nil},
		"running, subscribed": {
			hookJob(asyncjobv1alpha1.WebhookJobRunning, asyncjobv1alpha1.WebhookJobCompleted).State(asyncjobv1alpha1.StateRunning).Obj(),
			[]asyncjobv1alpha1.WebhookEventType{asyncjobv1alpha1.WebhookJobRunning},
		},
		"failed after running, all subscribed": {
			hookJob(asyncjobv1alpha1.WebhookJobRunning, asyncjobv1alpha1.WebhookJobFailed, asyncjobv1alpha1.WebhookJobProgress).
				Status(asyncjobv1alpha1.AsyncJobStatus{State: asyncjobv1alpha1.StateFailed, StartTime: &started, Progress: &asyncjobv1alpha1.Progress{UpdateTime: &up}}).Obj(),
			// no progress delivery once the job is finished
			[]asyncjobv1alpha1.WebhookEventType{asyncjobv1alpha1.WebhookJobRunning, asyncjobv1alpha1.WebhookJobFailed},
		},
		"cancelled, only completed subscribed": {hookJob(asyncjobv1alpha1.WebhookJobCompleted).State(asyncjobv1alpha1.StateCancelled).Obj(), nil},
		"cancelled, default events": {
			hookJob().State(asyncjobv1alpha1.StateCancelled).Obj(),
			[]asyncjobv1alpha1.WebhookEventType{asyncjobv1alpha1.WebhookJobCancelled},
		},
		"progress while running": {
			hookJob(asyncjobv1alpha1.WebhookJobProgress).Status(asyncjobv1alpha1.AsyncJobStatus{State: asyncjobv1alpha1.StateRunning, Progress: &asyncjobv1alpha1.Progress{UpdateTime: &up}}).Obj(),
			[]asyncjobv1alpha1.WebhookEventType{asyncjobv1alpha1.WebhookJobProgress},
		},
		"no webhook": {wrappers.MakeAsyncJob("j", "ns").State(asyncjobv1alpha1.StateCompleted).Obj(), nil},
	} {
		st, changed := planWebhook(tc.aj, hookNow)
		var got []asyncjobv1alpha1.WebhookEventType
		for _, d := range st.Deliveries {
			got = append(got, d.Type)
		}
		if diff := cmp.Diff(tc.want, got); diff != "" || changed != (len(tc.want) > 0) {
			t.Errorf("%s: changed=%v, events (-want +got):\n%s", name, changed, diff)
		}
	}
}

func TestPlanWebhookCoalescesProgress(t *testing.T) {
	aj := hookJob(asyncjobv1alpha1.WebhookJobProgress).State(asyncjobv1alpha1.StateRunning).Obj()
	report := func(at time.Time) {
		mt := metav1.NewMicroTime(at)
		aj.Status.Progress = &asyncjobv1alpha1.Progress{UpdateTime: &mt}
		st, _ := planWebhook(aj, hookNow)
		aj.Status.Webhook = st
	}
	report(hookNow.Add(-3 * time.Second))
	first := aj.Status.Webhook.Deliveries[0].ID
	report(hookNow.Add(-2 * time.Second))
	if n := len(aj.Status.Webhook.Deliveries); n != 1 || aj.Status.Webhook.Deliveries[0].ID == first {
		t.Fatalf("a newer report must replace the waiting progress delivery, got %+v", aj.Status.Webhook.Deliveries)
	}
	// Once delivered, the next report gets a delivery of its own.
	aj.Status.Webhook.Deliveries[0].State = asyncjobv1alpha1.WebhookDelivered
	report(hookNow.Add(-time.Second))
	if n := len(aj.Status.Webhook.Deliveries); n != 2 {
		t.Fatalf("want the delivered one kept and a new one, got %d", n)
	}
}

func TestPlanWebhookBoundsTheLog(t *testing.T) {
	aj := hookJob().State(asyncjobv1alpha1.StateCompleted).Obj()
	st := &asyncjobv1alpha1.WebhookStatus{}
	running := pending("msg_running", asyncjobv1alpha1.WebhookJobRunning, hookMNow)
	running.State = asyncjobv1alpha1.WebhookDelivered
	st.Deliveries = append(st.Deliveries, running)
	for i := range 20 {
		d := pending(fmt.Sprintf("msg_p%02d", i), asyncjobv1alpha1.WebhookJobProgress, hookMNow)
		d.State = asyncjobv1alpha1.WebhookDelivered
		st.Deliveries = append(st.Deliveries, d)
	}
	aj.Status.Webhook = st
	got, _ := planWebhook(aj, hookNow)
	if len(got.Deliveries) != asyncjobv1alpha1.MaxWebhookDeliveries {
		t.Fatalf("want %d deliveries, got %d", asyncjobv1alpha1.MaxWebhookDeliveries, len(got.Deliveries))
	}
	if got.Deliveries[0].ID != "msg_running" || got.Deliveries[len(got.Deliveries)-1].Type != asyncjobv1alpha1.WebhookJobCompleted {
		t.Errorf("state events must be kept: first %s, last %s", got.Deliveries[0].ID, got.Deliveries[len(got.Deliveries)-1].Type)
	}
	if got.Deliveries[1].ID != "msg_p06" {
		t.Errorf("the oldest progress deliveries go first: second is %s, want msg_p06", got.Deliveries[1].ID)
	}
}

func TestPlanWebhookRedeliverAndStop(t *testing.T) {
	aj := hookJob(asyncjobv1alpha1.WebhookJobRunning, asyncjobv1alpha1.WebhookJobCompleted).State(asyncjobv1alpha1.StateCompleted).Obj()
	d := pending("msg_a", asyncjobv1alpha1.WebhookJobRunning, hookMNow)
	d.State, d.AttemptCount, d.NextAttemptTime = asyncjobv1alpha1.WebhookStopped, 3, nil
	aj.Status.Webhook = &asyncjobv1alpha1.WebhookStatus{Deliveries: []asyncjobv1alpha1.WebhookDelivery{d}}

	if _, changed := planWebhook(aj, hookNow); changed {
		t.Fatal("after a 410 no new delivery may be made")
	}
	aj.Annotations = map[string]string{asyncjobv1alpha1.AnnotationWebhookRedeliver: "msg_a msg_unknown"}
	st, changed := planWebhook(aj, hookNow)
	if !changed || st.Deliveries[0].State != asyncjobv1alpha1.WebhookPending || st.Deliveries[0].AttemptsBeforeRedelivery != 3 ||
		!st.Deliveries[0].NextAttemptTime.Equal(&hookMNow) || st.Deliveries[0].ID != "msg_a" {
		t.Fatalf("redeliver: %+v", st.Deliveries)
	}
}

func TestRecordAttempt(t *testing.T) {
	sched := webhook.Schedule{5 * time.Second, time.Minute}
	fresh := func() *asyncjobv1alpha1.WebhookStatus {
		return &asyncjobv1alpha1.WebhookStatus{Deliveries: []asyncjobv1alpha1.WebhookDelivery{
			pending("msg_a", asyncjobv1alpha1.WebhookJobRunning, hookMNow),
			pending("msg_b", asyncjobv1alpha1.WebhookJobCompleted, hookMNow),
		}}
	}
	fail := webhook.Outcome{StatusCode: 500, Error: "HTTP 500", Duration: 12 * time.Millisecond}

	st := fresh()
	recordAttempt(st, "msg_a", fail, hookNow, sched, 0)
	d := st.Deliveries[0]
	if d.State != asyncjobv1alpha1.WebhookPending || d.AttemptCount != 1 || !d.NextAttemptTime.Time.Equal(hookNow.Add(6*time.Second)) {
		t.Fatalf("after one failure: %+v (next rounded up to the second)", d)
	}
	if diff := cmp.Diff([]asyncjobv1alpha1.WebhookAttempt{{Time: metav1.NewMicroTime(hookNow), StatusCode: 500, DurationMilliseconds: 12, Error: "HTTP 500"}}, d.Attempts); diff != "" {
		t.Errorf("attempt (-want +got):\n%s", diff)
	}
	recordAttempt(st, "msg_a", fail, hookNow, sched, 0)
	recordAttempt(st, "msg_a", fail, hookNow, sched, 0)
	if d := st.Deliveries[0]; d.State != asyncjobv1alpha1.WebhookFailed || d.NextAttemptTime != nil || d.AttemptCount != 3 {
		t.Fatalf("after the schedule: %+v", d)
	}
	if recordAttempt(st, "msg_a", fail, hookNow, sched, 0) {
		t.Error("recorded an attempt of a settled delivery")
	}

	st = fresh()
	recordAttempt(st, "msg_a", webhook.Outcome{StatusCode: 503, Error: "HTTP 503", RetryAfter: time.Hour}, hookNow, sched, 0)
	if got := st.Deliveries[0].NextAttemptTime.Time; got.Before(hookNow.Add(time.Hour)) {
		t.Errorf("Retry-After of an hour not honoured: next at %v", got)
	}

	st = fresh()
	recordAttempt(st, "msg_a", webhook.Outcome{StatusCode: 204}, hookNow, sched, 0)
	if st.Deliveries[0].State != asyncjobv1alpha1.WebhookDelivered || st.Deliveries[1].State != asyncjobv1alpha1.WebhookPending {
		t.Errorf("2xx: %+v", st.Deliveries)
	}

	st = fresh()
	recordAttempt(st, "msg_a", webhook.Outcome{StatusCode: 410, Error: "HTTP 410"}, hookNow, sched, 0)
	if st.Deliveries[0].State != asyncjobv1alpha1.WebhookStopped || st.Deliveries[1].State != asyncjobv1alpha1.WebhookStopped {
		t.Errorf("410 must stop every waiting delivery of the job: %+v", st.Deliveries)
	}

	st = fresh()
	recordAttempt(st, "msg_a", webhook.Outcome{Refused: true, Error: "destination refused"}, hookNow, sched, 0)
	if d := st.Deliveries[0]; d.State != asyncjobv1alpha1.WebhookFailed || d.Attempts[0].Error != "destination refused" {
		t.Errorf("refused: %+v", d)
	}
}

func TestRecordAttemptBoundsAttemptsAndRestartsTheScheduleOnRedelivery(t *testing.T) {
	sched := webhook.DefaultSchedule
	st := &asyncjobv1alpha1.WebhookStatus{Deliveries: []asyncjobv1alpha1.WebhookDelivery{pending("msg_a", asyncjobv1alpha1.WebhookJobCompleted, hookMNow)}}
	fail := webhook.Outcome{StatusCode: 500, Error: "HTTP 500"}
	for i := range len(sched) + 1 {
		recordAttempt(st, "msg_a", fail, hookNow.Add(time.Duration(i)*time.Second), sched, 0)
	}
	d := &st.Deliveries[0]
	if d.State != asyncjobv1alpha1.WebhookFailed || d.AttemptCount != 10 || len(d.Attempts) != asyncjobv1alpha1.MaxWebhookAttempts {
		t.Fatalf("after the whole schedule: state %s, count %d, listed %d", d.State, d.AttemptCount, len(d.Attempts))
	}
	// Redelivered: the schedule starts again, the count goes on, the list stays bounded.
	d.State, d.AttemptsBeforeRedelivery = asyncjobv1alpha1.WebhookPending, d.AttemptCount
	recordAttempt(st, "msg_a", fail, hookNow.Add(time.Minute), sched, 0)
	if d.State != asyncjobv1alpha1.WebhookPending || d.AttemptCount != 11 || len(d.Attempts) != asyncjobv1alpha1.MaxWebhookAttempts ||
		!d.Attempts[len(d.Attempts)-1].Time.Time.Equal(hookNow.Add(time.Minute)) || !d.Attempts[0].Time.Time.Equal(hookNow.Add(time.Second)) {
		t.Fatalf("after a redelivery's failure: %+v", d)
	}
}

func TestDueDeliveries(t *testing.T) {
	later := metav1.NewTime(hookNow.Add(time.Minute))
	soon := metav1.NewTime(hookNow.Add(10 * time.Second))
	st := &asyncjobv1alpha1.WebhookStatus{Deliveries: []asyncjobv1alpha1.WebhookDelivery{
		pending("msg_now", asyncjobv1alpha1.WebhookJobRunning, hookMNow),
		{ID: "msg_later", State: asyncjobv1alpha1.WebhookPending, NextAttemptTime: &later},
		{ID: "msg_soon", State: asyncjobv1alpha1.WebhookPending, NextAttemptTime: &soon},
		{ID: "msg_done", State: asyncjobv1alpha1.WebhookDelivered},
	}}
	due, wake := dueDeliveries(st, hookNow)
	if diff := cmp.Diff([]string{"msg_now"}, due); diff != "" || wake != 10*time.Second {
		t.Errorf("due (-want +got):\n%s wake %v", diff, wake)
	}
}
