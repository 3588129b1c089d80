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
)

// Label names of the metrics.
const (
	labelType  = "type"
	labelState = "state"
)

// Metrics are registered with controller-runtime's registry, so they are served
// on the manager's metrics endpoint next to controller-runtime's own.
var (
	jobsCreated = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "asyncjob_jobs_created_total",
		Help: "batch Jobs created for AsyncJobs, by type.",
	}, []string{labelType})

	jobsFinished = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "asyncjob_jobs_finished_total",
		Help: "AsyncJobs that reached a terminal state, by type and state.",
	}, []string{labelType, labelState})

	timeToStart = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "asyncjob_time_to_start_seconds",
		Help:    "Time from an AsyncJob's creation to its first running pod, by type.",
		Buckets: prometheus.ExponentialBuckets(0.25, 2, 14), // 0.25 s .. ~34 min
	}, []string{labelType})

	runDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "asyncjob_run_duration_seconds",
		Help:    "Time from an AsyncJob's start to its terminal state, by type and state.",
		Buckets: prometheus.ExponentialBuckets(1, 2, 16), // 1 s .. ~9 h
	}, []string{labelType, labelState})

	queueWait = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "asyncjob_queue_wait_seconds",
		Help:    "Time from an AsyncJob's creation to its admission by the built-in queue (its Job unsuspended), by type.",
		Buckets: prometheus.ExponentialBuckets(0.25, 2, 16), // 0.25 s .. ~2.3 h
	}, []string{labelType})
)

func init() {
	metrics.Registry.MustRegister(jobsCreated, jobsFinished, timeToStart, runDuration, queueWait)
}
