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

package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// WebhookEventType names an event a webhook can be sent for. The names are the
// Standard Webhooks payload's "type".
// +kubebuilder:validation:Enum=job.running;job.completed;job.failed;job.cancelled;job.progress
type WebhookEventType string

const (
	WebhookJobRunning   WebhookEventType = "job.running"
	WebhookJobCompleted WebhookEventType = "job.completed"
	WebhookJobFailed    WebhookEventType = "job.failed"
	WebhookJobCancelled WebhookEventType = "job.cancelled"
	WebhookJobProgress  WebhookEventType = "job.progress"
)

// DefaultWebhookEvents are delivered when a webhook names no events: the
// terminal ones, which is what a client that never polls needs.
var DefaultWebhookEvents = []WebhookEventType{WebhookJobCompleted, WebhookJobFailed, WebhookJobCancelled}

// AnnotationWebhookRedeliver asks the controller to send deliveries again: the
// REST API sets it to a space-separated list of delivery ids, and the
// controller resets those deliveries to Pending and removes the annotation.
const AnnotationWebhookRedeliver = "asyncjob.io/webhook-redeliver"

// WebhookSpec asks for signed notifications (Standard Webhooks v1) of a job's events.
type WebhookSpec struct {
	// url receives one POST per event.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=2048
	// +required
	URL string `json:"url"`

	// events to deliver; empty means job.completed, job.failed and job.cancelled.
	// +kubebuilder:validation:MaxItems=5
	// +listType=set
	// +optional
	Events []WebhookEventType `json:"events,omitempty"`
}

// WebhookDeliveryState is where one delivery stands.
// +kubebuilder:validation:Enum=Pending;Delivered;Stopped;Failed
type WebhookDeliveryState string

const (
	// WebhookPending: to be attempted (again) at nextAttemptTime.
	WebhookPending WebhookDeliveryState = "Pending"
	// WebhookDelivered: the receiver answered 2xx.
	WebhookDelivered WebhookDeliveryState = "Delivered"
	// WebhookStopped: the receiver answered 410 Gone; nothing more is sent to it for this job.
	WebhookStopped WebhookDeliveryState = "Stopped"
	// WebhookFailed: given up, after the retry schedule or because the destination is refused.
	WebhookFailed WebhookDeliveryState = "Failed"
)

// Bounds of the delivery log, so that an AsyncJob's object never grows without bound.
const (
	// MaxWebhookDeliveries bounds status.webhook.deliveries: every state event's
	// delivery is kept; older progress deliveries are dropped first.
	MaxWebhookDeliveries = 16
	// MaxWebhookAttempts bounds the attempts listed per delivery (attemptCount counts them all).
	MaxWebhookAttempts = 10
)

// WebhookStatus is the delivery log of an AsyncJob's webhook, written by the
// controller's leader, which alone sends.
type WebhookStatus struct {
	// deliveries, oldest first.
	// +listType=map
	// +listMapKey=id
	// +kubebuilder:validation:MaxItems=16
	// +optional
	Deliveries []WebhookDelivery `json:"deliveries,omitempty"`
}

// WebhookDelivery is one event's delivery and its most recent attempts.
type WebhookDelivery struct {
	// id is the webhook-id header: the same on every attempt and redelivery.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	// +required
	ID string `json:"id"`

	// type of the event.
	// +required
	Type WebhookEventType `json:"type"`

	// eventTime is when the event happened: the payload's timestamp.
	// +required
	EventTime metav1.Time `json:"eventTime"`

	// state of the delivery.
	// +required
	State WebhookDeliveryState `json:"state"`

	// attemptCount counts every attempt, including those no longer listed.
	// +optional
	AttemptCount int32 `json:"attemptCount,omitempty"`

	// nextAttemptTime is when a Pending delivery is attempted next.
	// +optional
	NextAttemptTime *metav1.Time `json:"nextAttemptTime,omitempty"`

	// attempts are the most recent attempts, oldest first.
	// +kubebuilder:validation:MaxItems=10
	// +listType=atomic
	// +optional
	Attempts []WebhookAttempt `json:"attempts,omitempty"`
}

// WebhookAttempt is one HTTP request to the receiver.
type WebhookAttempt struct {
	// time the request was sent.
	// +required
	Time metav1.MicroTime `json:"time"`

	// statusCode of the answer; absent when none came (timeout, connection refused).
	// +optional
	StatusCode int32 `json:"statusCode,omitempty"`

	// durationMilliseconds from sending to the answer (or the error).
	// +optional
	DurationMilliseconds int64 `json:"durationMilliseconds,omitempty"`

	// error says why the attempt did not deliver; never the receiver's body.
	// +kubebuilder:validation:MaxLength=256
	// +optional
	Error string `json:"error,omitempty"`
}
