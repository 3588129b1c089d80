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
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/internal/paramschema"
	"github.com/asyncjob/asyncjob/test/wrappers"
)

// decideNow is the clock of the decide table.
var decideNow = statusNow.Time

// decideAJ is an AsyncJob of readyType ("report") that no pass has seen yet;
// cases change what they need.
func decideAJ(mutate ...func(*asyncjobv1alpha1.AsyncJob)) *asyncjobv1alpha1.AsyncJob {
	aj := wrappers.MakeAsyncJob("report-1", "team-a").UID("aj-uid").Generation(statusGen).
		Type("report").Params(`{"format":"csv"}`).Obj()
	for _, m := range mutate {
		m(aj)
	}
	return aj
}

// decideType is readyType marked Ready by the type controller.
func decideType(mutate ...func(*asyncjobv1alpha1.AsyncJobType)) *asyncjobv1alpha1.AsyncJobType {
	jt := readyType()
	jt.Status.Conditions = []metav1.Condition{{Type: asyncjobv1alpha1.TypeConditionReady, Status: metav1.ConditionTrue,
		Reason: asyncjobv1alpha1.ReasonValid, ObservedGeneration: jt.Generation}}
	for _, m := range mutate {
		m(jt)
	}
	return jt
}

// decideWorld is what observe returns for an AsyncJob and an existing type.
func decideWorld(t *testing.T, aj *asyncjobv1alpha1.AsyncJob, jt *asyncjobv1alpha1.AsyncJobType) *world {
	t.Helper()
	w := &world{AsyncJob: aj, Type: jt}
	if jt != nil {
		w.Schema, w.SchemaErr = paramschema.Compile(jt.Spec.ParametersSchema.Raw)
	}
	return w
}

// ownJob is the AsyncJob's own Job as buildJob makes it for the default limits
// of readyType.
func ownJob(t *testing.T, mutate ...func(*batchv1.Job)) *batchv1.Job {
	t.Helper()
	job, err := buildJob(decideAJ(), readyType(), readyTypeLimits, workerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range mutate {
		m(job)
	}
	return job
}

// readyTypeLimits are readyType's limits for an AsyncJob without overrides.
var readyTypeLimits = effectiveLimits{ActiveDeadlineSeconds: new(int64(600)), BackoffLimit: new(int32(2)),
	TTLSecondsAfterFinished: DefaultTTLSecondsAfterFinished}

func finishedAs(state asyncjobv1alpha1.AsyncJobState, expire time.Time, accepted metav1.Condition) func(*asyncjobv1alpha1.AsyncJob) {
	return func(aj *asyncjobv1alpha1.AsyncJob) {
		aj.Status.State = state
		aj.Status.JobName = "report-1"
		aj.Status.CompletionTime = &metav1.Time{Time: expire.Add(-time.Hour)}
		aj.Status.ExpireTime = &metav1.Time{Time: expire}
		accepted.ObservedGeneration, accepted.LastTransitionTime = 1, ago(time.Hour)
		aj.Status.Conditions = []metav1.Condition{accepted}
	}
}

func cancelled(aj *asyncjobv1alpha1.AsyncJob) { aj.Spec.Cancel = true }

func injects(jt *asyncjobv1alpha1.AsyncJobType) {
	jt.Spec.Entrypoint = asyncjobv1alpha1.EntrypointInject
	jt.Spec.Template.Spec.Template.Spec.Containers[0].Command = []string{"/report"}
}

func jobComplete(at time.Time) func(*batchv1.Job) {
	return func(j *batchv1.Job) {
		j.Status.Succeeded = 1
		j.Status.Conditions = append(j.Status.Conditions,
			batchv1.JobCondition{Type: batchv1.JobComplete, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(at)})
	}
}

var (
	dayTTL      = time.Duration(DefaultTTLSecondsAfterFinished) * time.Second
	notAccepted = func(reason, message string) metav1.Condition {
		return cond(asyncjobv1alpha1.ConditionAccepted, false, reason, message)
	}
	cancelledPre = notAccepted(asyncjobv1alpha1.ReasonCancelled, "cancelled before it started")
	noAction     = action{Kind: actNone}
)

// TestDecide has a row for every branch of decide, in its order of precedence.
func TestDecide(t *testing.T) {
	running := ownJob(t, func(j *batchv1.Job) { j.Status.Active = 1 })
	runningPods := []corev1.Pod{*statusPod("report-1-a", corev1.PodRunning, ago(time.Minute)).Running("worker").Obj()}
	deleting := ownJob(t, func(j *batchv1.Job) {
		j.Status.Active = 1
		j.DeletionTimestamp = &metav1.Time{Time: decideNow.Add(-time.Second)}
		j.Finalizers = []string{metav1.FinalizerDeleteDependents}
	})
	completeNow := ownJob(t, jobComplete(decideNow.Add(-time.Second)))
	completeLongAgo := ownJob(t, jobComplete(decideNow.Add(-time.Hour)))
	failed := ownJob(t, func(j *batchv1.Job) {
		j.Status.Failed = 1
		j.Status.Conditions = []batchv1.JobCondition{{Type: batchv1.JobFailed, Status: corev1.ConditionTrue, Reason: "BackoffLimitExceeded"}}
	})
	succeededPods := []corev1.Pod{*statusPod("report-1-a", corev1.PodSucceeded, ago(2*time.Minute)).Terminated("worker", 0, `{}`, ago(time.Minute)).Obj()}
	typeNotFound := notAccepted(asyncjobv1alpha1.ReasonTypeNotFound, `AsyncJobType "report" does not exist; the AsyncJob starts when it does`)

	cases := []struct {
		name  string
		world func(t *testing.T) *world
		// cfg is the controller's configuration; none by default.
		cfg     workerConfig
		want    decision
		wantErr string
	}{
		{
			name: "being deleted: nothing to do, no status to write",
			world: func(t *testing.T) *world {
				return &world{AsyncJob: decideAJ(func(aj *asyncjobv1alpha1.AsyncJob) { aj.DeletionTimestamp = &metav1.Time{Time: decideNow} })}
			},
			want: decision{Action: noAction},
		},
		{
			name: "finished and its expireTime is now: expire it, no status to write",
			world: func(t *testing.T) *world {
				w := decideWorld(t, decideAJ(finishedAs(asyncjobv1alpha1.StateCompleted, decideNow, jobCreated())), decideType())
				w.Job, w.Pods = completeLongAgo, succeededPods
				return w
			},
			want: decision{Action: action{Kind: actExpire}},
		},
		{
			name: "finished, not expired yet, its Job still there: nothing to do; the status follows the Job",
			world: func(t *testing.T) *world {
				w := decideWorld(t, decideAJ(finishedAs(asyncjobv1alpha1.StateCompleted, decideNow.Add(time.Second), jobCreated())), decideType())
				w.Job, w.Pods = completeLongAgo, succeededPods
				return w
			},
			want: decision{Action: noAction, Status: &observation{Generation: statusGen, Accepted: jobCreated(), TTL: dayTTL,
				Job: completeLongAgo, Pods: succeededPods, ResultContainer: "worker"}},
		},
		{
			name: "a foreign Job has its name: JobNameConflict, look again later",
			world: func(t *testing.T) *world {
				w := decideWorld(t, decideAJ(), decideType())
				w.ForeignJob = true
				return w
			},
			want: decision{Action: action{Kind: actWait, After: conflictRetryAfter}, Status: &observation{Generation: statusGen, TTL: dayTTL,
				Accepted: notAccepted(asyncjobv1alpha1.ReasonJobNameConflict, `a Job named "report-1" exists that this AsyncJob does not own; it is left alone`)}},
		},
		{
			name: "a foreign Job beats a cancellation: nothing of it is touched",
			world: func(t *testing.T) *world {
				w := decideWorld(t, decideAJ(cancelled), decideType())
				w.ForeignJob = true
				return w
			},
			want: decision{Action: action{Kind: actWait, After: conflictRetryAfter}, Status: &observation{Generation: statusGen, TTL: dayTTL, CancelRequested: true,
				Accepted: notAccepted(asyncjobv1alpha1.ReasonJobNameConflict, `a Job named "report-1" exists that this AsyncJob does not own; it is left alone`)}},
		},
		{
			name: "its Job runs: nothing to do",
			world: func(t *testing.T) *world {
				w := decideWorld(t, decideAJ(), decideType())
				w.Job, w.Pods = running, runningPods
				return w
			},
			want: decision{Action: noAction, Status: &observation{Generation: statusGen, Accepted: jobCreated(), TTL: dayTTL,
				Job: running, Pods: runningPods, ResultContainer: "worker"}},
		},
		{
			name: "its Job completed a second ago and its succeeded pod is not seen yet: wait for the pod",
			world: func(t *testing.T) *world {
				w := decideWorld(t, decideAJ(), decideType())
				w.Job, w.Pods = completeNow, runningPods
				return w
			},
			want: decision{Action: action{Kind: actWait, After: podsLagRetryAfter}, Status: &observation{Generation: statusGen, Accepted: jobCreated(), TTL: dayTTL,
				Job: completeNow, Pods: runningPods, ResultContainer: "worker", PodsLagging: true}},
		},
		{
			name: "its Job completed an hour ago and no pod is left: waiting is over",
			world: func(t *testing.T) *world {
				w := decideWorld(t, decideAJ(), decideType())
				w.Job = completeLongAgo
				return w
			},
			want: decision{Action: noAction, Status: &observation{Generation: statusGen, Accepted: jobCreated(), TTL: dayTTL,
				Job: completeLongAgo, ResultContainer: "worker"}},
		},
		{
			name: "cancellation requested, its Job runs: delete the Job in the foreground",
			world: func(t *testing.T) *world {
				w := decideWorld(t, decideAJ(cancelled), decideType())
				w.Job, w.Pods = running, runningPods
				return w
			},
			want: decision{Action: action{Kind: actDeleteJob, Job: running}, Status: &observation{Generation: statusGen, Accepted: jobCreated(), TTL: dayTTL,
				CancelRequested: true, Job: running, Pods: runningPods, ResultContainer: "worker"}},
		},
		{
			name: "cancellation requested, its Job is being deleted already: nothing more",
			world: func(t *testing.T) *world {
				w := decideWorld(t, decideAJ(cancelled), decideType())
				w.Job = deleting
				return w
			},
			want: decision{Action: noAction, Status: &observation{Generation: statusGen, Accepted: jobCreated(), TTL: dayTTL,
				CancelRequested: true, Job: deleting, ResultContainer: "worker"}},
		},
		{
			name: "cancellation requested, its Job failed already: a finished job is not cancelled",
			world: func(t *testing.T) *world {
				w := decideWorld(t, decideAJ(cancelled), decideType())
				w.Job = failed
				return w
			},
			want: decision{Action: noAction, Status: &observation{Generation: statusGen, Accepted: jobCreated(), TTL: dayTTL,
				CancelRequested: true, Job: failed, ResultContainer: "worker"}},
		},
		{
			name: "cancellation requested, its Job completed already: a finished job is not cancelled",
			world: func(t *testing.T) *world {
				w := decideWorld(t, decideAJ(cancelled), decideType())
				w.Job, w.Pods = completeLongAgo, succeededPods
				return w
			},
			want: decision{Action: noAction, Status: &observation{Generation: statusGen, Accepted: jobCreated(), TTL: dayTTL,
				CancelRequested: true, Job: completeLongAgo, Pods: succeededPods, ResultContainer: "worker"}},
		},
		{
			name: "finished and its Job is gone: never another Job; Accepted kept",
			world: func(t *testing.T) *world {
				return decideWorld(t, decideAJ(cancelled, finishedAs(asyncjobv1alpha1.StateCancelled, decideNow.Add(time.Hour), jobCreated())), decideType())
			},
			want: decision{Action: noAction, Status: &observation{Generation: statusGen, Accepted: jobCreated(), TTL: dayTTL, CancelRequested: true}},
		},
		{
			name:  "cancelled before a Job existed: Accepted=False Cancelled, never a Job",
			world: func(t *testing.T) *world { return decideWorld(t, decideAJ(cancelled), decideType()) },
			want:  decision{Action: noAction, Status: &observation{Generation: statusGen, Accepted: cancelledPre, TTL: dayTTL, CancelRequested: true}},
		},
		{
			name: "cancelled while waiting for its type: the waiting reason is kept",
			world: func(t *testing.T) *world {
				return decideWorld(t, decideAJ(cancelled, func(aj *asyncjobv1alpha1.AsyncJob) {
					c := typeNotFound
					c.ObservedGeneration, c.LastTransitionTime = 1, ago(time.Minute)
					aj.Status.Conditions = []metav1.Condition{c}
				}), nil)
			},
			want: decision{Action: noAction, Status: &observation{Generation: statusGen, Accepted: typeNotFound, TTL: dayTTL, CancelRequested: true}},
		},
		{
			name: "it had a Job that is gone, nobody cancelled: JobLost, Accepted kept",
			world: func(t *testing.T) *world {
				return decideWorld(t, decideAJ(func(aj *asyncjobv1alpha1.AsyncJob) {
					aj.Status.State, aj.Status.JobName = asyncjobv1alpha1.StateRunning, "report-1"
					c := jobCreated()
					c.ObservedGeneration, c.LastTransitionTime = 1, ago(time.Hour)
					aj.Status.Conditions = []metav1.Condition{c}
				}), decideType())
			},
			want: decision{Action: noAction, Status: &observation{Generation: statusGen, Accepted: jobCreated(), TTL: dayTTL, JobLost: true}},
		},
		{
			name: "it had a Job that is gone and its type too: JobLost, not TypeNotFound",
			world: func(t *testing.T) *world {
				return decideWorld(t, decideAJ(func(aj *asyncjobv1alpha1.AsyncJob) { aj.Status.JobName = "report-1" }), nil)
			},
			want: decision{Action: noAction, Status: &observation{Generation: statusGen, Accepted: jobCreated(), TTL: dayTTL, JobLost: true}},
		},
		{
			name:  "its type does not exist: TypeNotFound, wait for it",
			world: func(t *testing.T) *world { return decideWorld(t, decideAJ(), nil) },
			want:  decision{Action: noAction, Status: &observation{Generation: statusGen, Accepted: typeNotFound, TTL: dayTTL}},
		},
		{
			name: "its type is not Ready: TypeNotReady",
			world: func(t *testing.T) *world {
				return decideWorld(t, decideAJ(), decideType(func(jt *asyncjobv1alpha1.AsyncJobType) {
					jt.Status.Conditions[0].Status, jt.Status.Conditions[0].Reason = metav1.ConditionFalse, asyncjobv1alpha1.ReasonInvalidTemplate
				}))
			},
			want: decision{Action: noAction, Status: &observation{Generation: statusGen, TTL: dayTTL,
				Accepted: notAccepted(asyncjobv1alpha1.ReasonTypeNotReady, `AsyncJobType "report" is not ready; see its Ready condition`)}},
		},
		{
			name: "its type was Ready for an older generation: TypeNotReady until the type controller has looked",
			world: func(t *testing.T) *world {
				return decideWorld(t, decideAJ(), decideType(func(jt *asyncjobv1alpha1.AsyncJobType) { jt.Generation = 2 }))
			},
			want: decision{Action: noAction, Status: &observation{Generation: statusGen, TTL: dayTTL,
				Accepted: notAccepted(asyncjobv1alpha1.ReasonTypeNotReady, `AsyncJobType "report" is not ready; see its Ready condition`)}},
		},
		{
			name: "an override above the type's maximum: rejected, InvalidSpec",
			world: func(t *testing.T) *world {
				return decideWorld(t, decideAJ(func(aj *asyncjobv1alpha1.AsyncJob) {
					aj.Spec.Overrides = &asyncjobv1alpha1.JobLimits{BackoffLimit: new(int32(9)), TTLSecondsAfterFinished: new(int32(60))}
				}), decideType())
			},
			want: func() decision {
				f := &asyncjobv1alpha1.Failure{Reason: asyncjobv1alpha1.ReasonInvalidSpec, Message: "backoffLimit 9 exceeds the type's maximum of 5"}
				// Overrides that do not resolve give no TTL: the default applies.
				return decision{Action: noAction, Status: &observation{Generation: statusGen, TTL: dayTTL,
					Accepted: notAccepted(f.Reason, f.Message), Rejected: f}}
			}(),
		},
		{
			name: "its type's schema does not compile (yet Ready): rejected, InvalidSpec",
			world: func(t *testing.T) *world {
				w := decideWorld(t, decideAJ(), decideType())
				w.Schema, w.SchemaErr = nil, errors.New("parametersSchema does not compile: boom")
				return w
			},
			want: func() decision {
				f := &asyncjobv1alpha1.Failure{Reason: asyncjobv1alpha1.ReasonInvalidSpec, Message: "the type's parametersSchema does not compile"}
				return decision{Action: noAction, Status: &observation{Generation: statusGen, TTL: dayTTL,
					Accepted: notAccepted(f.Reason, f.Message), Rejected: f}}
			}(),
		},
		{
			name: "parameters against the type's schema: rejected, InvalidParameters, the TTL from the overrides",
			world: func(t *testing.T) *world {
				return decideWorld(t, decideAJ(func(aj *asyncjobv1alpha1.AsyncJob) {
					aj.Spec.Parameters.Raw = []byte(`{"format":"doc"}`)
					aj.Spec.Overrides = &asyncjobv1alpha1.JobLimits{TTLSecondsAfterFinished: new(int32(60))}
				}), decideType())
			},
			want: func() decision {
				f := &asyncjobv1alpha1.Failure{Reason: asyncjobv1alpha1.ReasonInvalidParameters, Message: "/format: value must be one of 'csv', 'pdf'"}
				return decision{Action: noAction, Status: &observation{Generation: statusGen, TTL: time.Minute,
					Accepted: notAccepted(f.Reason, f.Message), Rejected: f}}
			}(),
		},
		{
			name:  "type Ready, spec valid, no Job: create the Job",
			world: func(t *testing.T) *world { return decideWorld(t, decideAJ(), decideType()) },
			want: decision{Action: action{Kind: actCreateJob, Job: ownJob(t)},
				Status: &observation{Generation: statusGen, Accepted: jobCreated(), TTL: dayTTL, ResultContainer: "worker"}},
		},
		{
			name: "type Ready with a poll hint, overrides within the maximums: the Job carries the overrides and the hint",
			world: func(t *testing.T) *world {
				return decideWorld(t, decideAJ(func(aj *asyncjobv1alpha1.AsyncJob) {
					aj.Spec.Overrides = &asyncjobv1alpha1.JobLimits{ActiveDeadlineSeconds: new(int64(3600)), TTLSecondsAfterFinished: new(int32(60))}
				}), decideType(func(jt *asyncjobv1alpha1.AsyncJobType) { jt.Spec.PollIntervalSeconds = 7 }))
			},
			want: func() decision {
				aj := decideAJ(func(aj *asyncjobv1alpha1.AsyncJob) {
					aj.Spec.Overrides = &asyncjobv1alpha1.JobLimits{ActiveDeadlineSeconds: new(int64(3600)), TTLSecondsAfterFinished: new(int32(60))}
				})
				job, err := buildJob(aj, readyType(), effectiveLimits{ActiveDeadlineSeconds: new(int64(3600)), BackoffLimit: new(int32(2)),
					TTLSecondsAfterFinished: 60, PollIntervalSeconds: 7}, workerConfig{})
				if err != nil {
					t.Fatal(err)
				}
				return decision{Action: action{Kind: actCreateJob, Job: job},
					Status: &observation{Generation: statusGen, Accepted: jobCreated(), TTL: time.Minute, ResultContainer: "worker"}}
			}(),
		},
		{
			name:  "type Ready, spec valid, no Job, callbacks configured: create the worker's token Secret, then the Job that mounts it",
			world: func(t *testing.T) *world { return decideWorld(t, decideAJ(), decideType()) },
			cfg:   testWorker,
			want: func() decision {
				job, err := buildJob(decideAJ(), readyType(), readyTypeLimits, testWorker)
				if err != nil {
					t.Fatal(err)
				}
				return decision{Action: action{Kind: actCreateJob, Job: job, Secret: buildWorkerSecret(decideAJ(), testWorker)},
					Status: &observation{Generation: statusGen, Accepted: jobCreated(), TTL: dayTTL, ResultContainer: "worker"}}
			}(),
		},
		{
			name: "callbacks configured, its Job runs: no Secret to create (nor to re-create)",
			world: func(t *testing.T) *world {
				w := decideWorld(t, decideAJ(), decideType())
				w.Job, w.Pods = running, runningPods
				return w
			},
			cfg: testWorker,
			want: decision{Action: noAction, Status: &observation{Generation: statusGen, Accepted: jobCreated(), TTL: dayTTL,
				Job: running, Pods: runningPods, ResultContainer: "worker"}},
		},
		{
			name: "type Ready with entrypoint Inject, no callbacks: create the Job through the entrypoint, no Secret",
			world: func(t *testing.T) *world {
				return decideWorld(t, decideAJ(), decideType(injects))
			},
			cfg: workerConfig{EntrypointImage: testWorker.EntrypointImage},
			want: func() decision {
				jt := readyType()
				injects(jt)
				job, err := buildJob(decideAJ(), jt, readyTypeLimits, workerConfig{EntrypointImage: testWorker.EntrypointImage})
				if err != nil {
					t.Fatal(err)
				}
				if job.Spec.Template.Spec.InitContainers[0].Name != "asyncjob-entrypoint" {
					t.Fatalf("the Job has no entrypoint init container: %+v", job.Spec.Template.Spec.InitContainers)
				}
				return decision{Action: action{Kind: actCreateJob, Job: job},
					Status: &observation{Generation: statusGen, Accepted: jobCreated(), TTL: dayTTL, ResultContainer: "worker"}}
			}(),
		},
		{
			name: "entrypoint Inject, Ready from before the controller lost its entrypoint image: no Job can be built",
			world: func(t *testing.T) *world {
				return decideWorld(t, decideAJ(), decideType(injects))
			},
			cfg:     workerConfig{CallbackURL: testWorker.CallbackURL, TokenKey: testWorker.TokenKey},
			wantErr: "the controller has no --entrypoint-image",
		},
		{
			name: "parameters the schema accepts but that are no object: no Job can be built",
			world: func(t *testing.T) *world {
				jt := decideType(func(jt *asyncjobv1alpha1.AsyncJobType) { jt.Spec.ParametersSchema.Raw = []byte(`{}`) })
				return decideWorld(t, decideAJ(func(aj *asyncjobv1alpha1.AsyncJob) { aj.Spec.Parameters.Raw = []byte(`["csv"]`) }), jt)
			},
			wantErr: "parameters are not a JSON object",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := tc.world(t)
			before := w.AsyncJob.DeepCopy()
			got, err := decide(w, tc.cfg, decideNow)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("decide() error = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("decide() unexpected error: %v", err)
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(decision{}, action{})); diff != "" {
				t.Errorf("decide() mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(before, w.AsyncJob); diff != "" {
				t.Errorf("decide() mutated the AsyncJob (-before +after):\n%s", diff)
			}
		})
	}
}

// TestSettle: what a decision and its outcome leave for deriveStatus, and when
// to look again.
func TestSettle(t *testing.T) {
	obs := &observation{Generation: statusGen, Accepted: jobCreated(), TTL: dayTTL, ResultContainer: "worker"}
	desired := ownJob(t)
	created := ownJob(t, func(j *batchv1.Job) { j.UID, j.ResourceVersion = "job-uid", "7"; j.Spec.BackoffLimit = new(int32(6)) })
	withCreated := *obs
	withCreated.Job = created
	secret := buildWorkerSecret(decideAJ(), testWorker)
	cases := []struct {
		name        string
		d           decision
		out         outcome
		wantObs     *observation
		wantRequeue time.Duration
	}{
		{name: "nothing to do", d: decision{Action: noAction, Status: obs}, wantObs: obs},
		{name: "wait: look again after its delay", d: decision{Action: action{Kind: actWait, After: conflictRetryAfter}, Status: obs},
			wantObs: obs, wantRequeue: conflictRetryAfter},
		{name: "created: the status is derived from the Job the API server returned",
			d: decision{Action: action{Kind: actCreateJob, Job: desired}, Status: obs}, out: outcome{Created: created}, wantObs: &withCreated},
		{name: "the create found the Job already there: the observation was stale, write no status, look again soon",
			d: decision{Action: action{Kind: actCreateJob, Job: desired}, Status: obs}, out: outcome{AlreadyExists: true},
			wantRequeue: alreadyExistsRetryAfter},
		{name: "the worker Secret's name is taken by a Secret it does not control: no Job, WorkerSecretConflict, look again later",
			d: decision{Action: action{Kind: actCreateJob, Job: desired, Secret: secret}, Status: obs}, out: outcome{SecretConflict: true},
			wantObs: &observation{Generation: statusGen, TTL: dayTTL, Accepted: notAccepted(asyncjobv1alpha1.ReasonWorkerSecretConflict,
				`a Secret named "report-1-worker" exists that this AsyncJob does not own; it is left alone, and no Job is created while it exists`)},
			wantRequeue: conflictRetryAfter},
		{name: "the Job deleted for a cancellation: the status says Stopping", d: decision{Action: action{Kind: actDeleteJob, Job: desired}, Status: obs},
			wantObs: obs},
		{name: "expired: no status", d: decision{Action: action{Kind: actExpire}}},
		{name: "being deleted: no status", d: decision{Action: noAction}},
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
		})
	}
	if obs.Job != nil {
		t.Errorf("settle() mutated the decision's observation")
	}
}
