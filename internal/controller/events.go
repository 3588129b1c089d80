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
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/recorder"
)

// eventRecorder emits Kubernetes Events (events.k8s.io/v1).
type eventRecorder interface {
	Normal(obj runtime.Object, reason, action, note string)
	Warning(obj runtime.Object, reason, action, note string)
}

type k8sEvents struct{ r recorder.EventRecorder }

func (e k8sEvents) Normal(obj runtime.Object, reason, action, note string) {
	e.r.Eventf(obj, nil, corev1.EventTypeNormal, reason, action, "%s", note)
}

func (e k8sEvents) Warning(obj runtime.Object, reason, action, note string) {
	e.r.Eventf(obj, nil, corev1.EventTypeWarning, reason, action, "%s", note)
}
