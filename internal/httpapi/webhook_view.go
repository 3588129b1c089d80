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
	"fmt"
	"strings"
	"time"

	"github.com/asyncjob/asyncjob/api/v1alpha1"
)

// JobWebhook is a job's webhook as REST clients see it: where it goes, what
// for, and a summary of its latest delivery (docs/api.md, "Webhooks").
type JobWebhook struct {
	URL    string   `json:"url"`
	Events []string `json:"events"`
	// Status of the latest delivery; pending before any delivery exists.
	Status        string     `json:"status"`
	Attempts      int32      `json:"attempts"`
	LastAttemptAt *time.Time `json:"lastAttemptAt"`
	LastError     *string    `json:"lastError"`
	NextAttemptAt *time.Time `json:"nextAttemptAt"`
}

// The REST statuses of a delivery: its state, lower-case.
const (
	webhookStatusPending   = "pending"
	webhookStatusDelivered = "delivered"
	webhookStatusStopped   = "stopped"
	webhookStatusFailed    = "failed"
)

func deliveryStatus(s v1alpha1.WebhookDeliveryState) string {
	switch s {
	case v1alpha1.WebhookDelivered:
		return webhookStatusDelivered
	case v1alpha1.WebhookStopped:
		return webhookStatusStopped
	case v1alpha1.WebhookFailed:
		return webhookStatusFailed
	default:
		return webhookStatusPending
	}
}

// webhookDeliveriesPath is the URL path of a job's delivery log.
func webhookDeliveriesPath(id string) string { return jobPath(id) + "/webhook-deliveries" }

// toJobWebhook summarises aj's webhook: nil without one. The latest delivery
// is the last one of status.webhook.deliveries (the controller appends them
// in event order); its attempts count every attempt, lastAttemptAt and
// lastError are those of its most recent attempt, nextAttemptAt is set only
// while it is pending.
func toJobWebhook(aj *v1alpha1.AsyncJob) (*JobWebhook, string) {
	spec := aj.Spec.Webhook
	if spec == nil {
		return nil, ""
	}
	w := &JobWebhook{URL: spec.URL, Events: effectiveEvents(spec), Status: webhookStatusPending}
	if st := aj.Status.Webhook; st != nil && len(st.Deliveries) > 0 {
		d := toDelivery(st.Deliveries[len(st.Deliveries)-1])
		w.Status, w.Attempts, w.NextAttemptAt = d.Status, d.Attempts, d.NextAttemptAt
		if len(d.RecentAttempts) > 0 {
			last := d.RecentAttempts[0]
			w.LastAttemptAt = &last.At
			w.LastError = last.Error
		}
	}
	return w, webhookDeliveriesPath(aj.Name)
}

// WebhookDelivery is one event's delivery in GET /v1/jobs/{id}/webhook-deliveries.
type WebhookDelivery struct {
	// ID is the webhook-id header the receiver sees on every attempt.
	ID            string     `json:"id"`
	Type          string     `json:"type"`
	Status        string     `json:"status"`
	EventAt       time.Time  `json:"eventAt"`
	Attempts      int32      `json:"attempts"`
	NextAttemptAt *time.Time `json:"nextAttemptAt"`
	// RecentAttempts are the most recent attempts, newest first.
	RecentAttempts []WebhookAttempt `json:"recentAttempts"`
	Links          DeliveryLinks    `json:"links"`
}

// WebhookAttempt is one HTTP request to the receiver.
type WebhookAttempt struct {
	At time.Time `json:"at"`
	// HTTPStatus is null when no answer came (timeout, connection refused).
	HTTPStatus *int32  `json:"httpStatus"`
	DurationMs int64   `json:"durationMs"`
	Error      *string `json:"error"`
}

// DeliveryLinks are a delivery's related URLs.
type DeliveryLinks struct {
	Redeliver string `json:"redeliver"`
}

// WebhookDeliveryList is the body of GET /v1/jobs/{id}/webhook-deliveries.
type WebhookDeliveryList struct {
	Items []WebhookDelivery `json:"items"`
}

// toDeliveryList renders the delivery log, newest delivery first.
func toDeliveryList(aj *v1alpha1.AsyncJob) WebhookDeliveryList {
	out := WebhookDeliveryList{Items: []WebhookDelivery{}}
	if aj.Status.Webhook == nil {
		return out
	}
	ds := aj.Status.Webhook.Deliveries
	for i := len(ds) - 1; i >= 0; i-- {
		d := toDelivery(ds[i])
		d.Links.Redeliver = webhookDeliveriesPath(aj.Name) + "/" + d.ID + "/redeliver"
		out.Items = append(out.Items, d)
	}
	return out
}

func toDelivery(d v1alpha1.WebhookDelivery) WebhookDelivery {
	out := WebhookDelivery{
		ID: d.ID, Type: string(d.Type), Status: deliveryStatus(d.State),
		EventAt: d.EventTime.UTC(), Attempts: d.AttemptCount, RecentAttempts: []WebhookAttempt{},
	}
	if d.State == v1alpha1.WebhookPending || d.State == "" {
		out.NextAttemptAt = timePtr(d.NextAttemptTime)
	}
	for i := len(d.Attempts) - 1; i >= 0; i-- {
		out.RecentAttempts = append(out.RecentAttempts, toAttempt(d.Attempts[i]))
	}
	// A log trimmed to its last attempts still counts them all.
	if n := int32(len(d.Attempts)); out.Attempts < n {
		out.Attempts = n
	}
	return out
}

// toAttempt renders one attempt; its error is the controller's text or, for
// an answer that was not 2xx and carries none, the status code.
func toAttempt(a v1alpha1.WebhookAttempt) WebhookAttempt {
	out := WebhookAttempt{At: a.Time.UTC(), DurationMs: a.DurationMilliseconds}
	if a.StatusCode != 0 {
		code := a.StatusCode
		out.HTTPStatus = &code
	}
	msg := strings.TrimSpace(a.Error)
	if msg == "" && a.StatusCode != 0 && (a.StatusCode < 200 || a.StatusCode > 299) {
		msg = fmt.Sprintf("the receiver answered HTTP %d", a.StatusCode)
	}
	if msg != "" {
		out.Error = &msg
	}
	return out
}
