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
	"context"
	"encoding/json"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	visibilityv1beta2 "sigs.k8s.io/kueue/apis/visibility/v1beta2"
)

// KueueFlavor is the ResourceFlavor CreateKueueQueue's ClusterQueues use.
const KueueFlavor = "default-flavor"

var kueueGV = schema.GroupVersion{Group: "kueue.x-k8s.io", Version: "v1beta2"}

// CreateKueueQueue makes a ClusterQueue named clusterQueue with a quota of
// cpus CPUs (say "2": two one-CPU pods at a time) and a LocalQueue named
// localQueue in ns that feeds it: the simplest Kueue setup that admits a
// bounded number of Jobs. It returns once Kueue has seen the LocalQueue (Active).
func (c *Cluster) CreateKueueQueue(ctx context.Context, ns, localQueue, clusterQueue, cpus string) error {
	dyn, err := dynamic.NewForConfig(c.config)
	if err != nil {
		return err
	}
	clusterQueueSpec := map[string]any{
		"namespaceSelector": map[string]any{},
		// Strict FIFO: the order the visibility API reports is the order
		// of admission.
		"queueingStrategy": "StrictFIFO",
		// A job of a higher WorkloadPriorityClass preempts a lower one.
		"preemption": map[string]any{"withinClusterQueue": "LowerPriority"},
		"resourceGroups": []any{map[string]any{
			"coveredResources": []any{"cpu"},
			"flavors": []any{named(KueueFlavor, map[string]any{
				"resources": []any{named("cpu", map[string]any{"nominalQuota": cpus})},
			})},
		}},
	}
	objects := []struct {
		resource string
		obj      *unstructured.Unstructured
	}{
		{"resourceflavors", object(kueueGV.String(), "ResourceFlavor", "", KueueFlavor, nil)},
		{"clusterqueues", object(kueueGV.String(), "ClusterQueue", "", clusterQueue, clusterQueueSpec)},
		{"localqueues", object(kueueGV.String(), "LocalQueue", ns, localQueue, map[string]any{"clusterQueue": clusterQueue})},
	}
	for _, o := range objects {
		var ri dynamic.ResourceInterface = dyn.Resource(kueueGV.WithResource(o.resource))
		if o.obj.GetNamespace() != "" {
			ri = dyn.Resource(kueueGV.WithResource(o.resource)).Namespace(o.obj.GetNamespace())
		}
		if _, err := ri.Create(ctx, o.obj, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("%s %s: %w", o.obj.GetKind(), o.obj.GetName(), err)
		}
	}
	// Kueue's readiness only says its webhooks answer; its controllers may
	// still be starting, and Jobs created before they run all get Workloads
	// of the same creation time, in no defined order. A LocalQueue that is
	// Active was seen by them, with its ClusterQueue.
	lqs := dyn.Resource(kueueGV.WithResource("localqueues")).Namespace(ns)
	return wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		u, err := lqs.Get(ctx, localQueue, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
		for _, c := range conds {
			if m, ok := c.(map[string]any); ok && m["type"] == "Active" && m["status"] == "True" {
				return true, nil
			}
		}
		return false, nil
	})
}

// CreateKueuePriorityClass makes a WorkloadPriorityClass: a Job labelled
// kueue.x-k8s.io/priority-class=name gets priority value in Kueue.
func (c *Cluster) CreateKueuePriorityClass(ctx context.Context, name string, value int64) error {
	dyn, err := dynamic.NewForConfig(c.config)
	if err != nil {
		return err
	}
	u := object(kueueGV.String(), "WorkloadPriorityClass", "", name, nil)
	u.Object["value"] = value
	if _, err := dyn.Resource(kueueGV.WithResource("workloadpriorityclasses")).Create(ctx, u, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("WorkloadPriorityClass %s: %w", name, err)
	}
	return nil
}

// KueuePendingWorkloads asks Kueue's visibility API, through kube-apiserver,
// for the LocalQueue's pending workloads, in queue order.
func KueuePendingWorkloads(ctx context.Context, cs kubernetes.Interface, ns, localQueue string) (*visibilityv1beta2.PendingWorkloadsSummary, error) {
	raw, err := cs.CoreV1().RESTClient().Get().AbsPath("/apis/visibility.kueue.x-k8s.io/v1beta2",
		"namespaces", ns, "localqueues", localQueue, "pendingworkloads").DoRaw(ctx)
	if err != nil {
		return nil, err
	}
	summary := &visibilityv1beta2.PendingWorkloadsSummary{}
	if err := json.Unmarshal(raw, summary); err != nil {
		return nil, err
	}
	return summary, nil
}

// object is an unstructured object of apiVersion and kind with spec (nil: none).
func object(apiVersion, kind, ns, name string, spec map[string]any) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{}}
	u.SetAPIVersion(apiVersion)
	u.SetKind(kind)
	u.SetNamespace(ns)
	u.SetName(name)
	if spec != nil {
		u.Object["spec"] = spec
	}
	return u
}

// named is m with its "name".
func named(name string, m map[string]any) map[string]any {
	m["name"] = name
	return m
}
