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

// Queueing: how many jobs of a type run at once, and in what order the rest
// start. A type either bounds concurrency itself (the built-in queue: the
// controller creates waiting jobs' Jobs suspended and unsuspends them in
// order as slots free) or hands admission to Kueue (a LocalQueue).

// LabelKueueQueueName is the label Kueue admits a batch Job by.
const LabelKueueQueueName = "kueue.x-k8s.io/queue-name"

// Concurrency bounds how many jobs of a type run at once. Jobs beyond the
// bound are accepted and wait, in submission order (higher priority first).
type Concurrency struct {
	// max is the most jobs of this type running at once, cluster-wide.
	// +kubebuilder:validation:Minimum=1
	// +required
	Max int32 `json:"max"`

	// perTenant is the most jobs of this type one tenant runs at once; absent: max.
	// +kubebuilder:validation:Minimum=1
	// +optional
	PerTenant *int32 `json:"perTenant,omitempty"`
}

// KueueQueue hands a type's jobs to Kueue: their Jobs are labelled with the
// LocalQueue, in the job's namespace, that admits them.
type KueueQueue struct {
	// localQueue names the Kueue LocalQueue in each tenant namespace.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +required
	LocalQueue string `json:"localQueue"`
}

// AnnotationQueue marks a Job the built-in queue admits: it is created
// suspended and the controller unsuspends it when a slot frees.
const AnnotationQueue = "asyncjob.io/queue"

// QueueConcurrency is AnnotationQueue's value for a type's concurrency bound.
const QueueConcurrency = "concurrency"

// ReasonQueued is the Running condition's reason while a job waits for a slot.
const ReasonQueued = "Queued"

// QueueStatus is a waiting job's place in its type's line, for `kubectl get`.
// The controller writes it only for the first MaxQueuePositionsWritten waiting
// jobs and only when it changes; the REST API computes the exact position
// itself at each read.
type QueueStatus struct {
	// position is 1 for the job that starts next.
	// +kubebuilder:validation:Minimum=1
	// +optional
	Position int32 `json:"position,omitempty"`
}

// AnnotationSubmittedAt is when the REST API accepted the AsyncJob (RFC 3339
// with nanoseconds). The queue orders by it, as creationTimestamp has only
// whole seconds and a burst of submissions would otherwise start in name
// (random) order within each second; AsyncJobs without it use creationTimestamp.
const AnnotationSubmittedAt = "asyncjob.io/submitted-at"
