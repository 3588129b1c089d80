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

package v1alpha1

import (
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Labels the controller and the REST API put on AsyncJobs, Jobs and pods.
const (
	// LabelName links a Job and its pods back to their AsyncJob.
	LabelName = "asyncjob.io/name"
	// LabelType carries the AsyncJob's type on its Job, for selection and metrics.
	LabelType = "asyncjob.io/type"
	// LabelTenant names the tenant that submitted the AsyncJob; the REST API sets it
	// and the controller copies it to the Job.
	LabelTenant = "asyncjob.io/tenant"
	// LabelConfig marks the ConfigMaps asyncjob reads (its value says which
	// kind: LabelConfigTombstones, LabelConfigWebhookDefault), so the API's
	// cache holds those and never every ConfigMap in the cluster.
	LabelConfig = "asyncjob.io/config"
	// LabelConfigTombstones marks a namespace's tombstones of TTL-removed jobs.
	LabelConfigTombstones = "tombstones"
	// LabelConfigWebhookDefault marks a tenant's default webhook.
	LabelConfigWebhookDefault = "webhook-default"
)

// Annotations the controller puts on an AsyncJob's Job. With the Job's own
// activeDeadlineSeconds and backoffLimit they carry the limits the AsyncJob
// runs with, so status.limits can be rebuilt from the Job when the status write
// that follows its creation is lost.
const (
	// AnnotationTTLSecondsAfterFinished is how long the finished AsyncJob is kept.
	AnnotationTTLSecondsAfterFinished = "asyncjob.io/ttl-seconds-after-finished"
	// AnnotationPollIntervalSeconds is the Retry-After hint while the AsyncJob runs.
	AnnotationPollIntervalSeconds = "asyncjob.io/poll-interval-seconds"
)

// AsyncJobState is the one-word summary of an AsyncJob's lifecycle.
// +kubebuilder:validation:Enum=Pending;Running;Completed;Failed;Cancelled
type AsyncJobState string

const (
	// StatePending: accepted, not yet running (waiting for its type, queued, or scheduling).
	StatePending AsyncJobState = "Pending"
	// StateRunning: a pod of its Job has started.
	StateRunning AsyncJobState = "Running"
	// StateCompleted: its Job completed; status.result holds the worker's result.
	StateCompleted AsyncJobState = "Completed"
	// StateFailed: its Job failed, or it could never run; status.failure says why.
	StateFailed AsyncJobState = "Failed"
	// StateCancelled: cancellation was requested and its Job and pods are gone.
	StateCancelled AsyncJobState = "Cancelled"
)

// IsFinished reports whether the state is terminal.
func (s AsyncJobState) IsFinished() bool {
	return s == StateCompleted || s == StateFailed || s == StateCancelled
}

// Condition types of an AsyncJob.
const (
	// ConditionAccepted is True once the type exists, is ready, and the spec is valid for it.
	ConditionAccepted = "Accepted"
	// ConditionRunning is True while a pod of the Job runs.
	ConditionRunning = "Running"
	// ConditionComplete is True once the Job completed.
	ConditionComplete = "Complete"
	// ConditionFailed is True once the AsyncJob failed.
	ConditionFailed = "Failed"
	// ConditionCancelled is False (reason Stopping) while a cancellation tears the Job
	// down, and True once it is gone.
	ConditionCancelled = "Cancelled"
)

// Condition reasons of an AsyncJob. Failure reasons that come from the batch Job
// (BackoffLimitExceeded, DeadlineExceeded, PodFailurePolicy, ...) are passed through as is.
const (
	ReasonTypeNotFound      = "TypeNotFound"
	ReasonTypeNotReady      = "TypeNotReady"
	ReasonInvalidParameters = "InvalidParameters"
	ReasonInvalidSpec       = "InvalidSpec"
	ReasonJobNameConflict   = "JobNameConflict"
	// ReasonWorkerSecretConflict: a Secret named <name>-worker exists that the
	// AsyncJob does not own, so its worker token cannot be delivered.
	ReasonWorkerSecretConflict = "WorkerSecretConflict"
	ReasonJobCreated           = "JobCreated"
	ReasonPodRunning           = "PodRunning"
	ReasonWaiting              = "Waiting"
	ReasonSuspended            = "Suspended"
	ReasonJobComplete          = "JobComplete"
	ReasonJobFailed            = "JobFailed"
	ReasonJobLost              = "JobLost"
	ReasonStopping             = "Stopping"
	ReasonCancelled            = "Cancelled"
	ReasonFinished             = "Finished"
	ReasonExpired              = "Expired"
)

// JobLimits are the knobs of a batch Job that an AsyncJobType defaults and bounds,
// and that an AsyncJob may override within those bounds.
type JobLimits struct {
	// activeDeadlineSeconds bounds how long the Job may run, retries included.
	// +kubebuilder:validation:Minimum=1
	// +optional
	ActiveDeadlineSeconds *int64 `json:"activeDeadlineSeconds,omitempty"`

	// backoffLimit is the number of retries before the Job is marked failed.
	// +kubebuilder:validation:Minimum=0
	// +optional
	BackoffLimit *int32 `json:"backoffLimit,omitempty"`

	// ttlSecondsAfterFinished is how long a finished AsyncJob is kept before it is deleted.
	// +kubebuilder:validation:Minimum=0
	// +optional
	TTLSecondsAfterFinished *int32 `json:"ttlSecondsAfterFinished,omitempty"`
}

// AsyncJobSpec is what the client asked for. It is immutable except for the
// cancellation request.
// +kubebuilder:validation:XValidation:rule="has(self.parameters) == has(oldSelf.parameters)",message="parameters are immutable"
// +kubebuilder:validation:XValidation:rule="has(self.overrides) == has(oldSelf.overrides)",message="overrides are immutable"
// +kubebuilder:validation:XValidation:rule="has(self.webhook) == has(oldSelf.webhook)",message="webhook is immutable"
// +kubebuilder:validation:XValidation:rule="has(self.priority) == has(oldSelf.priority)",message="priority is immutable"
// +kubebuilder:validation:XValidation:rule="oldSelf.cancel != true || self.cancel == true",message="a cancellation cannot be withdrawn"
type AsyncJobSpec struct {
	// type names the AsyncJobType that runs this job.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="type is immutable"
	// +required
	Type string `json:"type"`

	// parameters are validated against the type's parametersSchema and handed to
	// the worker as ASYNCJOB_PARAMETERS and ASYNCJOB_PARAM_<NAME>.
	// +kubebuilder:validation:Type=object
	// +kubebuilder:pruning:PreserveUnknownFields
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="parameters are immutable"
	// +optional
	Parameters *apiextensionsv1.JSON `json:"parameters,omitempty"`

	// cancel requests cancellation: the controller deletes the Job with foreground
	// propagation and the AsyncJob ends Cancelled. It cannot be unset.
	// +kubebuilder:default=false
	// +optional
	Cancel bool `json:"cancel,omitempty"`

	// overrides replace the type's defaults, within the type's maximums.
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="overrides are immutable"
	// +optional
	Overrides *JobLimits `json:"overrides,omitempty"`

	// priority orders this job among its type's waiting jobs (higher first),
	// from 0 to the type's maxPriority.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="priority is immutable"
	// +optional
	Priority int32 `json:"priority,omitempty"`

	// webhook asks for signed notifications of this job's events.
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="webhook is immutable"
	// +optional
	Webhook *WebhookSpec `json:"webhook,omitempty"`

	// inputs are the files the client uploaded with the submission, stored in
	// the artifact store under the job's prefix. Set at creation, never changed.
	// +kubebuilder:validation:MaxItems=32
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="inputs cannot change"
	// +optional
	Inputs []Artifact `json:"inputs,omitempty"`
}

// Progress is what the worker last reported.
type Progress struct {
	// percent done, 0 to 100. Always written, so that 0 shows as 0 (in
	// `kubectl get asyncjobs` too), not as absent.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	// +optional
	Percent int32 `json:"percent"`
	// step names the phase the worker is in.
	// +kubebuilder:validation:MaxLength=256
	// +optional
	Step string `json:"step,omitempty"`
	// message is a human-readable detail.
	// +kubebuilder:validation:MaxLength=1024
	// +optional
	Message string `json:"message,omitempty"`
	// updateTime is when the API server received the report, to the
	// microsecond: the API's replicas order reports by it, so that a report
	// one replica held back never replaces a newer one another replica wrote
	// (docs/worker-contract.md, "Progress: how the API stores it").
	// +optional
	UpdateTime *metav1.MicroTime `json:"updateTime,omitempty"`
}

// Failure says why an AsyncJob failed: enough to build an RFC 9457 problem.
type Failure struct {
	// reason is a CamelCase machine reason: the batch Job's (BackoffLimitExceeded,
	// DeadlineExceeded, PodFailurePolicy) or the controller's (InvalidParameters, ...).
	// +required
	Reason string `json:"reason"`
	// message is the failed container's termination message, or a description.
	// +optional
	Message string `json:"message,omitempty"`
	// exitCode of the failed container, when one ran.
	// +optional
	ExitCode *int32 `json:"exitCode,omitempty"`
}

// AppliedLimits are the limits an AsyncJob runs with: its overrides over its
// type's defaults, within the type's maximums, fixed when its Job is created.
// Editing or deleting the type afterwards changes none of them.
type AppliedLimits struct {
	// activeDeadlineSeconds of the Job; absent: the Job runs without a deadline.
	// +optional
	ActiveDeadlineSeconds *int64 `json:"activeDeadlineSeconds,omitempty"`

	// backoffLimit of the Job: retries before it is marked failed.
	// +optional
	BackoffLimit *int32 `json:"backoffLimit,omitempty"`

	// ttlSecondsAfterFinished: how long the finished AsyncJob is kept (expireTime
	// is completionTime plus this).
	// +optional
	TTLSecondsAfterFinished *int32 `json:"ttlSecondsAfterFinished,omitempty"`

	// pollIntervalSeconds: the Retry-After hint REST clients get while it runs.
	// +optional
	PollIntervalSeconds *int32 `json:"pollIntervalSeconds,omitempty"`
}

// AsyncJobStatus is derived by the controller from the Job and its pods.
type AsyncJobStatus struct {
	// state summarises the lifecycle.
	// +optional
	State AsyncJobState `json:"state,omitempty"`

	// conditions detail the state.
	// +listType=map
	// +listMapKey=type
	// +patchStrategy=merge
	// +patchMergeKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty" patchStrategy:"merge" patchMergeKey:"type"`

	// observedGeneration is the generation this status was derived from.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// jobName is the batch Job that runs the work.
	// +optional
	JobName string `json:"jobName,omitempty"`

	// limits are the limits the Job was created with, recorded with jobName.
	// +optional
	Limits *AppliedLimits `json:"limits,omitempty"`

	// attempts counts the pods started so far, retries included.
	// +optional
	Attempts int32 `json:"attempts,omitempty"`

	// attemptHistory says how each attempt ended, oldest first (at most the
	// last 20). Attempts the cluster disrupted are retried without using up
	// backoffLimit.
	// +kubebuilder:validation:MaxItems=20
	// +listType=atomic
	// +optional
	AttemptHistory []AttemptRecord `json:"attemptHistory,omitempty"`

	// startTime is when a pod of the Job was first seen running.
	// +optional
	StartTime *metav1.Time `json:"startTime,omitempty"`

	// completionTime is when the AsyncJob reached a terminal state.
	// +optional
	CompletionTime *metav1.Time `json:"completionTime,omitempty"`

	// expireTime is when a finished AsyncJob will be deleted (completionTime plus its TTL).
	// +optional
	ExpireTime *metav1.Time `json:"expireTime,omitempty"`

	// progress is the worker's last report.
	// +optional
	Progress *Progress `json:"progress,omitempty"`

	// result is the JSON document the succeeded container wrote to its termination
	// message (a message that is not JSON is kept as a JSON string), or, when it
	// wrote none, the one the worker PUT to the result callback.
	// +kubebuilder:pruning:PreserveUnknownFields
	// +kubebuilder:validation:Schemaless
	// +optional
	Result *apiextensionsv1.JSON `json:"result,omitempty"`

	// failure says why the AsyncJob failed.
	// +optional
	Failure *Failure `json:"failure,omitempty"`

	// webhook is the delivery log of spec.webhook.
	// +optional
	Webhook *WebhookStatus `json:"webhook,omitempty"`

	// queue is the job's place in line while the built-in queue holds it.
	// +optional
	Queue *QueueStatus `json:"queue,omitempty"`

	// outputs are the files the worker uploaded through the REST API's
	// job-scoped output route; the REST API writes them as they arrive.
	// Cancelling removes them.
	// +kubebuilder:validation:MaxItems=32
	// +listType=map
	// +listMapKey=name
	// +optional
	Outputs []Artifact `json:"outputs,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=aj,categories=asyncjob
// +kubebuilder:printcolumn:name="Type",type=string,JSONPath=`.spec.type`
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.state`
// +kubebuilder:printcolumn:name="Progress",type=integer,JSONPath=`.status.progress.percent`
// +kubebuilder:printcolumn:name="Position",type=integer,JSONPath=`.status.queue.position`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:printcolumn:name="Job",type=string,JSONPath=`.status.jobName`,priority=1
// +kubebuilder:printcolumn:name="Attempts",type=integer,JSONPath=`.status.attempts`,priority=1
// +kubebuilder:printcolumn:name="Tenant",type=string,JSONPath=`.metadata.labels.asyncjob\.io/tenant`,priority=1
// +kubebuilder:validation:XValidation:rule="size(self.metadata.name) <= 63",message="name must be at most 63 characters: it names the batch Job"

// AsyncJob is one submitted unit of long-running work, run as one batch/v1 Job.
type AsyncJob struct {
	metav1.TypeMeta `json:",inline"`

	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec AsyncJobSpec `json:"spec"`

	// +optional
	Status AsyncJobStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// AsyncJobList contains a list of AsyncJob.
type AsyncJobList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []AsyncJob `json:"items"`
}
