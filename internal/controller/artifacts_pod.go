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

	corev1 "k8s.io/api/core/v1"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
)

// The files' environment of the worker contract (docs/worker-contract.md,
// "Files"), which the entrypoint reads (internal/entrypoint/config.go).
const (
	EnvInputsDir  = "ASYNCJOB_INPUTS_DIR"
	EnvOutputsDir = "ASYNCJOB_OUTPUTS_DIR"
	// EnvInputs is a JSON array of the job's input names, e.g. ["clip.mov"].
	EnvInputs = "ASYNCJOB_INPUTS"
	// EnvOutputs is a JSON array of the type's outputs patterns.
	EnvOutputs = "ASYNCJOB_OUTPUTS"
)

// The emptyDirs the files live in while the pod runs; a template must not use
// these names.
const (
	inputsVolume  = "asyncjob-inputs"
	outputsVolume = "asyncjob-outputs"
)

// ArtifactsRoot holds InputsDir and OutputsDir; a template may mount nothing
// within it.
const ArtifactsRoot = "/asyncjob"

// artifactsEnv is the environment of the first container of a type with
// artifacts: where the files go, which inputs to download and which outputs
// to upload.
func artifactsEnv(aj *asyncjobv1alpha1.AsyncJob, arts *asyncjobv1alpha1.TypeArtifacts) ([]corev1.EnvVar, error) {
	names := make([]string, 0, len(aj.Spec.Inputs))
	for _, in := range aj.Spec.Inputs {
		names = append(names, in.Name)
	}
	inputs, err := json.Marshal(names)
	if err != nil {
		return nil, err
	}
	patterns := arts.Outputs
	if patterns == nil {
		patterns = []string{} // [] rather than null: always an array
	}
	outputs, err := json.Marshal(patterns)
	if err != nil {
		return nil, err
	}
	return []corev1.EnvVar{
		{Name: EnvInputsDir, Value: asyncjobv1alpha1.InputsDir},
		{Name: EnvOutputsDir, Value: asyncjobv1alpha1.OutputsDir},
		{Name: EnvInputs, Value: string(inputs)},
		{Name: EnvOutputs, Value: string(outputs)},
	}, nil
}

// mountArtifacts gives the first container the two emptyDirs the entrypoint
// downloads the inputs into and uploads the outputs from. Only the first: it
// is the one the entrypoint runs in.
func mountArtifacts(pod *corev1.PodSpec) {
	pod.Volumes = append(pod.Volumes,
		corev1.Volume{Name: inputsVolume, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		corev1.Volume{Name: outputsVolume, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
	)
	first := &pod.Containers[0]
	first.VolumeMounts = append(first.VolumeMounts,
		corev1.VolumeMount{Name: inputsVolume, MountPath: asyncjobv1alpha1.InputsDir},
		corev1.VolumeMount{Name: outputsVolume, MountPath: asyncjobv1alpha1.OutputsDir},
	)
}
