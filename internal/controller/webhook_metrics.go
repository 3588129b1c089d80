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
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
)

// Webhook delivery metrics: what attempts came to, and how long receivers take.
var (
	webhookAttempts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "asyncjob_webhook_attempts_total",
		Help: "Webhook delivery attempts recorded, by what the delivery became: delivered, stopped (410), failed (given up or refused), retrying.",
	}, []string{"outcome"})

	webhookAttemptDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "asyncjob_webhook_attempt_duration_seconds",
		Help:    "Time from sending a webhook to its answer or error, by outcome.",
		Buckets: prometheus.ExponentialBuckets(0.01, 2, 11), // 10 ms .. ~10 s
	}, []string{"outcome"})
)

func init() {
	metrics.Registry.MustRegister(webhookAttempts, webhookAttemptDuration)
}

// webhookOutcome names a delivery's state after an attempt, for the metrics.
func webhookOutcome(s asyncjobv1alpha1.WebhookDeliveryState) string {
	if s == asyncjobv1alpha1.WebhookPending {
		return "retrying"
	}
	return map[asyncjobv1alpha1.WebhookDeliveryState]string{
		asyncjobv1alpha1.WebhookDelivered: "delivered",
		asyncjobv1alpha1.WebhookStopped:   "stopped",
		asyncjobv1alpha1.WebhookFailed:    "failed",
	}[s]
}
