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

package storagewatch

import (
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/test/wrappers"
)

// TestQueueTracker: which writes of a Job the watch keeps as queue changes,
// from the bytes etcd stores (protobuf, as kube-apiserver writes them).
func TestQueueTracker(t *testing.T) {
	aj := wrappers.MakeAsyncJob("j1", "ns").Obj()
	aj.UID = "aj-1"
	queued := func() *wrappers.JobWrapper {
		return wrappers.MakeJob("j1", "ns").UID("job-1").ControlledBy(aj).
			Label(asyncjobv1alpha1.LabelType, "t").Annotation(asyncjobv1alpha1.AnnotationQueue, asyncjobv1alpha1.QueueConcurrency)
	}
	codec := protobuf.NewSerializer(clientgoscheme.Scheme, clientgoscheme.Scheme)
	q := queueTracker{last: map[string]QueueState{}}
	write := func(rev int64, created bool, job *batchv1.Job) {
		job.APIVersion, job.Kind = "batch/v1", "Job"
		raw, err := runtime.Encode(codec, job)
		if err != nil {
			t.Fatal(err)
		}
		if !created && !mayBeQueued(raw) {
			return
		}
		decoded, err := decodeJob(codec, raw)
		if err != nil {
			t.Fatal(err)
		}
		q.put("/registry/jobs/ns/j1", rev, created, decoded)
	}
	write(1, true, queued().Suspend().Obj())
	write(2, false, queued().Suspend().Counts(0, 0, 0).Obj()) // a status write: no change
	write(3, false, queued().Obj())                           // unsuspended
	write(4, false, queued().Completed(metav1.Now()).Obj())   // finished
	write(5, true, wrappers.MakeJob("other", "ns").Obj())     // not queued: ignored
	if raw, _ := runtime.Encode(codec, wrappers.MakeJob("other", "ns").Obj()); mayBeQueued(raw) {
		t.Error("a Job without the queue annotation looks queued")
	}
	q.remove("/registry/jobs/ns/other", 6)
	q.remove("/registry/jobs/ns/j1", 7)
	want := []QueueState{
		{Rev: 1, Job: "job-1", Owner: "aj-1", Type: "t", Created: true, Suspended: true},
		{Rev: 3, Job: "job-1", Owner: "aj-1", Type: "t"},
		{Rev: 4, Job: "job-1", Owner: "aj-1", Type: "t", Finished: true},
		{Rev: 7, Job: "job-1", Owner: "aj-1", Type: "t", Finished: true, Deleted: true},
	}
	if len(q.changes) != len(want) {
		t.Fatalf("changes %+v, want %+v", q.changes, want)
	}
	for i := range want {
		if q.changes[i] != want[i] {
			t.Errorf("change %d: %+v, want %+v", i, q.changes[i], want[i])
		}
	}
}
