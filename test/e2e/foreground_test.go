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
	"slices"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/internal/scheme"
	"github.com/asyncjob/asyncjob/test/stack"
)

// deletionWatch watches one job's AsyncJob, Job and pods from before its
// deletion starts, to tell a foreground deletion from a background one: both
// end in 404, but only the foreground one holds the AsyncJob (deletionTimestamp
// and the foregroundDeletion finalizer) until its Job and pods are gone.
type deletionWatch struct {
	id                  string
	asyncJob, job, pods *eventLog
	jobExisted          bool // the Job was there when the watch started, or came after
}

// watchDeletion starts the watches; call it before whatever deletes the job.
func watchDeletion(t *testing.T, id string) *deletionWatch {
	t.Helper()
	ctx := context.Background()
	cl, err := client.NewWithWatch(s.Cluster.Config(), client.Options{Scheme: scheme.New()})
	if err != nil {
		t.Fatal(err)
	}
	ns := stack.Namespace(tenant)
	d := &deletionWatch{id: id}
	start := func(list client.ObjectList, sel client.ListOption) *eventLog {
		if err := cl.List(ctx, list, client.InNamespace(ns), sel); err != nil {
			t.Fatal(err)
		}
		rv := list.(metav1.ListInterface).GetResourceVersion()
		log, err := startEventLog(rv, func(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
			return cl.Watch(ctx, list, client.InNamespace(ns), sel, &client.ListOptions{Raw: &opts})
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(log.stop)
		return log
	}
	d.asyncJob = start(&asyncjobv1alpha1.AsyncJobList{}, client.MatchingFieldsSelector{Selector: fields.OneTermEqualSelector("metadata.name", id)})
	jobs := &batchv1.JobList{}
	d.job = start(jobs, client.MatchingLabelsSelector{Selector: labels.SelectorFromSet(labels.Set{asyncjobv1alpha1.LabelName: id})})
	d.jobExisted = len(jobs.Items) > 0
	d.pods = start(&corev1.PodList{}, client.MatchingLabelsSelector{Selector: labels.SelectorFromSet(labels.Set{asyncjobv1alpha1.LabelName: id})})
	return d
}

// requireForeground waits for the AsyncJob to be removed and fails t unless
// the removal was a foreground one: the AsyncJob was first marked deleted with
// the foregroundDeletion finalizer, and when it went away its Job and pods
// were already gone (the garbage collector removes the finalizer only then).
func (d *deletionWatch) requireForeground(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	var ajEvents []watch.Event
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 2*time.Minute, true, func(context.Context) (bool, error) {
		var err error
		ajEvents, err = d.asyncJob.snapshot()
		return slices.ContainsFunc(ajEvents, isDeleted), err
	})
	if err != nil {
		t.Fatalf("job %s: waiting for its AsyncJob to be removed: %v\n%s", d.id, err, describe(d.id))
	}
	// At once, before the garbage collector of a background deletion could
	// catch up: a foreground deletion has already removed these.
	ns := stack.Namespace(tenant)
	job := &batchv1.Job{}
	if err := s.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: d.id}, job); !client404(err) {
		t.Errorf("job %s: its AsyncJob was removed while its Job still existed (get: %v): not a foreground deletion", d.id, err)
	}
	pods := &corev1.PodList{}
	if err := s.Client.List(ctx, pods, inNamespace(ns), byAsyncJob(d.id)); err != nil || len(pods.Items) > 0 {
		t.Errorf("job %s: its AsyncJob was removed while %d of its pods still existed (err %v): not a foreground deletion", d.id, len(pods.Items), err)
	}

	marked := false
	for _, ev := range ajEvents[:slices.IndexFunc(ajEvents, isDeleted)] {
		aj := ev.Object.(*asyncjobv1alpha1.AsyncJob)
		if aj.DeletionTimestamp != nil && slices.Contains(aj.Finalizers, metav1.FinalizerDeleteDependents) {
			marked = true
		}
	}
	if !marked {
		t.Errorf("job %s: its AsyncJob went from %s to removed without the %q finalizer: not a foreground deletion",
			d.id, eventTypes(ajEvents), metav1.FinalizerDeleteDependents)
	}

	// There was a Job to cascade to, and the watch saw it deleted.
	jobEvents, err := d.job.snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if !d.jobExisted && !slices.ContainsFunc(jobEvents, func(ev watch.Event) bool { return ev.Type == watch.Added }) {
		t.Errorf("job %s never had a Job: nothing to delete in the foreground", d.id)
	}
	if err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, func(context.Context) (bool, error) {
		jobEvents, err = d.job.snapshot()
		return slices.ContainsFunc(jobEvents, isDeleted), err
	}); err != nil {
		t.Errorf("job %s: the watch never saw its Job deleted: %v (events %s)", d.id, err, eventTypes(jobEvents))
	}
}

func isDeleted(ev watch.Event) bool { return ev.Type == watch.Deleted }

func eventTypes(events []watch.Event) []watch.EventType {
	out := make([]watch.EventType, len(events))
	for i, ev := range events {
		out[i] = ev.Type
	}
	return out
}
