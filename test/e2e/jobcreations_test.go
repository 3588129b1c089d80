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
	"slices"
	"sort"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/test/stack"
)

// syncNamespace holds the suspended Jobs jobCreations.sync creates.
const syncNamespace = "e2e-jobwatch"

// jobCreations watches every batch/v1 Job of the cluster from before the first
// submission to the end of the run, so "one AsyncJob, one Job" is checked on
// every Job ever created, not on what is left at the end: a Job deleted and
// recreated under the same name shows as a second ADDED event and a second UID.
type jobCreations struct {
	cs  kubernetes.Interface
	log *eventLog
}

// jobsOf is what the watch saw of one AsyncJob's Jobs.
type jobsOf struct {
	added int         // ADDED events
	uids  []types.UID // distinct Job UIDs in any event, in order seen
}

func watchJobCreations(ctx context.Context, cs kubernetes.Interface) (*jobCreations, error) {
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: syncNamespace}}, metav1.CreateOptions{}); err != nil {
		return nil, err
	}
	list, err := cs.BatchV1().Jobs("").List(ctx, metav1.ListOptions{Limit: 1})
	if err != nil {
		return nil, err
	}
	log, err := startEventLog(list.ResourceVersion, func(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
		return cs.BatchV1().Jobs("").Watch(ctx, opts)
	})
	if err != nil {
		return nil, err
	}
	return &jobCreations{cs: cs, log: log}, nil
}

// byAsyncJob groups what the watch has seen so far by the UID of each Job's
// controlling AsyncJob.
func (j *jobCreations) byAsyncJob() (map[types.UID]*jobsOf, error) {
	events, err := j.log.snapshot()
	if err != nil {
		return nil, fmt.Errorf("the watch on Jobs ended: %w", err)
	}
	seen := map[types.UID]*jobsOf{}
	for _, ev := range events {
		job, ok := ev.Object.(*batchv1.Job)
		if !ok {
			continue
		}
		owner := metav1.GetControllerOf(job)
		if owner == nil || owner.Kind != "AsyncJob" || owner.APIVersion != asyncjobv1alpha1.GroupVersion.String() {
			continue
		}
		rec := seen[owner.UID]
		if rec == nil {
			rec = &jobsOf{}
			seen[owner.UID] = rec
		}
		if ev.Type == watch.Added {
			rec.added++
		}
		if !slices.Contains(rec.uids, job.UID) {
			rec.uids = append(rec.uids, job.UID)
		}
	}
	return seen, nil
}

// sync returns once the watch has delivered every Job event that happened
// before it was called: it creates a suspended Job (no pods) and waits for its
// ADDED event, which a watch delivers after every earlier one.
func (j *jobCreations) sync(ctx context.Context) error {
	marker, err := j.cs.BatchV1().Jobs(syncNamespace).Create(ctx, &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "sync-"},
		Spec: batchv1.JobSpec{
			Suspend: ptr.To(true),
			Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
				RestartPolicy: corev1.RestartPolicyNever,
				Containers:    []corev1.Container{{Name: "none", Image: "example.com/none:v1"}},
			}},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("creating the watch's marker Job: %w", err)
	}
	defer func() {
		_ = j.cs.BatchV1().Jobs(syncNamespace).Delete(context.Background(), marker.Name, metav1.DeleteOptions{PropagationPolicy: ptr.To(metav1.DeletePropagationBackground)})
	}()
	err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, func(context.Context) (bool, error) {
		events, err := j.log.snapshot()
		if err != nil {
			return false, err
		}
		return slices.ContainsFunc(events, func(ev watch.Event) bool {
			job, ok := ev.Object.(*batchv1.Job)
			return ok && ev.Type == watch.Added && job.UID == marker.UID
		}), nil
	})
	if err != nil {
		return fmt.Errorf("the watch on Jobs never delivered its marker Job: %w", err)
	}
	return nil
}

// requireOneJobEach fails t unless each of the jobs got exactly one Job,
// created once, over the whole run so far.
func (j *jobCreations) requireOneJobEach(t *testing.T, ids []string) map[string]types.UID {
	t.Helper()
	ctx := context.Background()
	if err := j.sync(ctx); err != nil {
		t.Fatal(err)
	}
	seen, err := j.byAsyncJob()
	if err != nil {
		t.Fatal(err)
	}
	jobUIDs := map[string]types.UID{}
	for _, id := range ids {
		aj := &asyncjobv1alpha1.AsyncJob{}
		if err := s.Client.Get(ctx, types.NamespacedName{Namespace: stack.Namespace(tenant), Name: id}, aj); err != nil {
			t.Fatalf("job %s: %v", id, err)
		}
		rec := seen[aj.UID]
		if rec == nil || rec.added != 1 || len(rec.uids) != 1 {
			t.Errorf("job %s: the watch on Jobs saw %+v, want exactly one Job created once", id, rec)
			continue
		}
		jobUIDs[id] = rec.uids[0]
	}
	return jobUIDs
}

// violations lists every AsyncJob that got more than one Job, or one Job
// created more than once, over the whole run.
func (j *jobCreations) violations() ([]string, error) {
	seen, err := j.byAsyncJob()
	if err != nil {
		return nil, err
	}
	var out []string
	for owner, rec := range seen {
		if rec.added > 1 || len(rec.uids) > 1 {
			out = append(out, fmt.Sprintf("AsyncJob %s: %d ADDED events, Job UIDs %v", owner, rec.added, rec.uids))
		}
	}
	sort.Strings(out)
	return out, nil
}

func (j *jobCreations) stop() { j.log.stop() }
