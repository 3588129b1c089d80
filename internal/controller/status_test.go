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
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/test/wrappers"
)

// Fixed clock for status derivation: everything is relative to statusNow.
var (
	statusNow  = metav1.NewTime(time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC))
	statusTTL  = time.Hour
	statusGen  = int64(2)
	resultName = "worker"
)

func ago(d time.Duration) metav1.Time { return metav1.NewTime(statusNow.Add(-d)) }

func agoPtr(d time.Duration) *metav1.Time { t := ago(d); return &t }

func agoMicro(d time.Duration) *metav1.MicroTime { t := metav1.NewMicroTime(ago(d).Time); return &t }

func laterPtr(base metav1.Time, d time.Duration) *metav1.Time {
	t := metav1.NewTime(base.Add(d))
	return &t
}

// condAt is an AsyncJob condition as deriveStatus writes it.
func condAt(typ string, status bool, reason, message string, at metav1.Time) metav1.Condition {
	c := metav1.Condition{
		Type: typ, Status: metav1.ConditionFalse, Reason: reason, Message: message,
		ObservedGeneration: statusGen, LastTransitionTime: at,
	}
	if status {
		c.Status = metav1.ConditionTrue
	}
	return c
}

// Conditions as decide hands them over (no generation, no time).
var (
	acceptedJobCreated = metav1.Condition{Type: asyncjobv1alpha1.ConditionAccepted, Status: metav1.ConditionTrue,
		Reason: asyncjobv1alpha1.ReasonJobCreated, Message: "the Job was created"}
	acceptedTypeNotFound = metav1.Condition{Type: asyncjobv1alpha1.ConditionAccepted, Status: metav1.ConditionFalse,
		Reason: asyncjobv1alpha1.ReasonTypeNotFound, Message: `AsyncJobType "report" does not exist; the AsyncJob starts when it does`}
)

// Messages deriveStatus writes.
const (
	msgWaiting   = "no pod of the Job is running yet"
	msgSuspended = "the Job is suspended"
	msgRunning   = "a pod of the Job is running"
	msgFinished  = "the AsyncJob finished"
	msgComplete  = "the Job completed"
	msgStopping  = "waiting for the Job and its pods to be deleted"
	msgCancelled = "the Job and its pods are gone"
	msgJobLost   = "the Job was deleted by someone other than asyncjob"
)

// statusJob is the AsyncJob's Job as buildJob makes it and the API server
// defaults it: with the limits of statusLimits.
func statusJob() *wrappers.JobWrapper {
	return wrappers.MakeJob("report-1", "team-a").
		Annotation(asyncjobv1alpha1.AnnotationTTLSecondsAfterFinished, "3600").
		Annotation(asyncjobv1alpha1.AnnotationPollIntervalSeconds, "5").
		ActiveDeadline(600).BackoffLimit(2)
}

// statusLimits are the limits newStatusJob carries; its TTL is statusTTL.
func statusLimits() *asyncjobv1alpha1.AppliedLimits {
	return &asyncjobv1alpha1.AppliedLimits{ActiveDeadlineSeconds: new(int64(600)), BackoffLimit: new(int32(2)),
		TTLSecondsAfterFinished: new(int32(3600)), PollIntervalSeconds: new(int32(5))}
}

// statusPod is a pod of statusJob in phase since start.
func statusPod(name string, phase corev1.PodPhase, start metav1.Time) *wrappers.PodWrapper {
	return wrappers.MakePod(name, "team-a").Phase(phase, start)
}

func rawJSON(s string) *apiextensionsv1.JSON { return &apiextensionsv1.JSON{Raw: []byte(s)} }

func jsonString(t *testing.T, s string) *apiextensionsv1.JSON {
	t.Helper()
	raw, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return &apiextensionsv1.JSON{Raw: raw}
}

// statusCmpOpts compare conditions as a set: their order is not part of the API.
// The attempt history has its own table (attempts_test.go).
var statusCmpOpts = []cmp.Option{
	cmpopts.SortSlices(func(a, b metav1.Condition) bool { return a.Type < b.Type }),
	cmpopts.EquateEmpty(),
	cmpopts.IgnoreFields(asyncjobv1alpha1.AsyncJobStatus{}, "AttemptHistory"),
}

// runningPrev is the status of an AsyncJob whose pod has been running since 10m ago.
func runningPrev() asyncjobv1alpha1.AsyncJobStatus {
	return asyncjobv1alpha1.AsyncJobStatus{
		State:              asyncjobv1alpha1.StateRunning,
		ObservedGeneration: 1,
		JobName:            "report-1",
		Limits:             statusLimits(),
		Attempts:           1,
		StartTime:          agoPtr(10 * time.Minute),
		Conditions: []metav1.Condition{
			{Type: asyncjobv1alpha1.ConditionAccepted, Status: metav1.ConditionTrue, Reason: asyncjobv1alpha1.ReasonJobCreated,
				Message: "the Job was created", ObservedGeneration: 1, LastTransitionTime: ago(11 * time.Minute)},
			{Type: asyncjobv1alpha1.ConditionRunning, Status: metav1.ConditionTrue, Reason: asyncjobv1alpha1.ReasonPodRunning,
				Message: msgRunning, ObservedGeneration: 1, LastTransitionTime: ago(10 * time.Minute)},
		},
		Progress: &asyncjobv1alpha1.Progress{Percent: 40, Step: "render", Message: "page 4 of 10", UpdateTime: agoMicro(time.Minute)},
	}
}

func TestDeriveStatus(t *testing.T) {
	longMessage := strings.Repeat("x", maxResultBytes+100)

	cases := []struct {
		name string
		prev asyncjobv1alpha1.AsyncJobStatus
		obs  observation
		// want is built per case, as it may need *testing.T (jsonString).
		want func(t *testing.T) asyncjobv1alpha1.AsyncJobStatus
	}{
		{
			name: "no Job, type not found: Pending, waiting",
			obs:  observation{Accepted: acceptedTypeNotFound},
			want: func(*testing.T) asyncjobv1alpha1.AsyncJobStatus {
				return asyncjobv1alpha1.AsyncJobStatus{
					State:              asyncjobv1alpha1.StatePending,
					ObservedGeneration: statusGen,
					Conditions: []metav1.Condition{
						condAt(asyncjobv1alpha1.ConditionAccepted, false, asyncjobv1alpha1.ReasonTypeNotFound, acceptedTypeNotFound.Message, statusNow),
						condAt(asyncjobv1alpha1.ConditionRunning, false, asyncjobv1alpha1.ReasonWaiting, msgWaiting, statusNow),
					},
				}
			},
		},
		{
			name: "Job without pods: Pending, waiting",
			obs:  observation{Accepted: acceptedJobCreated, Job: statusJob().Obj()},
			want: func(*testing.T) asyncjobv1alpha1.AsyncJobStatus {
				return asyncjobv1alpha1.AsyncJobStatus{
					State:              asyncjobv1alpha1.StatePending,
					ObservedGeneration: statusGen,
					JobName:            "report-1",
					Limits:             statusLimits(),
					Conditions: []metav1.Condition{
						condAt(asyncjobv1alpha1.ConditionAccepted, true, asyncjobv1alpha1.ReasonJobCreated, "the Job was created", statusNow),
						condAt(asyncjobv1alpha1.ConditionRunning, false, asyncjobv1alpha1.ReasonWaiting, msgWaiting, statusNow),
					},
				}
			},
		},
		{
			name: "Job with a pending pod: Pending, waiting",
			obs: observation{Accepted: acceptedJobCreated, Job: statusJob().Counts(1, 0, 0).Obj(),
				Pods: []corev1.Pod{*statusPod("report-1-a", corev1.PodPending, ago(time.Minute)).Obj()}},
			want: func(*testing.T) asyncjobv1alpha1.AsyncJobStatus {
				return asyncjobv1alpha1.AsyncJobStatus{
					State:              asyncjobv1alpha1.StatePending,
					ObservedGeneration: statusGen,
					JobName:            "report-1",
					Limits:             statusLimits(),
					Attempts:           1,
					Conditions: []metav1.Condition{
						condAt(asyncjobv1alpha1.ConditionAccepted, true, asyncjobv1alpha1.ReasonJobCreated, "the Job was created", statusNow),
						condAt(asyncjobv1alpha1.ConditionRunning, false, asyncjobv1alpha1.ReasonWaiting, msgWaiting, statusNow),
					},
				}
			},
		},
		{
			name: "suspended Job: Pending, suspended",
			obs:  observation{Accepted: acceptedJobCreated, Job: statusJob().Suspend().Obj()},
			want: func(*testing.T) asyncjobv1alpha1.AsyncJobStatus {
				return asyncjobv1alpha1.AsyncJobStatus{
					State:              asyncjobv1alpha1.StatePending,
					ObservedGeneration: statusGen,
					JobName:            "report-1",
					Limits:             statusLimits(),
					Conditions: []metav1.Condition{
						condAt(asyncjobv1alpha1.ConditionAccepted, true, asyncjobv1alpha1.ReasonJobCreated, "the Job was created", statusNow),
						condAt(asyncjobv1alpha1.ConditionRunning, false, asyncjobv1alpha1.ReasonSuspended, msgSuspended, statusNow),
					},
				}
			},
		},
		{
			name: "a running pod: Running, start time from the pod, attempts from the Job's counters",
			obs: observation{Accepted: acceptedJobCreated, Job: statusJob().Counts(1, 0, 2).Started(ago(20 * time.Minute)).Obj(),
				Pods: []corev1.Pod{*statusPod("report-1-c", corev1.PodRunning, ago(5*time.Minute)).Running(resultName).Obj()}},
			want: func(*testing.T) asyncjobv1alpha1.AsyncJobStatus {
				return asyncjobv1alpha1.AsyncJobStatus{
					State:              asyncjobv1alpha1.StateRunning,
					ObservedGeneration: statusGen,
					JobName:            "report-1",
					Limits:             statusLimits(),
					Attempts:           3,
					StartTime:          agoPtr(5 * time.Minute),
					Conditions: []metav1.Condition{
						condAt(asyncjobv1alpha1.ConditionAccepted, true, asyncjobv1alpha1.ReasonJobCreated, "the Job was created", statusNow),
						condAt(asyncjobv1alpha1.ConditionRunning, true, asyncjobv1alpha1.ReasonPodRunning, msgRunning, statusNow),
					},
				}
			},
		},
		{
			name: "several pods: the earliest pod start is the start time",
			obs: observation{Accepted: acceptedJobCreated, Job: statusJob().Counts(1, 0, 1).Obj(),
				Pods: []corev1.Pod{
					*statusPod("report-1-b", corev1.PodRunning, ago(2*time.Minute)).Running(resultName).Obj(),
					*statusPod("report-1-a", corev1.PodFailed, ago(8*time.Minute)).Terminated(resultName, 1, "", ago(3*time.Minute)).Obj(),
				}},
			want: func(*testing.T) asyncjobv1alpha1.AsyncJobStatus {
				return asyncjobv1alpha1.AsyncJobStatus{
					State:              asyncjobv1alpha1.StateRunning,
					ObservedGeneration: statusGen,
					JobName:            "report-1",
					Limits:             statusLimits(),
					Attempts:           2,
					StartTime:          agoPtr(8 * time.Minute),
					Conditions: []metav1.Condition{
						condAt(asyncjobv1alpha1.ConditionAccepted, true, asyncjobv1alpha1.ReasonJobCreated, "the Job was created", statusNow),
						condAt(asyncjobv1alpha1.ConditionRunning, true, asyncjobv1alpha1.ReasonPodRunning, msgRunning, statusNow),
					},
				}
			},
		},
		{
			name: "started before, between retries (no pod running): still Running, start time and progress kept",
			prev: runningPrev(),
			obs: observation{Generation: statusGen, Accepted: acceptedJobCreated, Job: statusJob().Counts(0, 0, 1).Obj(),
				Pods: []corev1.Pod{*statusPod("report-1-a", corev1.PodFailed, ago(10*time.Minute)).Terminated(resultName, 1, "", ago(time.Minute)).Obj()}},
			want: func(*testing.T) asyncjobv1alpha1.AsyncJobStatus {
				s := runningPrev()
				s.ObservedGeneration = statusGen
				s.Attempts = 1
				s.Conditions = []metav1.Condition{
					condAt(asyncjobv1alpha1.ConditionAccepted, true, asyncjobv1alpha1.ReasonJobCreated, "the Job was created", ago(11*time.Minute)),
					condAt(asyncjobv1alpha1.ConditionRunning, true, asyncjobv1alpha1.ReasonPodRunning, msgRunning, ago(10*time.Minute)),
				}
				return s
			},
		},
		{
			name: "started before, then suspended (e.g. preempted): Pending, suspended, start time kept",
			prev: runningPrev(),
			obs:  observation{Generation: statusGen, Accepted: acceptedJobCreated, Job: statusJob().Suspend().Counts(0, 0, 1).Obj()},
			want: func(*testing.T) asyncjobv1alpha1.AsyncJobStatus {
				s := runningPrev()
				s.State = asyncjobv1alpha1.StatePending
				s.ObservedGeneration = statusGen
				s.Conditions = []metav1.Condition{
					condAt(asyncjobv1alpha1.ConditionAccepted, true, asyncjobv1alpha1.ReasonJobCreated, "the Job was created", ago(11*time.Minute)),
					condAt(asyncjobv1alpha1.ConditionRunning, false, asyncjobv1alpha1.ReasonSuspended, msgSuspended, statusNow),
				}
				return s
			},
		},
		{
			name: "Job complete, JSON termination message: Completed with the result",
			prev: runningPrev(),
			obs: observation{Generation: statusGen, Accepted: acceptedJobCreated, TTL: statusTTL, ResultContainer: resultName,
				Job: statusJob().Counts(0, 1, 0).Started(ago(11 * time.Minute)).Completed(ago(time.Minute)).Obj(),
				Pods: []corev1.Pod{*statusPod("report-1-a", corev1.PodSucceeded, ago(10*time.Minute)).
					Terminated("sidecar", 0, `{"not":"the result"}`, ago(time.Minute)).
					Terminated(resultName, 0, `{"rows":42,"url":"s3://bucket/report.csv"}`, ago(time.Minute)).Obj()}},
			want: func(*testing.T) asyncjobv1alpha1.AsyncJobStatus {
				s := runningPrev()
				s.State = asyncjobv1alpha1.StateCompleted
				s.ObservedGeneration = statusGen
				s.CompletionTime = agoPtr(time.Minute)
				s.ExpireTime = laterPtr(ago(time.Minute), statusTTL)
				s.Result = rawJSON(`{"rows":42,"url":"s3://bucket/report.csv"}`)
				s.Conditions = []metav1.Condition{
					condAt(asyncjobv1alpha1.ConditionAccepted, true, asyncjobv1alpha1.ReasonJobCreated, "the Job was created", ago(11*time.Minute)),
					// The Running condition ends when the Job completed, not when the controller noticed.
					condAt(asyncjobv1alpha1.ConditionRunning, false, asyncjobv1alpha1.ReasonFinished, msgFinished, ago(time.Minute)),
					condAt(asyncjobv1alpha1.ConditionComplete, true, asyncjobv1alpha1.ReasonJobComplete, msgComplete, statusNow),
				}
				return s
			},
		},
		{
			name: "Job complete, no termination message, the worker PUT a result: that result is kept",
			prev: func() asyncjobv1alpha1.AsyncJobStatus {
				s := runningPrev()
				s.Result = rawJSON(`{"rows":200000,"sample":["a","b"]}`)
				return s
			}(),
			obs: observation{Generation: statusGen, Accepted: acceptedJobCreated, TTL: statusTTL, ResultContainer: resultName,
				Job: statusJob().Counts(0, 1, 0).Started(ago(11 * time.Minute)).Completed(ago(time.Minute)).Obj(),
				Pods: []corev1.Pod{*statusPod("report-1-a", corev1.PodSucceeded, ago(10*time.Minute)).
					Terminated(resultName, 0, "", ago(time.Minute)).Obj()}},
			want: func(*testing.T) asyncjobv1alpha1.AsyncJobStatus {
				s := completedFromRunning()
				s.Result = rawJSON(`{"rows":200000,"sample":["a","b"]}`)
				return s
			},
		},
		{
			name: "Job complete, a JSON termination message and a result the worker PUT: the termination message's wins",
			prev: func() asyncjobv1alpha1.AsyncJobStatus {
				s := runningPrev()
				s.Result = rawJSON(`{"from":"the callback"}`)
				return s
			}(),
			obs: observation{Generation: statusGen, Accepted: acceptedJobCreated, TTL: statusTTL, ResultContainer: resultName,
				Job: statusJob().Counts(0, 1, 0).Started(ago(11 * time.Minute)).Completed(ago(time.Minute)).Obj(),
				Pods: []corev1.Pod{*statusPod("report-1-a", corev1.PodSucceeded, ago(10*time.Minute)).
					Terminated(resultName, 0, `{"from":"the termination message"}`, ago(time.Minute)).Obj()}},
			want: func(*testing.T) asyncjobv1alpha1.AsyncJobStatus {
				s := completedFromRunning()
				s.Result = rawJSON(`{"from":"the termination message"}`)
				return s
			},
		},
		{
			name: "Job complete, no termination message, no result PUT: no result",
			prev: runningPrev(),
			obs: observation{Generation: statusGen, Accepted: acceptedJobCreated, TTL: statusTTL, ResultContainer: resultName,
				Job: statusJob().Counts(0, 1, 0).Started(ago(11 * time.Minute)).Completed(ago(time.Minute)).Obj(),
				Pods: []corev1.Pod{*statusPod("report-1-a", corev1.PodSucceeded, ago(10*time.Minute)).
					Terminated(resultName, 0, "", ago(time.Minute)).Obj()}},
			want: func(*testing.T) asyncjobv1alpha1.AsyncJobStatus { return completedFromRunning() },
		},
		{
			name: "Job complete before the controller saw a pod run: start time from the pod",
			obs: observation{Generation: statusGen, Accepted: acceptedJobCreated, TTL: statusTTL, ResultContainer: resultName,
				Job: statusJob().Counts(0, 1, 0).Started(ago(3 * time.Minute)).Completed(ago(time.Minute)).Obj(),
				Pods: []corev1.Pod{*statusPod("report-1-a", corev1.PodSucceeded, ago(2*time.Minute)).
					Terminated(resultName, 0, `[1,2,3]`, ago(time.Minute)).Obj()}},
			want: func(*testing.T) asyncjobv1alpha1.AsyncJobStatus {
				return asyncjobv1alpha1.AsyncJobStatus{
					State:              asyncjobv1alpha1.StateCompleted,
					ObservedGeneration: statusGen,
					JobName:            "report-1",
					Limits:             statusLimits(),
					Attempts:           1,
					StartTime:          agoPtr(2 * time.Minute),
					CompletionTime:     agoPtr(time.Minute),
					ExpireTime:         laterPtr(ago(time.Minute), statusTTL),
					Result:             rawJSON(`[1,2,3]`),
					Conditions: []metav1.Condition{
						condAt(asyncjobv1alpha1.ConditionAccepted, true, asyncjobv1alpha1.ReasonJobCreated, "the Job was created", statusNow),
						condAt(asyncjobv1alpha1.ConditionRunning, false, asyncjobv1alpha1.ReasonFinished, msgFinished, ago(time.Minute)),
						condAt(asyncjobv1alpha1.ConditionComplete, true, asyncjobv1alpha1.ReasonJobComplete, msgComplete, statusNow),
					},
				}
			},
		},
		{
			name: "Job complete, message that is not JSON: kept as a JSON string",
			prev: runningPrev(),
			obs: observation{Generation: statusGen, Accepted: acceptedJobCreated, TTL: statusTTL, ResultContainer: resultName,
				Job: statusJob().Counts(0, 1, 0).Completed(ago(time.Minute)).Obj(),
				Pods: []corev1.Pod{*statusPod("report-1-a", corev1.PodSucceeded, ago(10*time.Minute)).
					Terminated(resultName, 0, `done: 42 "rows"`, ago(time.Minute)).Obj()}},
			want: func(t *testing.T) asyncjobv1alpha1.AsyncJobStatus {
				s := runningPrev()
				s.State = asyncjobv1alpha1.StateCompleted
				s.ObservedGeneration = statusGen
				s.CompletionTime = agoPtr(time.Minute)
				s.ExpireTime = laterPtr(ago(time.Minute), statusTTL)
				s.Result = jsonString(t, `done: 42 "rows"`)
				s.Conditions = []metav1.Condition{
					condAt(asyncjobv1alpha1.ConditionAccepted, true, asyncjobv1alpha1.ReasonJobCreated, "the Job was created", ago(11*time.Minute)),
					condAt(asyncjobv1alpha1.ConditionRunning, false, asyncjobv1alpha1.ReasonFinished, msgFinished, ago(time.Minute)),
					condAt(asyncjobv1alpha1.ConditionComplete, true, asyncjobv1alpha1.ReasonJobComplete, msgComplete, statusNow),
				}
				return s
			},
		},
		{
			name: "Job complete, message over 4096 bytes: capped",
			prev: runningPrev(),
			obs: observation{Generation: statusGen, Accepted: acceptedJobCreated, TTL: statusTTL, ResultContainer: resultName,
				Job: statusJob().Counts(0, 1, 0).Completed(ago(time.Minute)).Obj(),
				Pods: []corev1.Pod{*statusPod("report-1-a", corev1.PodSucceeded, ago(10*time.Minute)).
					Terminated(resultName, 0, longMessage, ago(time.Minute)).Obj()}},
			want: func(t *testing.T) asyncjobv1alpha1.AsyncJobStatus {
				s := runningPrev()
				s.State = asyncjobv1alpha1.StateCompleted
				s.ObservedGeneration = statusGen
				s.CompletionTime = agoPtr(time.Minute)
				s.ExpireTime = laterPtr(ago(time.Minute), statusTTL)
				s.Result = jsonString(t, longMessage[:4096])
				s.Conditions = []metav1.Condition{
					condAt(asyncjobv1alpha1.ConditionAccepted, true, asyncjobv1alpha1.ReasonJobCreated, "the Job was created", ago(11*time.Minute)),
					condAt(asyncjobv1alpha1.ConditionRunning, false, asyncjobv1alpha1.ReasonFinished, msgFinished, ago(time.Minute)),
					condAt(asyncjobv1alpha1.ConditionComplete, true, asyncjobv1alpha1.ReasonJobComplete, msgComplete, statusNow),
				}
				return s
			},
		},
		{
			name: "Job complete without a completion time or a pod: completion time now, no result",
			prev: runningPrev(),
			obs: observation{Generation: statusGen, Accepted: acceptedJobCreated, TTL: statusTTL, ResultContainer: resultName,
				Job: func() *batchv1.Job {
					j := statusJob().Counts(0, 1, 0).Completed(ago(time.Minute)).Obj()
					j.Status.CompletionTime = nil
					return j
				}()},
			want: func(*testing.T) asyncjobv1alpha1.AsyncJobStatus {
				s := runningPrev()
				s.State = asyncjobv1alpha1.StateCompleted
				s.ObservedGeneration = statusGen
				s.CompletionTime = &statusNow
				s.ExpireTime = laterPtr(statusNow, statusTTL)
				s.Conditions = []metav1.Condition{
					condAt(asyncjobv1alpha1.ConditionAccepted, true, asyncjobv1alpha1.ReasonJobCreated, "the Job was created", ago(11*time.Minute)),
					condAt(asyncjobv1alpha1.ConditionRunning, false, asyncjobv1alpha1.ReasonFinished, msgFinished, statusNow),
					condAt(asyncjobv1alpha1.ConditionComplete, true, asyncjobv1alpha1.ReasonJobComplete, msgComplete, statusNow),
				}
				return s
			},
		},
		{
			name: "Job failed, backoff limit exceeded: the latest failed container's message and exit code",
			prev: runningPrev(),
			obs: observation{Generation: statusGen, Accepted: acceptedJobCreated, TTL: statusTTL, ResultContainer: resultName,
				Job: statusJob().Counts(0, 0, 2).Failed("BackoffLimitExceeded", "Job has reached the specified backoff limit", ago(30*time.Second)).Obj(),
				Pods: []corev1.Pod{
					*statusPod("report-1-b", corev1.PodFailed, ago(2*time.Minute)).Terminated(resultName, 3, "boom", ago(31*time.Second)).Obj(),
					*statusPod("report-1-a", corev1.PodFailed, ago(10*time.Minute)).Terminated(resultName, 1, "first try", ago(5*time.Minute)).Obj(),
				}},
			want: func(*testing.T) asyncjobv1alpha1.AsyncJobStatus {
				s := runningPrev()
				s.State = asyncjobv1alpha1.StateFailed
				s.ObservedGeneration = statusGen
				s.Attempts = 2
				s.CompletionTime = agoPtr(30 * time.Second)
				s.ExpireTime = laterPtr(ago(30*time.Second), statusTTL)
				s.Failure = &asyncjobv1alpha1.Failure{Reason: "BackoffLimitExceeded", Message: "boom", ExitCode: new(int32(3))}
				s.Conditions = []metav1.Condition{
					condAt(asyncjobv1alpha1.ConditionAccepted, true, asyncjobv1alpha1.ReasonJobCreated, "the Job was created", ago(11*time.Minute)),
					condAt(asyncjobv1alpha1.ConditionRunning, false, asyncjobv1alpha1.ReasonFinished, msgFinished, ago(30*time.Second)),
					condAt(asyncjobv1alpha1.ConditionFailed, true, "BackoffLimitExceeded", "boom", statusNow),
				}
				return s
			},
		},
		{
			name: "Job failed, container without a message and a Job condition without one: the exit code is the message",
			obs: observation{Generation: statusGen, Accepted: acceptedJobCreated, TTL: statusTTL, ResultContainer: resultName,
				Job: statusJob().Counts(0, 0, 1).Failed("BackoffLimitExceeded", "", ago(30*time.Second)).Obj(),
				Pods: []corev1.Pod{
					*statusPod("report-1-a", corev1.PodFailed, ago(2*time.Minute)).Terminated(resultName, 137, "", ago(31*time.Second)).Obj(),
				}},
			want: func(*testing.T) asyncjobv1alpha1.AsyncJobStatus {
				return asyncjobv1alpha1.AsyncJobStatus{
					State:              asyncjobv1alpha1.StateFailed,
					ObservedGeneration: statusGen,
					JobName:            "report-1",
					Limits:             statusLimits(),
					Attempts:           1,
					StartTime:          agoPtr(2 * time.Minute),
					CompletionTime:     agoPtr(30 * time.Second),
					ExpireTime:         laterPtr(ago(30*time.Second), statusTTL),
					Failure: &asyncjobv1alpha1.Failure{Reason: "BackoffLimitExceeded",
						Message: "the container exited with code 137", ExitCode: new(int32(137))},
					Conditions: []metav1.Condition{
						condAt(asyncjobv1alpha1.ConditionAccepted, true, asyncjobv1alpha1.ReasonJobCreated, "the Job was created", statusNow),
						condAt(asyncjobv1alpha1.ConditionRunning, false, asyncjobv1alpha1.ReasonFinished, msgFinished, ago(30*time.Second)),
						condAt(asyncjobv1alpha1.ConditionFailed, true, "BackoffLimitExceeded", "the container exited with code 137", statusNow),
					},
				}
			},
		},
		{
			name: "Job failed, container without a message: the Job's message, then the exit code",
			obs: observation{Generation: statusGen, Accepted: acceptedJobCreated, TTL: statusTTL, ResultContainer: resultName,
				Job: statusJob().Counts(0, 0, 1).Failed("BackoffLimitExceeded", "Job has reached the specified backoff limit", ago(30*time.Second)).Obj(),
				Pods: []corev1.Pod{
					*statusPod("report-1-a", corev1.PodFailed, ago(2*time.Minute)).Terminated(resultName, 2, "", ago(31*time.Second)).Obj(),
				}},
			want: func(*testing.T) asyncjobv1alpha1.AsyncJobStatus {
				return asyncjobv1alpha1.AsyncJobStatus{
					State:              asyncjobv1alpha1.StateFailed,
					ObservedGeneration: statusGen,
					JobName:            "report-1",
					Limits:             statusLimits(),
					Attempts:           1,
					StartTime:          agoPtr(2 * time.Minute),
					CompletionTime:     agoPtr(30 * time.Second),
					ExpireTime:         laterPtr(ago(30*time.Second), statusTTL),
					Failure: &asyncjobv1alpha1.Failure{Reason: "BackoffLimitExceeded",
						Message: "Job has reached the specified backoff limit; the container exited with code 2", ExitCode: new(int32(2))},
					Conditions: []metav1.Condition{
						condAt(asyncjobv1alpha1.ConditionAccepted, true, asyncjobv1alpha1.ReasonJobCreated, "the Job was created", statusNow),
						condAt(asyncjobv1alpha1.ConditionRunning, false, asyncjobv1alpha1.ReasonFinished, msgFinished, ago(30*time.Second)),
						condAt(asyncjobv1alpha1.ConditionFailed, true, "BackoffLimitExceeded", "Job has reached the specified backoff limit; the container exited with code 2", statusNow),
					},
				}
			},
		},
		{
			name: "Job failed, container message over 1024 bytes: capped, keeping its end, where the newest lines are",
			obs: observation{Generation: statusGen, Accepted: acceptedJobCreated, TTL: statusTTL, ResultContainer: resultName,
				Job: statusJob().Counts(0, 0, 1).Failed("BackoffLimitExceeded", "", ago(30*time.Second)).Obj(),
				Pods: []corev1.Pod{
					*statusPod("report-1-a", corev1.PodFailed, ago(2*time.Minute)).Terminated(resultName, 1, strings.Repeat("a", 1000)+strings.Repeat("z", 1000), ago(31*time.Second)).Obj(),
				}},
			want: func(*testing.T) asyncjobv1alpha1.AsyncJobStatus {
				capped := "…" + strings.Repeat("a", 21) + strings.Repeat("z", 1000) // 3 + 21 + 1000 bytes
				return asyncjobv1alpha1.AsyncJobStatus{
					State:              asyncjobv1alpha1.StateFailed,
					ObservedGeneration: statusGen,
					JobName:            "report-1",
					Limits:             statusLimits(),
					Attempts:           1,
					StartTime:          agoPtr(2 * time.Minute),
					CompletionTime:     agoPtr(30 * time.Second),
					ExpireTime:         laterPtr(ago(30*time.Second), statusTTL),
					Failure:            &asyncjobv1alpha1.Failure{Reason: "BackoffLimitExceeded", Message: capped, ExitCode: new(int32(1))},
					Conditions: []metav1.Condition{
						condAt(asyncjobv1alpha1.ConditionAccepted, true, asyncjobv1alpha1.ReasonJobCreated, "the Job was created", statusNow),
						condAt(asyncjobv1alpha1.ConditionRunning, false, asyncjobv1alpha1.ReasonFinished, msgFinished, ago(30*time.Second)),
						condAt(asyncjobv1alpha1.ConditionFailed, true, "BackoffLimitExceeded", capped, statusNow),
					},
				}
			},
		},
		{
			name: "Job failed in an init container: its message and exit code",
			obs: observation{Generation: statusGen, Accepted: acceptedJobCreated, TTL: statusTTL, ResultContainer: resultName,
				Job: statusJob().Counts(0, 0, 1).Failed("BackoffLimitExceeded", "Job has reached the specified backoff limit", ago(30*time.Second)).Obj(),
				Pods: []corev1.Pod{func() corev1.Pod {
					p := *statusPod("report-1-a", corev1.PodFailed, ago(2*time.Minute)).Obj()
					p.Status.InitContainerStatuses = []corev1.ContainerStatus{{Name: "fetch", State: corev1.ContainerState{
						Terminated: &corev1.ContainerStateTerminated{ExitCode: 2, Message: "input not found", FinishedAt: ago(31 * time.Second)}}}}
					p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: resultName, State: corev1.ContainerState{
						Waiting: &corev1.ContainerStateWaiting{Reason: "PodInitializing"}}}}
					return p
				}()}},
			want: func(*testing.T) asyncjobv1alpha1.AsyncJobStatus {
				return asyncjobv1alpha1.AsyncJobStatus{
					State:              asyncjobv1alpha1.StateFailed,
					ObservedGeneration: statusGen,
					JobName:            "report-1",
					Limits:             statusLimits(),
					Attempts:           1,
					StartTime:          agoPtr(2 * time.Minute),
					CompletionTime:     agoPtr(30 * time.Second),
					ExpireTime:         laterPtr(ago(30*time.Second), statusTTL),
					Failure:            &asyncjobv1alpha1.Failure{Reason: "BackoffLimitExceeded", Message: "input not found", ExitCode: new(int32(2))},
					Conditions: []metav1.Condition{
						condAt(asyncjobv1alpha1.ConditionAccepted, true, asyncjobv1alpha1.ReasonJobCreated, "the Job was created", statusNow),
						condAt(asyncjobv1alpha1.ConditionRunning, false, asyncjobv1alpha1.ReasonFinished, msgFinished, ago(30*time.Second)),
						condAt(asyncjobv1alpha1.ConditionFailed, true, "BackoffLimitExceeded", "input not found", statusNow),
					},
				}
			},
		},
		{
			name: "Job failed, deadline exceeded: the reason and message pass through",
			prev: runningPrev(),
			obs: observation{Generation: statusGen, Accepted: acceptedJobCreated, TTL: statusTTL, ResultContainer: resultName,
				Job: statusJob().Counts(0, 0, 1).Failed("DeadlineExceeded", "Job was active longer than specified deadline", ago(30*time.Second)).Obj()},
			want: func(*testing.T) asyncjobv1alpha1.AsyncJobStatus {
				s := runningPrev()
				s.State = asyncjobv1alpha1.StateFailed
				s.ObservedGeneration = statusGen
				s.CompletionTime = agoPtr(30 * time.Second)
				s.ExpireTime = laterPtr(ago(30*time.Second), statusTTL)
				s.Failure = &asyncjobv1alpha1.Failure{Reason: "DeadlineExceeded", Message: "Job was active longer than specified deadline"}
				s.Conditions = []metav1.Condition{
					condAt(asyncjobv1alpha1.ConditionAccepted, true, asyncjobv1alpha1.ReasonJobCreated, "the Job was created", ago(11*time.Minute)),
					condAt(asyncjobv1alpha1.ConditionRunning, false, asyncjobv1alpha1.ReasonFinished, msgFinished, ago(30*time.Second)),
					condAt(asyncjobv1alpha1.ConditionFailed, true, "DeadlineExceeded", "Job was active longer than specified deadline", statusNow),
				}
				return s
			},
		},
		{
			name: "Job failed without a reason: JobFailed",
			obs: observation{Generation: statusGen, Accepted: acceptedJobCreated, TTL: statusTTL,
				Job: statusJob().Failed("", "", ago(30*time.Second)).Obj()},
			want: func(*testing.T) asyncjobv1alpha1.AsyncJobStatus {
				return asyncjobv1alpha1.AsyncJobStatus{
					State:              asyncjobv1alpha1.StateFailed,
					ObservedGeneration: statusGen,
					JobName:            "report-1",
					Limits:             statusLimits(),
					CompletionTime:     agoPtr(30 * time.Second),
					ExpireTime:         laterPtr(ago(30*time.Second), statusTTL),
					Failure:            &asyncjobv1alpha1.Failure{Reason: asyncjobv1alpha1.ReasonJobFailed},
					Conditions: []metav1.Condition{
						condAt(asyncjobv1alpha1.ConditionAccepted, true, asyncjobv1alpha1.ReasonJobCreated, "the Job was created", statusNow),
						condAt(asyncjobv1alpha1.ConditionRunning, false, asyncjobv1alpha1.ReasonFinished, msgFinished, ago(30*time.Second)),
						condAt(asyncjobv1alpha1.ConditionFailed, true, asyncjobv1alpha1.ReasonJobFailed, "", statusNow),
					},
				}
			},
		},
		{
			name: "rejected (invalid parameters): Failed with that failure, no Job",
			obs: observation{Generation: statusGen, TTL: statusTTL,
				Accepted: metav1.Condition{Type: asyncjobv1alpha1.ConditionAccepted, Status: metav1.ConditionFalse,
					Reason: asyncjobv1alpha1.ReasonInvalidParameters, Message: "/format: is required"},
				Rejected: &asyncjobv1alpha1.Failure{Reason: asyncjobv1alpha1.ReasonInvalidParameters, Message: "/format: is required"}},
			want: func(*testing.T) asyncjobv1alpha1.AsyncJobStatus {
				return asyncjobv1alpha1.AsyncJobStatus{
					State:              asyncjobv1alpha1.StateFailed,
					ObservedGeneration: statusGen,
					CompletionTime:     &statusNow,
					ExpireTime:         laterPtr(statusNow, statusTTL),
					Failure:            &asyncjobv1alpha1.Failure{Reason: asyncjobv1alpha1.ReasonInvalidParameters, Message: "/format: is required"},
					Conditions: []metav1.Condition{
						condAt(asyncjobv1alpha1.ConditionAccepted, false, asyncjobv1alpha1.ReasonInvalidParameters, "/format: is required", statusNow),
						condAt(asyncjobv1alpha1.ConditionRunning, false, asyncjobv1alpha1.ReasonFinished, msgFinished, statusNow),
						condAt(asyncjobv1alpha1.ConditionFailed, true, asyncjobv1alpha1.ReasonInvalidParameters, "/format: is required", statusNow),
					},
				}
			},
		},
		{
			name: "cancel requested, Job still there with a running pod: Running, stopping",
			prev: runningPrev(),
			obs: observation{Generation: statusGen, Accepted: acceptedJobCreated, CancelRequested: true, TTL: statusTTL,
				Job:  statusJob().Counts(1, 0, 0).Obj(),
				Pods: []corev1.Pod{*statusPod("report-1-a", corev1.PodRunning, ago(10*time.Minute)).Running(resultName).Obj()}},
			want: func(*testing.T) asyncjobv1alpha1.AsyncJobStatus {
				s := runningPrev()
				s.ObservedGeneration = statusGen
				s.Conditions = []metav1.Condition{
					condAt(asyncjobv1alpha1.ConditionAccepted, true, asyncjobv1alpha1.ReasonJobCreated, "the Job was created", ago(11*time.Minute)),
					condAt(asyncjobv1alpha1.ConditionRunning, true, asyncjobv1alpha1.ReasonPodRunning, msgRunning, ago(10*time.Minute)),
					condAt(asyncjobv1alpha1.ConditionCancelled, false, asyncjobv1alpha1.ReasonStopping, msgStopping, statusNow),
				}
				return s
			},
		},
		{
			name: "cancel requested, Job still there, no pod ran: Pending, stopping",
			obs: observation{Generation: statusGen, Accepted: acceptedJobCreated, CancelRequested: true, TTL: statusTTL,
				Job: statusJob().Obj()},
			want: func(*testing.T) asyncjobv1alpha1.AsyncJobStatus {
				return asyncjobv1alpha1.AsyncJobStatus{
					State:              asyncjobv1alpha1.StatePending,
					ObservedGeneration: statusGen,
					JobName:            "report-1",
					Limits:             statusLimits(),
					Conditions: []metav1.Condition{
						condAt(asyncjobv1alpha1.ConditionAccepted, true, asyncjobv1alpha1.ReasonJobCreated, "the Job was created", statusNow),
						condAt(asyncjobv1alpha1.ConditionRunning, false, asyncjobv1alpha1.ReasonWaiting, msgWaiting, statusNow),
						condAt(asyncjobv1alpha1.ConditionCancelled, false, asyncjobv1alpha1.ReasonStopping, msgStopping, statusNow),
					},
				}
			},
		},
		{
			name: "cancel requested, the Job is gone: Cancelled now",
			prev: func() asyncjobv1alpha1.AsyncJobStatus {
				s := runningPrev()
				s.Conditions = append(s.Conditions, metav1.Condition{Type: asyncjobv1alpha1.ConditionCancelled, Status: metav1.ConditionFalse,
					Reason: asyncjobv1alpha1.ReasonStopping, Message: msgStopping, ObservedGeneration: 1, LastTransitionTime: ago(time.Minute)})
				return s
			}(),
			obs: observation{Generation: statusGen, Accepted: acceptedJobCreated, CancelRequested: true, TTL: statusTTL},
			want: func(*testing.T) asyncjobv1alpha1.AsyncJobStatus {
				s := runningPrev()
				s.State = asyncjobv1alpha1.StateCancelled
				s.ObservedGeneration = statusGen
				s.CompletionTime = &statusNow
				s.ExpireTime = laterPtr(statusNow, statusTTL)
				s.Conditions = []metav1.Condition{
					condAt(asyncjobv1alpha1.ConditionAccepted, true, asyncjobv1alpha1.ReasonJobCreated, "the Job was created", ago(11*time.Minute)),
					condAt(asyncjobv1alpha1.ConditionRunning, false, asyncjobv1alpha1.ReasonFinished, msgFinished, statusNow),
					condAt(asyncjobv1alpha1.ConditionCancelled, true, asyncjobv1alpha1.ReasonCancelled, msgCancelled, statusNow),
				}
				return s
			},
		},
		{
			name: "cancel requested but the Job already completed: Completed (a finished job cannot be cancelled)",
			prev: runningPrev(),
			obs: observation{Generation: statusGen, Accepted: acceptedJobCreated, CancelRequested: true, TTL: statusTTL, ResultContainer: resultName,
				Job: statusJob().Counts(0, 1, 0).Completed(ago(time.Minute)).Obj(),
				Pods: []corev1.Pod{*statusPod("report-1-a", corev1.PodSucceeded, ago(10*time.Minute)).
					Terminated(resultName, 0, `{"ok":true}`, ago(time.Minute)).Obj()}},
			want: func(*testing.T) asyncjobv1alpha1.AsyncJobStatus {
				s := runningPrev()
				s.State = asyncjobv1alpha1.StateCompleted
				s.ObservedGeneration = statusGen
				s.CompletionTime = agoPtr(time.Minute)
				s.ExpireTime = laterPtr(ago(time.Minute), statusTTL)
				s.Result = rawJSON(`{"ok":true}`)
				s.Conditions = []metav1.Condition{
					condAt(asyncjobv1alpha1.ConditionAccepted, true, asyncjobv1alpha1.ReasonJobCreated, "the Job was created", ago(11*time.Minute)),
					condAt(asyncjobv1alpha1.ConditionRunning, false, asyncjobv1alpha1.ReasonFinished, msgFinished, ago(time.Minute)),
					condAt(asyncjobv1alpha1.ConditionComplete, true, asyncjobv1alpha1.ReasonJobComplete, msgComplete, statusNow),
				}
				return s
			},
		},
		{
			name: "finished before and the Job is gone: unchanged but for observedGeneration",
			prev: completedPrev(),
			obs:  observation{Generation: 3, Accepted: acceptedJobCreated, CancelRequested: true, JobLost: true, TTL: statusTTL},
			want: func(*testing.T) asyncjobv1alpha1.AsyncJobStatus {
				s := completedPrev()
				s.ObservedGeneration = 3
				return s
			},
		},
		{
			name: "the Job disappeared without a cancellation: Failed, JobLost",
			prev: runningPrev(),
			obs:  observation{Generation: statusGen, Accepted: acceptedJobCreated, JobLost: true, TTL: statusTTL},
			want: func(*testing.T) asyncjobv1alpha1.AsyncJobStatus {
				s := runningPrev()
				s.State = asyncjobv1alpha1.StateFailed
				s.ObservedGeneration = statusGen
				s.CompletionTime = &statusNow
				s.ExpireTime = laterPtr(statusNow, statusTTL)
				s.Failure = &asyncjobv1alpha1.Failure{Reason: asyncjobv1alpha1.ReasonJobLost, Message: msgJobLost}
				s.Conditions = []metav1.Condition{
					condAt(asyncjobv1alpha1.ConditionAccepted, true, asyncjobv1alpha1.ReasonJobCreated, "the Job was created", ago(11*time.Minute)),
					condAt(asyncjobv1alpha1.ConditionRunning, false, asyncjobv1alpha1.ReasonFinished, msgFinished, statusNow),
					condAt(asyncjobv1alpha1.ConditionFailed, true, asyncjobv1alpha1.ReasonJobLost, msgJobLost, statusNow),
				}
				return s
			},
		},
		{
			name: "progress reported earlier is preserved while running",
			prev: runningPrev(),
			obs: observation{Generation: statusGen, Accepted: acceptedJobCreated, TTL: statusTTL,
				Job:  statusJob().Counts(1, 0, 0).Obj(),
				Pods: []corev1.Pod{*statusPod("report-1-a", corev1.PodRunning, ago(10*time.Minute)).Running(resultName).Obj()}},
			want: func(*testing.T) asyncjobv1alpha1.AsyncJobStatus {
				s := runningPrev()
				s.ObservedGeneration = statusGen
				s.Progress = &asyncjobv1alpha1.Progress{Percent: 40, Step: "render", Message: "page 4 of 10", UpdateTime: agoMicro(time.Minute)}
				s.Conditions = []metav1.Condition{
					condAt(asyncjobv1alpha1.ConditionAccepted, true, asyncjobv1alpha1.ReasonJobCreated, "the Job was created", ago(11*time.Minute)),
					condAt(asyncjobv1alpha1.ConditionRunning, true, asyncjobv1alpha1.ReasonPodRunning, msgRunning, ago(10*time.Minute)),
				}
				return s
			},
		},
		{
			name: "limits recorded earlier stay: the type's TTL now (obs.TTL) and the Job's annotations do not move expireTime",
			prev: runningPrev(),
			obs: observation{Generation: statusGen, Accepted: acceptedJobCreated, TTL: 10 * time.Minute, ResultContainer: resultName,
				Job: func() *batchv1.Job {
					j := statusJob().Counts(0, 1, 0).Completed(ago(time.Minute)).Obj()
					j.Annotations[asyncjobv1alpha1.AnnotationTTLSecondsAfterFinished] = "60"
					return j
				}(),
				Pods: []corev1.Pod{*statusPod("report-1-a", corev1.PodSucceeded, ago(10*time.Minute)).
					Terminated(resultName, 0, `{"ok":true}`, ago(time.Minute)).Obj()}},
			want: func(*testing.T) asyncjobv1alpha1.AsyncJobStatus {
				s := runningPrev()
				s.State = asyncjobv1alpha1.StateCompleted
				s.ObservedGeneration = statusGen
				s.CompletionTime = agoPtr(time.Minute)
				s.ExpireTime = laterPtr(ago(time.Minute), time.Hour) // the recorded 3600 s
				s.Result = rawJSON(`{"ok":true}`)
				s.Conditions = []metav1.Condition{
					condAt(asyncjobv1alpha1.ConditionAccepted, true, asyncjobv1alpha1.ReasonJobCreated, "the Job was created", ago(11*time.Minute)),
					condAt(asyncjobv1alpha1.ConditionRunning, false, asyncjobv1alpha1.ReasonFinished, msgFinished, ago(time.Minute)),
					condAt(asyncjobv1alpha1.ConditionComplete, true, asyncjobv1alpha1.ReasonJobComplete, msgComplete, statusNow),
				}
				return s
			},
		},
		{
			name: "no limits recorded (the status write after the create was lost): rebuilt from the Job, which sets the TTL",
			obs: observation{Generation: statusGen, Accepted: acceptedJobCreated, TTL: 10 * time.Minute, ResultContainer: resultName,
				Job: statusJob().Counts(0, 0, 1).Failed("DeadlineExceeded", "", ago(time.Minute)).Obj()},
			want: func(*testing.T) asyncjobv1alpha1.AsyncJobStatus {
				return asyncjobv1alpha1.AsyncJobStatus{
					State:              asyncjobv1alpha1.StateFailed,
					ObservedGeneration: statusGen,
					JobName:            "report-1",
					Limits:             statusLimits(),
					Attempts:           1,
					CompletionTime:     agoPtr(time.Minute),
					ExpireTime:         laterPtr(ago(time.Minute), time.Hour),
					Failure:            &asyncjobv1alpha1.Failure{Reason: "DeadlineExceeded"},
					Conditions: []metav1.Condition{
						condAt(asyncjobv1alpha1.ConditionAccepted, true, asyncjobv1alpha1.ReasonJobCreated, "the Job was created", statusNow),
						condAt(asyncjobv1alpha1.ConditionRunning, false, asyncjobv1alpha1.ReasonFinished, msgFinished, ago(time.Minute)),
						condAt(asyncjobv1alpha1.ConditionFailed, true, "DeadlineExceeded", "", statusNow),
					},
				}
			},
		},
		{
			name: "a Job from before the limit annotations: deadline and retries from its spec, the TTL from the type now",
			obs: observation{Generation: statusGen, Accepted: acceptedJobCreated, TTL: 10 * time.Minute, ResultContainer: resultName,
				Job: func() *batchv1.Job {
					j := statusJob().Counts(0, 0, 1).Failed("DeadlineExceeded", "", ago(time.Minute)).Obj()
					j.Annotations = map[string]string{asyncjobv1alpha1.AnnotationTTLSecondsAfterFinished: "not a number"}
					return j
				}()},
			want: func(*testing.T) asyncjobv1alpha1.AsyncJobStatus {
				return asyncjobv1alpha1.AsyncJobStatus{
					State:              asyncjobv1alpha1.StateFailed,
					ObservedGeneration: statusGen,
					JobName:            "report-1",
					Limits:             &asyncjobv1alpha1.AppliedLimits{ActiveDeadlineSeconds: new(int64(600)), BackoffLimit: new(int32(2))},
					Attempts:           1,
					CompletionTime:     agoPtr(time.Minute),
					ExpireTime:         laterPtr(ago(time.Minute), 10*time.Minute),
					Failure:            &asyncjobv1alpha1.Failure{Reason: "DeadlineExceeded"},
					Conditions: []metav1.Condition{
						condAt(asyncjobv1alpha1.ConditionAccepted, true, asyncjobv1alpha1.ReasonJobCreated, "the Job was created", statusNow),
						condAt(asyncjobv1alpha1.ConditionRunning, false, asyncjobv1alpha1.ReasonFinished, msgFinished, ago(time.Minute)),
						condAt(asyncjobv1alpha1.ConditionFailed, true, "DeadlineExceeded", "", statusNow),
					},
				}
			},
		},
		{
			name: "the Job is lost: the TTL is the recorded one, not the type's now",
			prev: runningPrev(),
			obs:  observation{Generation: statusGen, Accepted: acceptedJobCreated, JobLost: true, TTL: 10 * time.Minute},
			want: func(*testing.T) asyncjobv1alpha1.AsyncJobStatus {
				s := runningPrev()
				s.State = asyncjobv1alpha1.StateFailed
				s.ObservedGeneration = statusGen
				s.CompletionTime = &statusNow
				s.ExpireTime = laterPtr(statusNow, time.Hour)
				s.Failure = &asyncjobv1alpha1.Failure{Reason: asyncjobv1alpha1.ReasonJobLost, Message: msgJobLost}
				s.Conditions = []metav1.Condition{
					condAt(asyncjobv1alpha1.ConditionAccepted, true, asyncjobv1alpha1.ReasonJobCreated, "the Job was created", ago(11*time.Minute)),
					condAt(asyncjobv1alpha1.ConditionRunning, false, asyncjobv1alpha1.ReasonFinished, msgFinished, statusNow),
					condAt(asyncjobv1alpha1.ConditionFailed, true, asyncjobv1alpha1.ReasonJobLost, msgJobLost, statusNow),
				}
				return s
			},
		},
		{
			name: "cancelled before it started: no limits recorded, the TTL is the type's now",
			obs: observation{Generation: statusGen, CancelRequested: true, TTL: 10 * time.Minute,
				Accepted: metav1.Condition{Type: asyncjobv1alpha1.ConditionAccepted, Status: metav1.ConditionFalse,
					Reason: asyncjobv1alpha1.ReasonCancelled, Message: "cancelled before it started"}},
			want: func(*testing.T) asyncjobv1alpha1.AsyncJobStatus {
				return asyncjobv1alpha1.AsyncJobStatus{
					State:              asyncjobv1alpha1.StateCancelled,
					ObservedGeneration: statusGen,
					CompletionTime:     &statusNow,
					ExpireTime:         laterPtr(statusNow, 10*time.Minute),
					Conditions: []metav1.Condition{
						condAt(asyncjobv1alpha1.ConditionAccepted, false, asyncjobv1alpha1.ReasonCancelled, "cancelled before it started", statusNow),
						condAt(asyncjobv1alpha1.ConditionRunning, false, asyncjobv1alpha1.ReasonFinished, msgFinished, statusNow),
						condAt(asyncjobv1alpha1.ConditionCancelled, true, asyncjobv1alpha1.ReasonCancelled, msgCancelled, statusNow),
					},
				}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.obs.Generation == 0 {
				tc.obs.Generation = statusGen
			}
			prevBefore := tc.prev.DeepCopy()
			got := deriveStatus(tc.prev, tc.obs, statusNow)
			if diff := cmp.Diff(tc.want(t), got, statusCmpOpts...); diff != "" {
				t.Errorf("deriveStatus() mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(prevBefore, &tc.prev); diff != "" {
				t.Errorf("deriveStatus() mutated the previous status (-before +after):\n%s", diff)
			}
		})
	}
}

// completedFromRunning is runningPrev completed a minute ago, without a result.
func completedFromRunning() asyncjobv1alpha1.AsyncJobStatus {
	s := runningPrev()
	s.State = asyncjobv1alpha1.StateCompleted
	s.ObservedGeneration = statusGen
	s.CompletionTime = agoPtr(time.Minute)
	s.ExpireTime = laterPtr(ago(time.Minute), statusTTL)
	s.Conditions = []metav1.Condition{
		condAt(asyncjobv1alpha1.ConditionAccepted, true, asyncjobv1alpha1.ReasonJobCreated, "the Job was created", ago(11*time.Minute)),
		condAt(asyncjobv1alpha1.ConditionRunning, false, asyncjobv1alpha1.ReasonFinished, msgFinished, ago(time.Minute)),
		condAt(asyncjobv1alpha1.ConditionComplete, true, asyncjobv1alpha1.ReasonJobComplete, msgComplete, statusNow),
	}
	return s
}

// completedPrev is the status of an AsyncJob that completed 10 minutes ago.
func completedPrev() asyncjobv1alpha1.AsyncJobStatus {
	return asyncjobv1alpha1.AsyncJobStatus{
		State:              asyncjobv1alpha1.StateCompleted,
		ObservedGeneration: 2,
		JobName:            "report-1",
		Limits:             statusLimits(),
		Attempts:           1,
		StartTime:          agoPtr(20 * time.Minute),
		CompletionTime:     agoPtr(10 * time.Minute),
		ExpireTime:         laterPtr(ago(10*time.Minute), statusTTL),
		Result:             rawJSON(`{"rows":42}`),
		Conditions: []metav1.Condition{
			{Type: asyncjobv1alpha1.ConditionAccepted, Status: metav1.ConditionTrue, Reason: asyncjobv1alpha1.ReasonJobCreated,
				Message: "the Job was created", ObservedGeneration: 2, LastTransitionTime: ago(21 * time.Minute)},
			{Type: asyncjobv1alpha1.ConditionRunning, Status: metav1.ConditionFalse, Reason: asyncjobv1alpha1.ReasonFinished,
				Message: msgFinished, ObservedGeneration: 2, LastTransitionTime: ago(10 * time.Minute)},
			{Type: asyncjobv1alpha1.ConditionComplete, Status: metav1.ConditionTrue, Reason: asyncjobv1alpha1.ReasonJobComplete,
				Message: msgComplete, ObservedGeneration: 2, LastTransitionTime: ago(10 * time.Minute)},
		},
	}
}

// TestDeriveStatusIsStable derives a status, then derives again from it with the
// same observation and a later clock: nothing may change, or the controller
// would write status (and bump lastTransitionTime) on every pass.
func TestDeriveStatusIsStable(t *testing.T) {
	later := metav1.NewTime(statusNow.Add(7 * time.Minute))
	cases := map[string]observation{
		"pending, type not found": {Accepted: acceptedTypeNotFound},
		"pending, suspended":      {Accepted: acceptedJobCreated, Job: statusJob().Suspend().Obj()},
		"running": {Accepted: acceptedJobCreated, Job: statusJob().Counts(1, 0, 0).Obj(),
			Pods: []corev1.Pod{*statusPod("report-1-a", corev1.PodRunning, ago(time.Minute)).Running(resultName).Obj()}},
		"stopping": {Accepted: acceptedJobCreated, CancelRequested: true, Job: statusJob().Counts(1, 0, 0).Obj(),
			Pods: []corev1.Pod{*statusPod("report-1-a", corev1.PodRunning, ago(time.Minute)).Running(resultName).Obj()}},
		"completed": {Accepted: acceptedJobCreated, TTL: statusTTL, ResultContainer: resultName,
			Job: statusJob().Counts(0, 1, 0).Completed(ago(time.Minute)).Obj(),
			Pods: []corev1.Pod{*statusPod("report-1-a", corev1.PodSucceeded, ago(3*time.Minute)).
				Terminated(resultName, 0, `{"ok":true}`, ago(time.Minute)).Obj()}},
		"failed": {Accepted: acceptedJobCreated, TTL: statusTTL,
			Job: statusJob().Counts(0, 0, 1).Failed("BackoffLimitExceeded", "", ago(time.Minute)).Obj(),
			Pods: []corev1.Pod{*statusPod("report-1-a", corev1.PodFailed, ago(3*time.Minute)).
				Terminated(resultName, 3, "boom", ago(time.Minute)).Obj()}},
		"cancelled": {Accepted: acceptedJobCreated, CancelRequested: true, TTL: statusTTL},
		"rejected": {Accepted: acceptedTypeNotFound, TTL: statusTTL,
			Rejected: &asyncjobv1alpha1.Failure{Reason: asyncjobv1alpha1.ReasonInvalidParameters, Message: "/format: is required"}},
	}
	for name, obs := range cases {
		t.Run(name, func(t *testing.T) {
			obs.Generation = statusGen
			first := deriveStatus(asyncjobv1alpha1.AsyncJobStatus{}, obs, statusNow)
			again := deriveStatus(first, obs, later)
			if diff := cmp.Diff(first, again); diff != "" {
				t.Errorf("deriving again with a later clock changed the status (-first +again):\n%s", diff)
			}
			if !statusEqual(first, again) {
				t.Errorf("statusEqual() = false for a re-derived status: the controller would write it again")
			}
		})
	}
}

// TestDeriveStatusTransitionTimes: lastTransitionTime moves only when a
// condition's status flips, not when its reason or message changes.
func TestDeriveStatusTransitionTimes(t *testing.T) {
	t1 := statusNow
	t2 := metav1.NewTime(t1.Add(time.Minute))
	t3 := metav1.NewTime(t2.Add(time.Minute))
	t4 := metav1.NewTime(t3.Add(time.Minute))
	running := func(s asyncjobv1alpha1.AsyncJobStatus) metav1.Condition {
		t.Helper()
		c := meta.FindStatusCondition(s.Conditions, asyncjobv1alpha1.ConditionRunning)
		if c == nil {
			t.Fatalf("no Running condition in %+v", s.Conditions)
		}
		return *c
	}
	accepted := func(s asyncjobv1alpha1.AsyncJobStatus) metav1.Condition {
		t.Helper()
		c := meta.FindStatusCondition(s.Conditions, asyncjobv1alpha1.ConditionAccepted)
		if c == nil {
			t.Fatalf("no Accepted condition in %+v", s.Conditions)
		}
		return *c
	}
	job := statusJob().Counts(1, 0, 0).Obj()

	// t1: waiting for the type.
	s1 := deriveStatus(asyncjobv1alpha1.AsyncJobStatus{}, observation{Generation: statusGen, Accepted: acceptedTypeNotFound}, t1)
	if got := running(s1); got.Status != metav1.ConditionFalse || got.Reason != asyncjobv1alpha1.ReasonWaiting || !got.LastTransitionTime.Equal(&t1) {
		t.Fatalf("t1: Running = %+v, want False/Waiting at %v", got, t1)
	}

	// t2: the Job exists, its pod is not running yet: Running stays False (reason
	// unchanged), Accepted flips to True.
	s2 := deriveStatus(s1, observation{Generation: statusGen, Accepted: acceptedJobCreated, Job: job}, t2)
	if got := running(s2); got.Status != metav1.ConditionFalse || !got.LastTransitionTime.Equal(&t1) {
		t.Errorf("t2: Running = %+v, want False with lastTransitionTime still %v", got, t1)
	}
	if got := accepted(s2); got.Status != metav1.ConditionTrue || !got.LastTransitionTime.Equal(&t2) {
		t.Errorf("t2: Accepted = %+v, want True with lastTransitionTime %v", got, t2)
	}

	// t3: the Job is suspended: same status False, new reason, same transition time.
	suspended := job.DeepCopy()
	suspended.Spec.Suspend = new(true)
	s3 := deriveStatus(s2, observation{Generation: statusGen, Accepted: acceptedJobCreated, Job: suspended}, t3)
	if got := running(s3); got.Status != metav1.ConditionFalse || got.Reason != asyncjobv1alpha1.ReasonSuspended || !got.LastTransitionTime.Equal(&t1) {
		t.Errorf("t3: Running = %+v, want False/Suspended with lastTransitionTime still %v", got, t1)
	}
	if got := accepted(s3); !got.LastTransitionTime.Equal(&t2) {
		t.Errorf("t3: Accepted lastTransitionTime = %v, want still %v", got.LastTransitionTime, t2)
	}

	// t4: a pod runs: Running flips to True at t4.
	pods := []corev1.Pod{*statusPod("report-1-a", corev1.PodRunning, t3).Running(resultName).Obj()}
	s4 := deriveStatus(s3, observation{Generation: statusGen, Accepted: acceptedJobCreated, Job: job, Pods: pods}, t4)
	if got := running(s4); got.Status != metav1.ConditionTrue || got.Reason != asyncjobv1alpha1.ReasonPodRunning || !got.LastTransitionTime.Equal(&t4) {
		t.Errorf("t4: Running = %+v, want True/PodRunning at %v", got, t4)
	}
	if s4.State != asyncjobv1alpha1.StateRunning {
		t.Errorf("t4: state = %q, want Running", s4.State)
	}
}

func TestTruncateMessage(t *testing.T) {
	cases := []struct {
		name, in, want string
	}{
		{name: "short: as is", in: "boom", want: "boom"},
		{name: "exactly 1024 bytes: as is", in: strings.Repeat("a", 1024), want: strings.Repeat("a", 1024)},
		{name: "longer: the first 1024 bytes", in: strings.Repeat("a", 1024) + "b", want: strings.Repeat("a", 1024)},
		// "é" is 2 bytes: byte 1024 would be the middle of the 512th é.
		{name: "never inside a character (2 bytes)", in: "x" + strings.Repeat("é", 600), want: "x" + strings.Repeat("é", 511)},
		// "€" is 3 bytes, "😀" 4.
		{name: "never inside a character (3 bytes)", in: "x" + strings.Repeat("€", 400), want: "x" + strings.Repeat("€", 341)},
		{name: "never inside a character (4 bytes)", in: strings.Repeat("😀", 300), want: strings.Repeat("😀", 256)},
		{name: "never inside a character (4 bytes, offset)", in: "xy" + strings.Repeat("😀", 300), want: "xy" + strings.Repeat("😀", 255)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := truncateMessage(tc.in)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("truncateMessage() mismatch (-want +got):\n%s", diff)
			}
			if len(got) > maxMessageBytes || !utf8.ValidString(got) {
				t.Errorf("truncateMessage() = %d bytes, valid UTF-8 %v", len(got), utf8.ValidString(got))
			}
		})
	}
}

func TestTruncateTerminationMessage(t *testing.T) {
	// The entrypoint's format: how the command ended, then the last lines of
	// its stderr, the newest last.
	var lines []string
	for i := range 20 {
		lines = append(lines, fmt.Sprintf("line %02d %s", i, strings.Repeat("-", 90)))
	}
	entrypoint := "convert.sh exited with code 1\n" + strings.Join(lines, "\n")
	keptTail := entrypoint[len(entrypoint)-(1024-len("convert.sh exited with code 1\n")-len("…")):]
	cases := []struct {
		name, in, want string
	}{
		{name: "short: as is", in: "convert.sh exited with code 1\nboom", want: "convert.sh exited with code 1\nboom"},
		{name: "exactly 1024 bytes: as is", in: strings.Repeat("a", 1024), want: strings.Repeat("a", 1024)},
		{name: "the entrypoint's message: its first line, then its end", in: entrypoint,
			want: "convert.sh exited with code 1\n…" + keptTail},
		{name: "one long line: its end", in: strings.Repeat("a", 1000) + strings.Repeat("z", 1000),
			want: "…" + strings.Repeat("a", 21) + strings.Repeat("z", 1000)},
		{name: "a first line over 256 bytes is not kept: the end only", in: strings.Repeat("h", 257) + "\n" + strings.Repeat("z", 1000),
			want: "…" + strings.Repeat("h", 20) + "\n" + strings.Repeat("z", 1000)},
		{name: "a first line of 256 bytes is kept", in: strings.Repeat("h", 256) + "\n" + strings.Repeat("z", 1000),
			want: strings.Repeat("h", 256) + "\n…" + strings.Repeat("z", 764)},
		// 1021 bytes of tail: 340 "€" are 1020, so the cut moves forward past a partial one.
		{name: "never inside a character (3 bytes)", in: strings.Repeat("€", 600), want: "…" + strings.Repeat("€", 340)},
		{name: "never inside a character (4 bytes)", in: strings.Repeat("😀", 300), want: "…" + strings.Repeat("😀", 255)},
		{name: "never inside a character (2 bytes)", in: strings.Repeat("é", 600) + "x", want: "…" + strings.Repeat("é", 510) + "x"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := truncateTerminationMessage(tc.in)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("truncateTerminationMessage() mismatch (-want +got):\n%s", diff)
			}
			if len(got) > maxMessageBytes || !utf8.ValidString(got) {
				t.Errorf("truncateTerminationMessage() = %d bytes, valid UTF-8 %v", len(got), utf8.ValidString(got))
			}
		})
	}
}
