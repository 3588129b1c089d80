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

package controller

import (
	"context"
	"slices"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
)

// recordedEvents keeps the reasons of the Events act emits.
type recordedEvents struct{ reasons []string }

func (e *recordedEvents) Normal(_ runtime.Object, reason, _, _ string) {
	e.reasons = append(e.reasons, reason)
}
func (e *recordedEvents) Warning(_ runtime.Object, reason, _, _ string) {
	e.reasons = append(e.reasons, reason)
}

// TestIntegrationActIsIdempotent runs each action twice against the API server,
// and a delete decided for a Job that has since been replaced.
func TestIntegrationActIsIdempotent(t *testing.T) {
	needEnv(t)
	ctx := context.Background()
	ns := newNamespace(t)
	events := &recordedEvents{}
	r := &AsyncJobReconciler{Client: env.Client, APIReader: env.Client, Recorder: events}
	aj := convertJob("twice", ns, "report").Obj()
	mustCreate(t, aj)
	desired, err := buildJob(aj, readyType(), readyTypeLimits, workerConfig{})
	if err != nil {
		t.Fatal(err)
	}

	create := action{Kind: actCreateJob, Job: desired.DeepCopy()}
	out, err := r.act(ctx, aj, create)
	if err != nil || out.Created == nil || out.Created.UID == "" || out.AlreadyExists {
		t.Fatalf("first create: outcome %+v, err %v; want the created Job", out, err)
	}
	created := out.Created
	if out, err := r.act(ctx, aj, action{Kind: actCreateJob, Job: desired.DeepCopy()}); err != nil || !out.AlreadyExists || out.Created != nil {
		t.Errorf("second create: outcome %+v, err %v; want AlreadyExists and nothing created", out, err)
	}

	// A delete decided for another UID (the Job was replaced meanwhile) must
	// not delete the Job that is there now.
	stale := created.DeepCopy()
	stale.UID = "an-older-job"
	if _, err := r.act(ctx, aj, action{Kind: actDeleteJob, Job: stale}); err != nil {
		t.Errorf("delete with a stale UID: %v, want the conflict tolerated", err)
	}
	cur := &batchv1.Job{}
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(created), cur); err != nil || !cur.DeletionTimestamp.IsZero() {
		t.Fatalf("the current Job was deleted by a delete decided for another (err %v)", err)
	}

	for i := range 2 {
		if _, err := r.act(ctx, aj, action{Kind: actDeleteJob, Job: created}); err != nil {
			t.Fatalf("delete #%d: %v", i+1, err)
		}
	}
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(created), cur); err != nil ||
		cur.DeletionTimestamp.IsZero() || !slices.Contains(cur.Finalizers, metav1.FinalizerDeleteDependents) {
		t.Errorf("the Job is not being deleted in the foreground: err %v, deletionTimestamp %v, finalizers %v", err, cur.DeletionTimestamp, cur.Finalizers)
	}
	removeFinalizers(t, cur)
	if _, err := r.act(ctx, aj, action{Kind: actDeleteJob, Job: created}); err != nil {
		t.Errorf("delete of a Job already gone: %v", err)
	}

	for i := range 2 {
		if _, err := r.act(ctx, aj, action{Kind: actExpire}); err != nil {
			t.Fatalf("expire #%d: %v", i+1, err)
		}
	}
	got := &asyncjobv1alpha1.AsyncJob{}
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(aj), got); err != nil ||
		got.DeletionTimestamp.IsZero() || !slices.Contains(got.Finalizers, metav1.FinalizerDeleteDependents) {
		t.Errorf("the AsyncJob is not being deleted in the foreground: err %v, deletionTimestamp %v, finalizers %v", err, got.DeletionTimestamp, got.Finalizers)
	}
	removeFinalizers(t, got)
	if _, err := r.act(ctx, aj, action{Kind: actExpire}); err != nil {
		t.Errorf("expire of an AsyncJob already gone: %v", err)
	}
	if len(events.reasons) == 0 || events.reasons[0] != asyncjobv1alpha1.ReasonExpired {
		t.Errorf("events %v, want Expired first", events.reasons)
	}
	if _, err := r.act(ctx, aj, action{Kind: "Unknown"}); err == nil {
		t.Errorf("an unknown action must be an error")
	}
}
