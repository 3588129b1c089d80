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

package wrappers

import (
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
)

// AnyObjectSchema accepts any JSON object as parameters.
const AnyObjectSchema = `{"type":"object"}`

// AsyncJobTypeWrapper builds an AsyncJobType.
type AsyncJobTypeWrapper struct{ asyncjobv1alpha1.AsyncJobType }

// MakeAsyncJobType is a type whose parameters are any object and whose Job runs
// one container, "worker", of example.com/worker:v1, never restarted in place.
func MakeAsyncJobType(name string) *AsyncJobTypeWrapper {
	return &AsyncJobTypeWrapper{asyncjobv1alpha1.AsyncJobType{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: asyncjobv1alpha1.AsyncJobTypeSpec{
			Description:      "a test type",
			ParametersSchema: &apiextensionsv1.JSON{Raw: []byte(AnyObjectSchema)},
			Template: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{
				Spec: corev1.PodSpec{
					RestartPolicy: corev1.RestartPolicyNever,
					Containers:    []corev1.Container{{Name: "worker", Image: "example.com/worker:v1"}},
				},
			}}},
		},
	}}
}

// Obj returns the AsyncJobType.
func (w *AsyncJobTypeWrapper) Obj() *asyncjobv1alpha1.AsyncJobType { return &w.AsyncJobType }

// UID sets metadata.uid, for pure tests of code that reads it.
func (w *AsyncJobTypeWrapper) UID(uid string) *AsyncJobTypeWrapper {
	w.ObjectMeta.UID = types.UID(uid)
	return w
}

// Generation sets metadata.generation, for pure tests of code that reads it.
func (w *AsyncJobTypeWrapper) Generation(g int64) *AsyncJobTypeWrapper {
	w.ObjectMeta.Generation = g
	return w
}

// Description sets spec.description.
func (w *AsyncJobTypeWrapper) Description(d string) *AsyncJobTypeWrapper {
	w.Spec.Description = d
	return w
}

// Schema sets the parameters' JSON Schema.
func (w *AsyncJobTypeWrapper) Schema(raw string) *AsyncJobTypeWrapper {
	w.Spec.ParametersSchema = &apiextensionsv1.JSON{Raw: []byte(raw)}
	return w
}

// NoSchema removes the parameters' JSON Schema.
func (w *AsyncJobTypeWrapper) NoSchema() *AsyncJobTypeWrapper {
	w.Spec.ParametersSchema = nil
	return w
}

// PodSpec returns the pod template's spec, for changes no setter covers.
func (w *AsyncJobTypeWrapper) PodSpec() *corev1.PodSpec {
	return &w.Spec.Template.Spec.Template.Spec
}

// Containers replaces the pod template's containers.
func (w *AsyncJobTypeWrapper) Containers(cs ...corev1.Container) *AsyncJobTypeWrapper {
	w.PodSpec().Containers = cs
	return w
}

// InitContainers replaces the pod template's init containers.
func (w *AsyncJobTypeWrapper) InitContainers(cs ...corev1.Container) *AsyncJobTypeWrapper {
	w.PodSpec().InitContainers = cs
	return w
}

// RestartPolicy sets the pod template's restart policy ("" leaves it to the
// API server's defaults, as a type written without one does).
func (w *AsyncJobTypeWrapper) RestartPolicy(p corev1.RestartPolicy) *AsyncJobTypeWrapper {
	w.PodSpec().RestartPolicy = p
	return w
}

// Image sets the first container's image.
func (w *AsyncJobTypeWrapper) Image(image string) *AsyncJobTypeWrapper {
	w.PodSpec().Containers[0].Image = image
	return w
}

// Args sets the first container's args.
func (w *AsyncJobTypeWrapper) Args(args ...string) *AsyncJobTypeWrapper {
	w.PodSpec().Containers[0].Args = args
	return w
}

// Command sets the first container's command.
func (w *AsyncJobTypeWrapper) Command(cmd ...string) *AsyncJobTypeWrapper {
	w.PodSpec().Containers[0].Command = cmd
	return w
}

// PodLabel adds a label to the pod template.
func (w *AsyncJobTypeWrapper) PodLabel(k, v string) *AsyncJobTypeWrapper {
	put(&w.Spec.Template.Spec.Template.Labels, k, v)
	return w
}

// PodAnnotation adds an annotation to the pod template.
func (w *AsyncJobTypeWrapper) PodAnnotation(k, v string) *AsyncJobTypeWrapper {
	put(&w.Spec.Template.Spec.Template.Annotations, k, v)
	return w
}

// PodAnnotations adds the annotations to the pod template.
func (w *AsyncJobTypeWrapper) PodAnnotations(as map[string]string) *AsyncJobTypeWrapper {
	for k, v := range as {
		w.PodAnnotation(k, v)
	}
	return w
}

// Entrypoint sets how the asyncjob entrypoint is put in front of the command.
func (w *AsyncJobTypeWrapper) Entrypoint(m asyncjobv1alpha1.EntrypointMode) *AsyncJobTypeWrapper {
	w.Spec.Entrypoint = m
	return w
}

// Defaults sets the limits a job gets when it asks for none.
func (w *AsyncJobTypeWrapper) Defaults(l asyncjobv1alpha1.JobLimits) *AsyncJobTypeWrapper {
	w.Spec.Defaults = l
	return w
}

// Maximums sets the largest limits a job may ask for.
func (w *AsyncJobTypeWrapper) Maximums(l asyncjobv1alpha1.JobLimits) *AsyncJobTypeWrapper {
	w.Spec.Maximums = l
	return w
}

// PollInterval sets the polling hint clients get in Retry-After.
func (w *AsyncJobTypeWrapper) PollInterval(seconds int32) *AsyncJobTypeWrapper {
	w.Spec.PollIntervalSeconds = seconds
	return w
}

// Ready gives the type the Ready condition the type controller writes, for
// tests that run without that controller. Status is written separately from
// the object: create first, then update its status.
func (w *AsyncJobTypeWrapper) Ready() *AsyncJobTypeWrapper {
	setCondition(&w.Status.Conditions, metav1.Condition{
		Type: asyncjobv1alpha1.TypeConditionReady, Status: metav1.ConditionTrue, Reason: asyncjobv1alpha1.ReasonValid,
		Message: "ok", ObservedGeneration: w.ObjectMeta.Generation,
	})
	return w
}

// Concurrency bounds the type's running jobs (the built-in queue); perTenant 0: none.
func (w *AsyncJobTypeWrapper) Concurrency(maxRunning, perTenant int32) *AsyncJobTypeWrapper {
	w.Spec.Concurrency = &asyncjobv1alpha1.Concurrency{Max: maxRunning}
	if perTenant > 0 {
		w.Spec.Concurrency.PerTenant = &perTenant
	}
	return w
}

// MaxPriority sets the highest priority a submission may ask for.
func (w *AsyncJobTypeWrapper) MaxPriority(p int32) *AsyncJobTypeWrapper {
	w.Spec.MaxPriority = p
	return w
}

// Kueue hands the type's admission to the Kueue LocalQueue localQueue.
func (w *AsyncJobTypeWrapper) Kueue(localQueue string) *AsyncJobTypeWrapper {
	w.Spec.Kueue = &asyncjobv1alpha1.KueueQueue{LocalQueue: localQueue}
	return w
}

// Artifacts declares the files the type's jobs take and produce; the API
// requires the entrypoint for it, so this sets Inject too.
func (w *AsyncJobTypeWrapper) Artifacts(inputParameters []string, outputs ...string) *AsyncJobTypeWrapper {
	w.Spec.Artifacts = &asyncjobv1alpha1.TypeArtifacts{InputParameters: inputParameters, Outputs: outputs}
	w.Spec.Entrypoint = asyncjobv1alpha1.EntrypointInject
	return w
}
