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

package httpapi

import (
	"encoding/json"
	"regexp"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/internal/artifact"
)

// labelPrefix namespaces REST labels among the AsyncJob's Kubernetes labels,
// so clients can neither set nor spoof the labels the system relies on
// (asyncjob.io/tenant). REST label "project=x" is "labels.asyncjob.io/project=x".
const labelPrefix = "labels.asyncjob.io/"

// Status is the REST status of a job.
type Status string

// The REST statuses; one per AsyncJob state.
const (
	StatusPending   Status = "PENDING"
	StatusRunning   Status = "RUNNING"
	StatusCompleted Status = "COMPLETED"
	StatusFailed    Status = "FAILED"
	StatusCancelled Status = "CANCELLED"
)

// statusOf maps an AsyncJob state to its REST status. A job the controller has
// not looked at yet has no state: it is pending.
func statusOf(s v1alpha1.AsyncJobState) Status {
	switch s {
	case v1alpha1.StateRunning:
		return StatusRunning
	case v1alpha1.StateCompleted:
		return StatusCompleted
	case v1alpha1.StateFailed:
		return StatusFailed
	case v1alpha1.StateCancelled:
		return StatusCancelled
	default:
		return StatusPending
	}
}

// stateOf is the inverse of statusOf, for filters.
func stateOf(s Status) (v1alpha1.AsyncJobState, bool) {
	switch s {
	case StatusPending:
		return v1alpha1.StatePending, true
	case StatusRunning:
		return v1alpha1.StateRunning, true
	case StatusCompleted:
		return v1alpha1.StateCompleted, true
	case StatusFailed:
		return v1alpha1.StateFailed, true
	case StatusCancelled:
		return v1alpha1.StateCancelled, true
	}
	return "", false
}

// Job is the REST representation of an AsyncJob.
type Job struct {
	ID              string            `json:"id"`
	Type            string            `json:"type"`
	Status          Status            `json:"status"`
	Parameters      json.RawMessage   `json:"parameters"`
	Labels          map[string]string `json:"labels"`
	Progress        *JobProgress      `json:"progress"`
	Attempts        int32             `json:"attempts"`
	AttemptHistory  []JobAttempt      `json:"attemptHistory"`
	CancelRequested bool              `json:"cancelRequested"`
	Deleting        bool              `json:"deleting"`
	CreatedAt       time.Time         `json:"createdAt"`
	UpdatedAt       time.Time         `json:"updatedAt"`
	StartedAt       *time.Time        `json:"startedAt"`
	CompletedAt     *time.Time        `json:"completedAt"`
	ExpiresAt       *time.Time        `json:"expiresAt"`
	Result          json.RawMessage   `json:"result"`
	Problem         *JobProblem       `json:"problem"`
	Webhook         *JobWebhook       `json:"webhook"` // webhook_view.go
	// Inputs and Outputs are the job's files (artifacts_view.go).
	Inputs  []JobArtifact `json:"inputs"`
	Outputs []JobArtifact `json:"outputs"`
	// Queue is the job's place in line while it waits, when known (queue_view.go).
	Queue   *JobQueue  `json:"queue,omitempty"`
	Timings JobTimings `json:"timings"` // queue_view.go
	Links   JobLinks   `json:"links"`
}

// JobProgress is what the worker last reported.
type JobProgress struct {
	Percent   int32      `json:"percent"`
	Step      string     `json:"step,omitempty"`
	Message   string     `json:"message,omitempty"`
	UpdatedAt *time.Time `json:"updatedAt,omitempty"`
}

// JobProblem is an RFC 9457 problem describing why a job failed. Reason is the
// Kubernetes reason (BackoffLimitExceeded, DeadlineExceeded, ...) as is; code
// is the same reason in the API's UPPER_SNAKE_CASE.
type JobProblem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Detail   string `json:"detail,omitempty"`
	Code     string `json:"code"`
	Reason   string `json:"reason"`
	ExitCode *int32 `json:"exitCode,omitempty"`
}

// JobLinks are the job's related URLs.
type JobLinks struct {
	Self   string `json:"self"`
	Cancel string `json:"cancel"`
	Result string `json:"result"`
	// Artifacts lists the job's files.
	Artifacts string `json:"artifacts"`
	// WebhookDeliveries is set only for a job with a webhook.
	WebhookDeliveries string `json:"webhookDeliveries,omitempty"`
}

// jobFailedProblem is the type of JobProblem.
var jobFailedProblem = problemType{"job-failed", "Job failed", 0, ""}

// jobPath is the URL path of a job.
func jobPath(id string) string { return "/v1/jobs/" + id }

// toJob renders an AsyncJob for REST clients.
func toJob(aj *v1alpha1.AsyncJob) Job {
	st := aj.Status
	j := Job{
		ID:              aj.Name,
		Type:            aj.Spec.Type,
		Status:          statusOf(st.State),
		Parameters:      json.RawMessage("{}"),
		Labels:          restLabels(aj.Labels),
		Attempts:        st.Attempts,
		AttemptHistory:  attemptsOf(st.AttemptHistory),
		CancelRequested: aj.Spec.Cancel,
		Deleting:        aj.DeletionTimestamp != nil,
		CreatedAt:       aj.CreationTimestamp.UTC(),
		StartedAt:       timePtr(st.StartTime),
		CompletedAt:     timePtr(st.CompletionTime),
		ExpiresAt:       timePtr(st.ExpireTime),
		Links: JobLinks{
			Self:      jobPath(aj.Name),
			Cancel:    jobPath(aj.Name) + "/cancel",
			Result:    jobPath(aj.Name) + "/result",
			Artifacts: artifactsPath(aj.Name),
		},
		Inputs:  toArtifacts(aj.Name, artifact.Input, aj.Spec.Inputs),
		Outputs: toArtifacts(aj.Name, artifact.Output, st.Outputs),
	}
	if aj.Spec.Parameters != nil && len(aj.Spec.Parameters.Raw) > 0 {
		j.Parameters = json.RawMessage(aj.Spec.Parameters.Raw)
	}
	if p := st.Progress; p != nil {
		j.Progress = &JobProgress{Percent: p.Percent, Step: p.Step, Message: p.Message, UpdatedAt: microPtr(p.UpdateTime)}
	}
	if j.Status == StatusCompleted {
		j.Result = json.RawMessage(completedResult(aj, j.Outputs))
	}
	if j.Status == StatusFailed {
		j.Problem = failureProblem(st.Failure)
	}
	j.Webhook, j.Links.WebhookDeliveries = toJobWebhook(aj)
	j.UpdatedAt = updatedAt(aj)
	j.Timings = timingsOf(aj)
	return j
}

// completedResult is a completed job's result as clients see it: the
// worker's, with links to its outputs (resultWithOutputs); nil (JSON null)
// when it has neither.
func completedResult(aj *v1alpha1.AsyncJob, outputs []JobArtifact) []byte {
	var raw []byte
	if r := aj.Status.Result; r != nil && len(r.Raw) > 0 {
		raw = r.Raw
	}
	if raw = resultWithOutputs(raw, outputs); len(raw) == 0 {
		return nil
	}
	return raw
}

// failureProblem turns the controller's failure record into a problem.
func failureProblem(f *v1alpha1.Failure) *JobProblem {
	p := &JobProblem{Type: jobFailedProblem.URI(), Title: jobFailedProblem.Title, Reason: "Unknown", Code: "UNKNOWN"}
	if f == nil {
		return p
	}
	if f.Reason != "" {
		p.Reason = f.Reason
		p.Code = upperSnake(f.Reason)
	}
	p.Detail = f.Message
	p.ExitCode = f.ExitCode
	return p
}

// updatedAt is the latest time anything about the job is known to have changed.
func updatedAt(aj *v1alpha1.AsyncJob) time.Time {
	latest := aj.CreationTimestamp.Time
	consider := func(t *metav1.Time) {
		if t != nil && t.After(latest) {
			latest = t.Time
		}
	}
	for i := range aj.Status.Conditions {
		consider(&aj.Status.Conditions[i].LastTransitionTime)
	}
	consider(aj.Status.StartTime)
	consider(aj.Status.CompletionTime)
	if aj.Status.Progress != nil {
		if t := aj.Status.Progress.UpdateTime; t != nil && t.After(latest) {
			latest = t.Time
		}
	}
	return latest.UTC()
}

// restLabels extracts the REST labels from an AsyncJob's Kubernetes labels.
func restLabels(kube map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range kube {
		if name, ok := strings.CutPrefix(k, labelPrefix); ok {
			out[name] = v
		}
	}
	return out
}

func timePtr(t *metav1.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func microPtr(t *metav1.MicroTime) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

var camelBoundary = regexp.MustCompile(`([a-z0-9])([A-Z])`)

// upperSnake turns a CamelCase Kubernetes reason into UPPER_SNAKE_CASE.
func upperSnake(s string) string {
	return strings.ToUpper(camelBoundary.ReplaceAllString(s, "${1}_${2}"))
}
