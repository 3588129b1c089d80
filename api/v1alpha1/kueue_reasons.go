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

// Reasons of the Running=False condition of a job of a type with spec.kueue,
// while its Job is suspended.
const (
	// ReasonWaitingForKueue: the Job waits for Kueue to admit it.
	ReasonWaitingForKueue = "WaitingForKueue"
	// ReasonPreemptedByKueue: Kueue preempted the running Job (its Workload's
	// Preempted condition) to make room; it waits for admission again.
	ReasonPreemptedByKueue = "PreemptedByKueue"
	// ReasonEvictedByKueue: Kueue suspended the running Job again for another
	// reason (its Workload's Evicted condition); it waits for admission again.
	ReasonEvictedByKueue = "EvictedByKueue"
)

// MessageWaitingForKueue is the message of ReasonWaitingForKueue.
const MessageWaitingForKueue = "waiting for Kueue admission"
