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

// Package wrappers builds the objects tests need, in the style of jobset's
// pkg/util/testing and kueue's testingjobs: MakeAsyncJob(name, ns).Type("convert").Obj().
// Every test package uses these builders, so a new field gets one setter here
// instead of one in each suite.
package wrappers

import (
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
)

// AsyncJobWrapper builds an AsyncJob.
type AsyncJobWrapper struct{ asyncjobv1alpha1.AsyncJob }

// MakeAsyncJob is an AsyncJob with no type, parameters or labels.
func MakeAsyncJob(name, ns string) *AsyncJobWrapper {
	return &AsyncJobWrapper{asyncjobv1alpha1.AsyncJob{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
	}}
}

// Obj returns the AsyncJob.
func (w *AsyncJobWrapper) Obj() *asyncjobv1alpha1.AsyncJob { return &w.AsyncJob }

// Type sets spec.type.
func (w *AsyncJobWrapper) Type(t string) *AsyncJobWrapper {
	w.Spec.Type = t
	return w
}

// Inputs sets spec.inputs, the files uploaded with the submission.
func (w *AsyncJobWrapper) Inputs(a ...asyncjobv1alpha1.Artifact) *AsyncJobWrapper {
	w.Spec.Inputs = a
	return w
}

// Params sets spec.parameters to the raw JSON document.
func (w *AsyncJobWrapper) Params(raw string) *AsyncJobWrapper {
	w.Spec.Parameters = &apiextensionsv1.JSON{Raw: []byte(raw)}
	return w
}

// Tenant sets the tenant label, as the REST API does.
func (w *AsyncJobWrapper) Tenant(tenant string) *AsyncJobWrapper {
	return w.Label(asyncjobv1alpha1.LabelTenant, tenant)
}

// Label adds one label.
func (w *AsyncJobWrapper) Label(k, v string) *AsyncJobWrapper {
	put(&w.Labels, k, v)
	return w
}

// Annotation adds one annotation.
func (w *AsyncJobWrapper) Annotation(k, v string) *AsyncJobWrapper {
	put(&w.Annotations, k, v)
	return w
}

// Overrides sets the client's limits.
func (w *AsyncJobWrapper) Overrides(l asyncjobv1alpha1.JobLimits) *AsyncJobWrapper {
	w.Spec.Overrides = &l
	return w
}

// Webhook sets spec.webhook: url, and the events (none: the default ones).
func (w *AsyncJobWrapper) Webhook(url string, events ...asyncjobv1alpha1.WebhookEventType) *AsyncJobWrapper {
	w.Spec.Webhook = &asyncjobv1alpha1.WebhookSpec{URL: url, Events: events}
	return w
}

// Finalizer adds a finalizer, e.g. asyncjobv1alpha1.FinalizerArtifacts, as
// the REST API sets it on a job with files.
func (w *AsyncJobWrapper) Finalizer(f string) *AsyncJobWrapper {
	w.Finalizers = append(w.Finalizers, f)
	return w
}

// Cancel sets spec.cancel.
func (w *AsyncJobWrapper) Cancel() *AsyncJobWrapper {
	w.Spec.Cancel = true
	return w
}

// Generation sets metadata.generation, for pure tests of code that reads it.
func (w *AsyncJobWrapper) Generation(g int64) *AsyncJobWrapper {
	w.ObjectMeta.Generation = g
	return w
}

// UID sets metadata.uid, for pure tests of code that reads it.
func (w *AsyncJobWrapper) UID(uid string) *AsyncJobWrapper {
	w.ObjectMeta.UID = types.UID(uid)
	return w
}

// Created sets metadata.creationTimestamp.
func (w *AsyncJobWrapper) Created(at metav1.Time) *AsyncJobWrapper {
	w.CreationTimestamp = at
	return w
}

// Status replaces the status.
func (w *AsyncJobWrapper) Status(s asyncjobv1alpha1.AsyncJobStatus) *AsyncJobWrapper {
	w.AsyncJob.Status = s
	return w
}

// State sets status.state.
func (w *AsyncJobWrapper) State(s asyncjobv1alpha1.AsyncJobState) *AsyncJobWrapper {
	w.AsyncJob.Status.State = s
	return w
}

// Condition sets one status condition, replacing one of the same type.
func (w *AsyncJobWrapper) Condition(c metav1.Condition) *AsyncJobWrapper {
	setCondition(&w.AsyncJob.Status.Conditions, c)
	return w
}

// put sets k in the map m points to, making the map first if need be.
func put(m *map[string]string, k, v string) {
	if *m == nil {
		*m = map[string]string{}
	}
	(*m)[k] = v
}

// setCondition sets c the way controllers do: one condition per type.
func setCondition(conds *[]metav1.Condition, c metav1.Condition) {
	meta.SetStatusCondition(conds, c)
}

// Priority sets spec.priority.
func (w *AsyncJobWrapper) Priority(p int32) *AsyncJobWrapper {
	w.Spec.Priority = p
	return w
}
