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

package e2e

import (
	"context"
	"fmt"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/test/stack"
)

// describe renders what the cluster holds for a job (its AsyncJob's status, its
// Job's status, its pods' phases), so a failed wait says why.
func describe(id string) string {
	ctx := context.Background()
	ns := stack.Namespace(tenant)
	var b strings.Builder
	aj := &asyncjobv1alpha1.AsyncJob{}
	if err := s.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: id}, aj); err == nil {
		out, _ := yaml.Marshal(aj.Status)
		fmt.Fprintf(&b, "AsyncJob status:\n%s", out)
	} else {
		fmt.Fprintf(&b, "AsyncJob: %v\n", err)
	}
	job := &batchv1.Job{}
	if err := s.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: id}, job); err == nil {
		out, _ := yaml.Marshal(job.Status)
		fmt.Fprintf(&b, "Job status:\n%s", out)
	} else {
		fmt.Fprintf(&b, "Job: %v\n", err)
	}
	pods := &corev1.PodList{}
	if err := s.Client.List(ctx, pods, inNamespace(ns), byAsyncJob(id)); err == nil {
		for _, p := range pods.Items {
			fmt.Fprintf(&b, "pod %s: phase %s node %q reason %q\n", p.Name, p.Status.Phase, p.Spec.NodeName, p.Status.Reason)
		}
	}
	return b.String()
}
