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
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
)

func withArtifactsFinalizer(aj *asyncjobv1alpha1.AsyncJob) {
	aj.Finalizers = append(aj.Finalizers, asyncjobv1alpha1.FinalizerArtifacts)
}

func beingDeleted(aj *asyncjobv1alpha1.AsyncJob) {
	aj.DeletionTimestamp = &metav1.Time{Time: decideNow.Add(-time.Second)}
}

func withOutputs(aj *asyncjobv1alpha1.AsyncJob) {
	aj.Status.Outputs = []asyncjobv1alpha1.Artifact{{Name: "part.webm", Size: 3, SHA256: strings.Repeat("c", 64)}}
}

func artifactsCond(status bool, reason, message string) *metav1.Condition {
	c := cond(asyncjobv1alpha1.ConditionArtifactsRemoved, status, reason, message)
	return &c
}

// TestDecideArtifacts: what decide makes of an AsyncJob with files when it is
// deleted or cancelled. The files go only once the Job is gone, and a deleted
// AsyncJob never gets a Job.
func TestDecideArtifacts(t *testing.T) {
	running := ownJob(t, func(j *batchv1.Job) { j.Status.Active = 1 })
	jobDeleting := ownJob(t, func(j *batchv1.Job) {
		j.DeletionTimestamp = &metav1.Time{Time: decideNow.Add(-time.Second)}
		j.Finalizers = []string{metav1.FinalizerDeleteDependents}
	})
	deleting := &observation{Deleting: true, Generation: statusGen}
	cases := []struct {
		name  string
		world func(t *testing.T) *world
		want  decision
	}{
		{
			name: "deleted without the finalizer: nothing, even with a store",
			world: func(t *testing.T) *world {
				w := decideWorld(t, decideAJ(beingDeleted), decideType())
				w.ArtifactStore = true
				return w
			},
			want: decision{Action: noAction},
		},
		{
			name: "deleted with the finalizer, its Job runs: stop the Job first (foreground), files later",
			world: func(t *testing.T) *world {
				w := decideWorld(t, decideAJ(beingDeleted, withArtifactsFinalizer), decideType())
				w.ArtifactStore, w.Job = true, running
				return w
			},
			want: decision{Action: action{Kind: actDeleteJob, Job: running}},
		},
		{
			name: "deleted with the finalizer, its Job is being deleted: wait for it",
			world: func(t *testing.T) *world {
				w := decideWorld(t, decideAJ(beingDeleted, withArtifactsFinalizer), decideType())
				w.ArtifactStore, w.Job = true, jobDeleting
				return w
			},
			want: decision{Action: noAction},
		},
		{
			name: "deleted with the finalizer, no Job, a ready type: remove the files, never create a Job",
			world: func(t *testing.T) *world {
				w := decideWorld(t, decideAJ(beingDeleted, withArtifactsFinalizer), decideType())
				w.ArtifactStore = true
				return w
			},
			want: decision{Action: action{Kind: actRemoveArtifacts}, Status: deleting},
		},
		{
			name: "deleted with the finalizer and no store: StoreNotConfigured, the finalizer stays",
			world: func(t *testing.T) *world {
				return decideWorld(t, decideAJ(beingDeleted, withArtifactsFinalizer), decideType())
			},
			want: decision{Action: noAction, Status: &observation{Deleting: true, Generation: statusGen,
				ArtifactsRemoved: artifactsCond(false, asyncjobv1alpha1.ReasonStoreNotConfigured, msgStoreNotConfigured)}},
		},
		{
			name: "cancelled, its Job gone, with the finalizer: remove the outputs",
			world: func(t *testing.T) *world {
				w := decideWorld(t, decideAJ(cancelled, withArtifactsFinalizer, withOutputs), decideType())
				w.ArtifactStore = true
				return w
			},
			want: decision{Action: action{Kind: actRemoveOutputs},
				Status: &observation{Generation: statusGen, Accepted: cancelledPre, TTL: dayTTL, CancelRequested: true}},
		},
		{
			name: "cancelled earlier, the outputs' removal failed: try again",
			world: func(t *testing.T) *world {
				w := decideWorld(t, decideAJ(cancelled, withArtifactsFinalizer,
					finishedAs(asyncjobv1alpha1.StateCancelled, decideNow.Add(time.Hour), jobCreated()),
					func(aj *asyncjobv1alpha1.AsyncJob) {
						aj.Status.Conditions = append(aj.Status.Conditions, *artifactsCond(false, asyncjobv1alpha1.ReasonStoreUnavailable, msgStoreUnavailableCancel))
					}), decideType())
				w.ArtifactStore = true
				return w
			},
			want: decision{Action: action{Kind: actRemoveOutputs},
				Status: &observation{Generation: statusGen, Accepted: jobCreated(), TTL: dayTTL, CancelRequested: true}},
		},
		{
			name: "cancelled, outputs removed already: nothing more",
			world: func(t *testing.T) *world {
				w := decideWorld(t, decideAJ(cancelled, withArtifactsFinalizer,
					finishedAs(asyncjobv1alpha1.StateCancelled, decideNow.Add(time.Hour), jobCreated()),
					func(aj *asyncjobv1alpha1.AsyncJob) {
						aj.Status.Conditions = append(aj.Status.Conditions, *artifactsCond(true, asyncjobv1alpha1.ReasonArtifactsRemoved, msgOutputsRemoved))
					}), decideType())
				w.ArtifactStore = true
				return w
			},
			want: decision{Action: noAction, Status: &observation{Generation: statusGen, Accepted: jobCreated(), TTL: dayTTL, CancelRequested: true}},
		},
		{
			name: "cancelled, its Job still there: the Job first, the outputs once it is gone",
			world: func(t *testing.T) *world {
				w := decideWorld(t, decideAJ(cancelled, withArtifactsFinalizer), decideType())
				w.ArtifactStore, w.Job = true, running
				return w
			},
			want: decision{Action: action{Kind: actDeleteJob, Job: running},
				Status: &observation{Generation: statusGen, Accepted: jobCreated(), TTL: dayTTL, CancelRequested: true, Job: running, ResultContainer: "worker"}},
		},
		{
			name: "cancel requested after it completed: a Completed job keeps its outputs",
			world: func(t *testing.T) *world {
				w := decideWorld(t, decideAJ(cancelled, withArtifactsFinalizer, withOutputs,
					finishedAs(asyncjobv1alpha1.StateCompleted, decideNow.Add(time.Hour), jobCreated())), decideType())
				w.ArtifactStore = true
				return w
			},
			want: decision{Action: noAction, Status: &observation{Generation: statusGen, Accepted: jobCreated(), TTL: dayTTL, CancelRequested: true}},
		},
		{
			name: "cancelled, a type without files (no finalizer, no outputs): the store is not asked",
			world: func(t *testing.T) *world {
				w := decideWorld(t, decideAJ(cancelled), decideType())
				w.ArtifactStore = true
				return w
			},
			want: decision{Action: noAction, Status: &observation{Generation: statusGen, Accepted: cancelledPre, TTL: dayTTL, CancelRequested: true}},
		},
		{
			name: "cancelled with outputs and no store: StoreNotConfigured, the outputs' records stay",
			world: func(t *testing.T) *world {
				return decideWorld(t, decideAJ(cancelled, withArtifactsFinalizer, withOutputs), decideType())
			},
			want: decision{Action: noAction, Status: &observation{Generation: statusGen, Accepted: cancelledPre, TTL: dayTTL, CancelRequested: true,
				ArtifactsRemoved: artifactsCond(false, asyncjobv1alpha1.ReasonStoreNotConfigured, msgStoreNotConfigured)}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := tc.world(t)
			got, err := decide(w, workerConfig{}, decideNow)
			if err != nil {
				t.Fatalf("decide() unexpected error: %v", err)
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(decision{}, action{})); diff != "" {
				t.Errorf("decide() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSettleArtifacts: what the store's answer leaves for deriveStatus.
func TestSettleArtifacts(t *testing.T) {
	del := &observation{Deleting: true, Generation: statusGen}
	cancel := &observation{Generation: statusGen, CancelRequested: true}
	down := errors.New("dial tcp 10.0.0.1:9000: connection refused")
	cases := []struct {
		name        string
		d           decision
		out         outcome
		wantObs     *observation
		wantRequeue time.Duration
	}{
		{name: "files and finalizer removed: nothing to write, the AsyncJob may be gone",
			d: decision{Action: action{Kind: actRemoveArtifacts}, Status: del}, out: outcome{FinalizerRemoved: true}},
		{name: "the finalizer's patch lost a race: look again soon",
			d: decision{Action: action{Kind: actRemoveArtifacts}, Status: del}, out: outcome{FinalizerConflict: true}, wantRequeue: conflictRequeue},
		{name: "the store is down while deleting: StoreUnavailable, without the store's words",
			d: decision{Action: action{Kind: actRemoveArtifacts}, Status: del}, out: outcome{StoreErr: down},
			wantObs: &observation{Deleting: true, Generation: statusGen,
				ArtifactsRemoved: artifactsCond(false, asyncjobv1alpha1.ReasonStoreUnavailable, msgStoreUnavailableDelete)}},
		{name: "outputs removed after a cancellation: their records go, Removed",
			d: decision{Action: action{Kind: actRemoveOutputs}, Status: cancel},
			wantObs: &observation{Generation: statusGen, CancelRequested: true, OutputsRemoved: true,
				ArtifactsRemoved: artifactsCond(true, asyncjobv1alpha1.ReasonArtifactsRemoved, msgOutputsRemoved)}},
		{name: "the store is down after a cancellation: the records stay, StoreUnavailable",
			d: decision{Action: action{Kind: actRemoveOutputs}, Status: cancel}, out: outcome{StoreErr: down},
			wantObs: &observation{Generation: statusGen, CancelRequested: true,
				ArtifactsRemoved: artifactsCond(false, asyncjobv1alpha1.ReasonStoreUnavailable, msgStoreUnavailableCancel)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			gotObs, gotRequeue := settle(tc.d, tc.out)
			if diff := cmp.Diff(tc.wantObs, gotObs); diff != "" {
				t.Errorf("settle() observation mismatch (-want +got):\n%s", diff)
			}
			if gotRequeue != tc.wantRequeue {
				t.Errorf("settle() requeue = %v, want %v", gotRequeue, tc.wantRequeue)
			}
			if gotObs != nil && gotObs.ArtifactsRemoved != nil && strings.Contains(gotObs.ArtifactsRemoved.Message, "10.0.0.1") {
				t.Errorf("the condition carries the store's error text: %q", gotObs.ArtifactsRemoved.Message)
			}
		})
	}
	if del.ArtifactsRemoved != nil || cancel.OutputsRemoved {
		t.Errorf("settle() mutated the decision's observation")
	}
}

// TestDeriveStatusArtifacts: status.outputs, the REST API's record of the
// worker's uploads, survives every derivation but the one after the outputs
// were removed; a deleted AsyncJob's status changes only by ArtifactsRemoved.
func TestDeriveStatusArtifacts(t *testing.T) {
	outputs := []asyncjobv1alpha1.Artifact{{Name: "out.webm", Size: 9, SHA256: strings.Repeat("d", 64), ContentType: "video/webm"}}
	running := runningPrev()
	running.Outputs = outputs
	job := statusJob().Counts(1, 0, 0).Obj()
	pods := []corev1.Pod{*statusPod("report-1-a", corev1.PodRunning, ago(10*time.Minute)).Running(resultName).Obj()}

	t.Run("running with outputs recorded: kept", func(t *testing.T) {
		got := deriveStatus(running, observation{Generation: statusGen, Accepted: acceptedJobCreated, Job: job, Pods: pods, ResultContainer: resultName}, statusNow)
		if diff := cmp.Diff(outputs, got.Outputs); diff != "" {
			t.Errorf("outputs (-want +got):\n%s", diff)
		}
	})
	t.Run("completed: kept", func(t *testing.T) {
		done := statusJob().Counts(0, 1, 0).Completed(ago(time.Second)).Obj()
		succeeded := []corev1.Pod{*statusPod("report-1-a", corev1.PodSucceeded, ago(10*time.Minute)).Terminated(resultName, 0, `{}`, ago(time.Second)).Obj()}
		got := deriveStatus(running, observation{Generation: statusGen, Accepted: acceptedJobCreated, Job: done, ResultContainer: resultName,
			Pods: succeeded}, statusNow)
		if got.State != asyncjobv1alpha1.StateCompleted || !cmp.Equal(outputs, got.Outputs) {
			t.Errorf("state %s outputs %v, want Completed with the outputs", got.State, got.Outputs)
		}
	})
	t.Run("cancelled, outputs removed: Cancelled, no outputs, ArtifactsRemoved=True", func(t *testing.T) {
		got := deriveStatus(running, observation{Generation: statusGen, Accepted: acceptedJobCreated, CancelRequested: true, TTL: statusTTL,
			OutputsRemoved: true, ArtifactsRemoved: artifactsCond(true, asyncjobv1alpha1.ReasonArtifactsRemoved, msgOutputsRemoved)}, statusNow)
		if got.State != asyncjobv1alpha1.StateCancelled || got.Outputs != nil {
			t.Errorf("state %s outputs %v, want Cancelled without outputs", got.State, got.Outputs)
		}
		if diff := cmp.Diff(condAt(asyncjobv1alpha1.ConditionArtifactsRemoved, true, asyncjobv1alpha1.ReasonArtifactsRemoved, msgOutputsRemoved, statusNow),
			ptr.Deref(meta.FindStatusCondition(got.Conditions, asyncjobv1alpha1.ConditionArtifactsRemoved), metav1.Condition{})); diff != "" {
			t.Errorf("ArtifactsRemoved (-want +got):\n%s", diff)
		}
	})
	t.Run("cancelled earlier, the store was down: the records stay until removed", func(t *testing.T) {
		prev := running.DeepCopy()
		prev.State = asyncjobv1alpha1.StateCancelled
		got := deriveStatus(*prev, observation{Generation: statusGen, CancelRequested: true,
			ArtifactsRemoved: artifactsCond(false, asyncjobv1alpha1.ReasonStoreUnavailable, msgStoreUnavailableCancel)}, statusNow)
		if !cmp.Equal(outputs, got.Outputs) {
			t.Errorf("outputs %v, want them kept", got.Outputs)
		}
		prev = got.DeepCopy()
		got = deriveStatus(*prev, observation{Generation: statusGen, CancelRequested: true, OutputsRemoved: true,
			ArtifactsRemoved: artifactsCond(true, asyncjobv1alpha1.ReasonArtifactsRemoved, msgOutputsRemoved)}, statusNow)
		if got.Outputs != nil || got.State != asyncjobv1alpha1.StateCancelled {
			t.Errorf("after the retry: state %s outputs %v, want Cancelled without outputs", got.State, got.Outputs)
		}
	})
	t.Run("being deleted: only the condition changes", func(t *testing.T) {
		c := artifactsCond(false, asyncjobv1alpha1.ReasonStoreUnavailable, msgStoreUnavailableDelete)
		got := deriveStatus(running, observation{Deleting: true, Generation: statusGen, ArtifactsRemoved: c}, statusNow)
		want := *running.DeepCopy()
		want.ObservedGeneration = statusGen
		want.Conditions = append(want.Conditions, condAt(c.Type, false, c.Reason, c.Message, statusNow))
		if diff := cmp.Diff(want, got, statusCmpOpts...); diff != "" {
			t.Errorf("status (-want +got):\n%s", diff)
		}
	})
}
