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

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
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
// bounded number of Jobs.
func (c *Cluster) CreateKueueQueue(ctx context.Context, ns, localQueue, clusterQueue, cpus string) error {
	dyn, err := dynamic.NewForConfig(c.config)
	if err != nil {
		return err
	}
	objects := []struct {
		resource string
		ns       string
		obj      map[string]any
	}{
		{"resourceflavors", "", map[string]any{
			"kind": "ResourceFlavor", "metadata": map[string]any{"name": KueueFlavor},
		}},
		{"clusterqueues", "", map[string]any{
			"kind":     "ClusterQueue",
			"metadata": map[string]any{"name": clusterQueue},
			"spec": map[string]any{
				"namespaceSelector": map[string]any{},
				// Strict FIFO: the order the visibility API reports is the order
				// of admission.
				"queueingStrategy": "StrictFIFO",
				"resourceGroups": []any{map[string]any{
					"coveredResources": []any{"cpu"},
					"flavors": []any{map[string]any{
						"name":      KueueFlavor,
						"resources": []any{map[string]any{"name": "cpu", "nominalQuota": cpus}},
					}},
				}},
			},
		}},
		{"localqueues", ns, map[string]any{
			"kind":     "LocalQueue",
			"metadata": map[string]any{"name": localQueue, "namespace": ns},
			"spec":     map[string]any{"clusterQueue": clusterQueue},
		}},
	}
	for _, o := range objects {
		o.obj["apiVersion"] = kueueGV.String()
		u := &unstructured.Unstructured{Object: o.obj}
		var ri dynamic.ResourceInterface = dyn.Resource(kueueGV.WithResource(o.resource))
		if o.ns != "" {
			ri = dyn.Resource(kueueGV.WithResource(o.resource)).Namespace(o.ns)
		}
		if _, err := ri.Create(ctx, u, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("%s %s: %w", o.obj["kind"], u.GetName(), err)
		}
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
