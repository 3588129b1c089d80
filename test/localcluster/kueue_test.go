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

package localcluster_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/asyncjob/asyncjob/test/localcluster"
)

// TestKueue runs a real Kueue on its own cluster: a Job labelled with a
// LocalQueue is suspended by Kueue's webhook, two are admitted within a
// quota of two CPUs, and the visibility API, reached through the
// aggregation layer, lists the other two with their positions.
func TestKueue(t *testing.T) {
	skipIfShort(t)
	if os.Geteuid() != 0 {
		t.Skip("Kueue reads its certificates from fixed paths under / (see localcluster.startKueue): needs root")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	c, err := localcluster.Start(ctx, localcluster.Options{SimulatedNodes: 1, Kueue: true})
	if err != nil {
		t.Fatalf("start cluster with Kueue: %v", err)
	}
	t.Cleanup(func() {
		dumpLogsOnFailure(t, c)
		if err := c.Stop(); err != nil {
			t.Error(err)
		}
	})
	cs, err := kubernetes.NewForConfig(c.Config())
	if err != nil {
		t.Fatal(err)
	}
	ns, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "kueue-"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CreateKueueQueue(ctx, ns.Name, "jobs", "two-cpus", "2"); err != nil {
		t.Fatal(err)
	}

	const n = 4
	for i := range n {
		job := simulatedJob(fmt.Sprintf("job-%d", i), 0, localcluster.PodBehavior{RunFor: time.Hour, Quick: true})
		job.Labels = map[string]string{"kueue.x-k8s.io/queue-name": "jobs"}
		job.Spec.Template.Spec.Containers[0].Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")}
		created, err := cs.BatchV1().Jobs(ns.Name).Create(ctx, job, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("create %s: %v", job.Name, err)
		}
		// Kueue's webhook suspends it at creation: nothing runs before admission.
		if created.Spec.Suspend == nil || !*created.Spec.Suspend {
			t.Fatalf("%s created unsuspended: Kueue's webhook did not run", job.Name)
		}
		// One at a time, so that the queue's order is the creation order.
		time.Sleep(1100 * time.Millisecond)
	}

	// Two admitted (unsuspended, running), two pending with positions 0 and 1.
	if err := waitAdmitted(ctx, cs, ns.Name, 2); err != nil {
		t.Fatalf("two Jobs admitted: %v", err)
	}
	for _, name := range []string{"job-0", "job-1"} {
		if j, err := cs.BatchV1().Jobs(ns.Name).Get(ctx, name, metav1.GetOptions{}); err != nil || *j.Spec.Suspend {
			t.Fatalf("%s should be admitted first: %v", name, err)
		}
	}
	var last string
	err = wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, eventually, true, func(ctx context.Context) (bool, error) {
		pending, err := localcluster.KueuePendingWorkloads(ctx, cs, ns.Name, "jobs")
		if err != nil {
			last = err.Error()
			return false, nil
		}
		owners := map[string]int32{}
		for _, w := range pending.Items {
			for _, ref := range w.OwnerReferences {
				owners[ref.Name] = w.PositionInLocalQueue
			}
		}
		last = fmt.Sprint(owners)
		p2, ok2 := owners["job-2"]
		p3, ok3 := owners["job-3"]
		return len(owners) == 2 && ok2 && ok3 && p2 == 0 && p3 == 1, nil
	})
	if err != nil {
		t.Fatalf("pendingworkloads should list job-2 at 0 and job-3 at 1; last: %s", last)
	}
	// Still waiting: Kueue admits nothing beyond the quota.
	j, err := cs.BatchV1().Jobs(ns.Name).Get(ctx, "job-3", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if j.Spec.Suspend == nil || !*j.Spec.Suspend {
		t.Fatalf("job-3 runs beyond the quota: %+v", j.Status)
	}
}

// waitAdmitted waits until exactly n Jobs in ns are unsuspended, failing
// as soon as more are.
func waitAdmitted(ctx context.Context, cs kubernetes.Interface, ns string, n int) error {
	return wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, eventually, true, func(ctx context.Context) (bool, error) {
		jobs, err := cs.BatchV1().Jobs(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		admitted := 0
		for _, j := range jobs.Items {
			if j.Spec.Suspend == nil || !*j.Spec.Suspend {
				admitted++
			}
		}
		if admitted > n {
			return false, fmt.Errorf("%d Jobs unsuspended with a quota of %d", admitted, n)
		}
		return admitted == n, nil
	})
}
