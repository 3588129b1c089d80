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

package localcluster

import (
	"maps"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// Simulated nodes are tainted and labelled: only pods that both tolerate the
// taint and select the label run there. That keeps a real node (Options.
// RealNode) and the simulated ones apart in one cluster, and makes a test
// say which kind of node it means. SimulateOn does both for a pod spec.
const (
	// SimulatedNodeAnnotation=fake marks the nodes kwok manages.
	SimulatedNodeAnnotation = "kwok.x-k8s.io/node"
	// SimulatedNodeLabel=kwok is on every simulated node.
	SimulatedNodeLabel = "type"
	// SimulatedNodeTaint=fake:NoSchedule keeps other pods off simulated nodes.
	SimulatedNodeTaint = "kwok.x-k8s.io/node"
	// simulated is the value of the annotation and taint above.
	simulated = "fake"
)

// Annotations on a pod that steer its simulated run; see stages/pod-*.yaml.
const (
	// OutcomeAnnotation "fail" makes the pod fail (exit code 1); anything
	// else, or none, makes it succeed.
	OutcomeAnnotation = "asyncjob.io/kwok-outcome"
	// RunForAnnotation is how long the pod stays Running, as a Go duration.
	RunForAnnotation = "asyncjob.io/kwok-run-for"
	// TerminationMessageAnnotation becomes the container's termination message.
	TerminationMessageAnnotation = "asyncjob.io/kwok-termination-message"
)

// SimulateOn makes spec schedulable only on simulated nodes.
func SimulateOn(spec *corev1.PodSpec) {
	if spec.NodeSelector == nil {
		spec.NodeSelector = map[string]string{}
	}
	spec.NodeSelector[SimulatedNodeLabel] = "kwok"
	spec.Tolerations = append(spec.Tolerations, corev1.Toleration{
		Key:      SimulatedNodeTaint,
		Operator: corev1.TolerationOpEqual,
		Value:    simulated,
		Effect:   corev1.TaintEffectNoSchedule,
	})
}

// PodBehavior is what a pod on a simulated node does once it runs. A deleted
// pod disappears at a random moment before its deletionTimestamp (kwok's
// pod-delete stage), so a short terminationGracePeriodSeconds makes
// deletion, and foreground deletion of its Job, quick.
type PodBehavior struct {
	Fail               bool
	RunFor             time.Duration // 0 means kwok's default of 1s
	TerminationMessage string
	// Quick skips kwok's default 1-5 s delay of each step before Running
	// (create, init containers, ready), for tests that do not need them.
	Quick bool
}

// Annotations returns the pod annotations for b, merged into existing (which
// may be nil) and returned.
func (b PodBehavior) Annotations(existing map[string]string) map[string]string {
	a := maps.Clone(existing)
	if a == nil {
		a = map[string]string{}
	}
	if b.Fail {
		a[OutcomeAnnotation] = "fail"
	}
	if b.RunFor > 0 {
		a[RunForAnnotation] = b.RunFor.String()
	}
	if b.TerminationMessage != "" {
		a[TerminationMessageAnnotation] = b.TerminationMessage
	}
	if b.Quick {
		// kwok uses the smaller of delay and jitter-delay, so both are set.
		for _, stage := range []string{"pod-create", "pod-init-container-running", "pod-init-container-completed", "pod-ready"} {
			a[stage+".stage.kwok.x-k8s.io/delay"] = "0s"
			a[stage+".stage.kwok.x-k8s.io/jitter-delay"] = "0s"
		}
	}
	return a
}
