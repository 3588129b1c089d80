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

// FinalizerArtifacts keeps an AsyncJob that has files in the artifact store
// until the controller has removed them: the REST API sets it when it creates
// a job with inputs or of a type with outputs, so that no deletion (DELETE,
// TTL, kubectl delete) leaks files.
const FinalizerArtifacts = "asyncjob.io/artifacts"

// ConditionArtifactsRemoved is set while the controller could not remove a
// deleted (or cancelled) job's files: the deletion waits for the store.
const ConditionArtifactsRemoved = "ArtifactsRemoved"

const (
	// ReasonStoreUnavailable: the artifact store could not be reached or
	// refused the removal; the controller tries again.
	ReasonStoreUnavailable = "StoreUnavailable"
	// ReasonStoreNotConfigured: the job has files but the controller runs
	// without --artifact-store-url, so it cannot remove them.
	ReasonStoreNotConfigured = "StoreNotConfigured"
	// ReasonArtifactsRemoved: the files are gone.
	ReasonArtifactsRemoved = "Removed"
)

// Where the controller mounts a job's files (two emptyDirs) in its first
// container, when its type declares artifacts: the entrypoint downloads the
// inputs into InputsDir before the command starts (which runs there, so a
// parameter that names an input is a relative path to it) and uploads what
// the outputs patterns match when the command succeeds. They are not under
// the worker token's directory: that is a read-only volume, and a mount point
// cannot be created inside it.
const (
	InputsDir  = "/asyncjob/inputs"
	OutputsDir = "/asyncjob/outputs"
)

// Artifact is one file of a job in the artifact store: an input its client
// uploaded, or an output its worker produced.
type Artifact struct {
	// name is the file's name: 1-255 characters of letters, digits, '.', '_'
	// and '-', not starting with '.' and not ending in ".attrs" (the
	// filesystem backend's sidecar files).
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=255
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9_-][A-Za-z0-9._-]*$`
	// +kubebuilder:validation:XValidation:rule="!self.endsWith('.attrs')",message="an artifact name may not end in .attrs"
	// +required
	Name string `json:"name"`

	// size in bytes.
	// +kubebuilder:validation:Minimum=0
	// +required
	Size int64 `json:"size"`

	// sha256 of the content, lower-case hex.
	// +kubebuilder:validation:Pattern=`^[0-9a-f]{64}$`
	// +required
	SHA256 string `json:"sha256"`

	// contentType is the media type it was uploaded with.
	// +kubebuilder:validation:MaxLength=255
	// +optional
	ContentType string `json:"contentType,omitempty"`
}

// TypeArtifacts says which files a type's jobs take and produce. A type with
// artifacts runs its first container through the entrypoint (spec.entrypoint
// Inject).
type TypeArtifacts struct {
	// inputParameters name top-level string parameters that refer to an input
	// file: either the name of a file uploaded with the submission
	// (multipart/form-data) or an http(s) URL. The REST API refuses a
	// submission whose such parameter names no uploaded file.
	// +kubebuilder:validation:MaxItems=16
	// +listType=set
	// +optional
	InputParameters []string `json:"inputParameters,omitempty"`

	// outputs are paths in the first container the entrypoint uploads as the
	// job's outputs when the command succeeds, before the job completes. The
	// last element may be a glob (filepath.Match), e.g.
	// /asyncjob/outputs/*; each file's base name is its artifact name.
	// +kubebuilder:validation:MaxItems=16
	// +listType=atomic
	// +optional
	Outputs []string `json:"outputs,omitempty"`
}
