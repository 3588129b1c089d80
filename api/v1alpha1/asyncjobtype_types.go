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
	batchv1 "k8s.io/api/batch/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Condition types and reasons of an AsyncJobType.
const (
	// TypeConditionReady is True when the type's schema compiles and its template is usable.
	TypeConditionReady = "Ready"

	ReasonValid           = "Valid"
	ReasonInvalidSchema   = "InvalidSchema"
	ReasonInvalidTemplate = "InvalidTemplate"
	ReasonInvalidLimits   = "InvalidLimits"
	// ReasonEntrypointUnavailable: the type injects the entrypoint, and the
	// controller runs without an entrypoint image.
	ReasonEntrypointUnavailable = "EntrypointUnavailable"
)

// EntrypointMode says whether the controller runs a type's container through
// the asyncjob entrypoint.
// +kubebuilder:validation:Enum=None;Inject
type EntrypointMode string

const (
	// EntrypointNone runs the template's containers as they are.
	EntrypointNone EntrypointMode = "None"
	// EntrypointInject runs the template's first container through the asyncjob
	// entrypoint, which the controller copies into the pod.
	EntrypointInject EntrypointMode = "Inject"
)

// AsyncJobTypeSpec defines a kind of work REST clients may submit.
// +kubebuilder:validation:XValidation:rule="!(has(self.concurrency) && has(self.kueue))",message="a type is queued either by its concurrency or by Kueue, not both"
// +kubebuilder:validation:XValidation:rule="!has(self.artifacts) || self.entrypoint == 'Inject'",message="a type with artifacts runs through the entrypoint: set entrypoint to Inject"
type AsyncJobTypeSpec struct {
	// description tells REST clients what the type does.
	// +kubebuilder:validation:MaxLength=1024
	// +optional
	Description string `json:"description,omitempty"`

	// parametersSchema is a JSON Schema (draft 2020-12 unless it says otherwise in
	// $schema) that an AsyncJob's spec.parameters must satisfy. Absent: any object.
	// +kubebuilder:validation:Type=object
	// +kubebuilder:pruning:PreserveUnknownFields
	// +optional
	ParametersSchema *apiextensionsv1.JSON `json:"parametersSchema,omitempty"`

	// template is the batch Job that does the work. The controller sets its
	// restartPolicy to Never, applies deadline and retries, and adds the worker
	// contract's environment to every container.
	// +required
	Template batchv1.JobTemplateSpec `json:"template"`

	// defaults apply when an AsyncJob does not override them.
	// +optional
	Defaults JobLimits `json:"defaults,omitempty"`

	// maximums bound what an AsyncJob may override.
	// +optional
	Maximums JobLimits `json:"maximums,omitempty"`

	// entrypoint Inject runs the template's first container through the asyncjob
	// entrypoint (progress, results and signals for any image, see
	// docs/worker-contract.md): an init container copies the binary into an
	// emptyDir mounted at /asyncjob-bin, and the container's command becomes
	// `/asyncjob-bin/asyncjob entrypoint -- <command...>` (its args follow as
	// they are). That container must then set command: the controller does not
	// read the image's own ENTRYPOINT. None runs the template as it is.
	// +kubebuilder:default=None
	// +optional
	Entrypoint EntrypointMode `json:"entrypoint,omitempty"`

	// pollIntervalSeconds is the Retry-After hint REST clients get while a job of this type runs.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:default=5
	// +optional
	PollIntervalSeconds int32 `json:"pollIntervalSeconds,omitempty"`

	// concurrency bounds how many of this type's jobs run at once; the rest wait in order.
	// +optional
	Concurrency *Concurrency `json:"concurrency,omitempty"`

	// kueue hands admission of this type's jobs to a Kueue LocalQueue instead.
	// +optional
	Kueue *KueueQueue `json:"kueue,omitempty"`

	// maxPriority is the highest priority a submission may ask for (0, the
	// default, for every job); a waiting job of higher priority starts first.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1000
	// +optional
	MaxPriority int32 `json:"maxPriority,omitempty"`

	// artifacts declares the files a job takes (uploaded inputs) and produces
	// (outputs the entrypoint uploads); it needs entrypoint Inject.
	// +optional
	Artifacts *TypeArtifacts `json:"artifacts,omitempty"`
}

// AsyncJobTypeStatus reports whether the type can be used.
type AsyncJobTypeStatus struct {
	// conditions: Ready says whether the schema and template are usable.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// observedGeneration is the generation the conditions were computed for.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=ajt,categories=asyncjob
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`,priority=1
// +kubebuilder:printcolumn:name="Description",type=string,JSONPath=`.spec.description`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:validation:XValidation:rule="size(self.metadata.name) <= 63",message="name must be at most 63 characters: it is used as a label value"

// AsyncJobType is a kind of work a cluster operator allows: a Job template, a
// parameters schema, and defaults and limits.
type AsyncJobType struct {
	metav1.TypeMeta `json:",inline"`

	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec AsyncJobTypeSpec `json:"spec"`

	// +optional
	Status AsyncJobTypeStatus `json:"status,omitempty"`
}

// IsReady reports whether the type's Ready condition is True for its current
// generation: the one test, shared by the controller and the REST API, of
// whether AsyncJobs of this type may be accepted and started.
func (t *AsyncJobType) IsReady() bool {
	c := meta.FindStatusCondition(t.Status.Conditions, TypeConditionReady)
	return c != nil && c.Status == metav1.ConditionTrue && c.ObservedGeneration == t.Generation
}

// InjectsEntrypoint reports whether the controller wraps the template's first
// container in the asyncjob entrypoint.
func (s *AsyncJobTypeSpec) InjectsEntrypoint() bool {
	return s.Entrypoint == EntrypointInject
}

// +kubebuilder:object:root=true

// AsyncJobTypeList contains a list of AsyncJobType.
type AsyncJobTypeList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []AsyncJobType `json:"items"`
}
