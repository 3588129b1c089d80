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
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
)

// Environment variables of the worker contract (docs/worker-contract.md).
const (
	EnvID          = "ASYNCJOB_ID"
	EnvType        = "ASYNCJOB_TYPE"
	EnvParameters  = "ASYNCJOB_PARAMETERS"
	EnvParamPrefix = "ASYNCJOB_PARAM_"
)

// jobName is the batch Job's name for an AsyncJob. It is deterministic, so a
// retried create after a crash, a conflict or a stale cache hits AlreadyExists
// instead of making a second Job.
func jobName(aj *asyncjobv1alpha1.AsyncJob) string {
	return aj.Name
}

// ownLabels are the labels of everything the controller makes for an AsyncJob.
func ownLabels(aj *asyncjobv1alpha1.AsyncJob) map[string]string {
	labels := map[string]string{
		asyncjobv1alpha1.LabelName: aj.Name,
		asyncjobv1alpha1.LabelType: aj.Spec.Type,
	}
	if tenant := aj.Labels[asyncjobv1alpha1.LabelTenant]; tenant != "" {
		labels[asyncjobv1alpha1.LabelTenant] = tenant
	}
	return labels
}

// buildJob computes the batch Job that runs an AsyncJob. It is pure: the same
// inputs always give the same Job. With callbacks configured, its pod mounts
// the token Secret (buildWorkerSecret), which must exist before the pod starts.
func buildJob(aj *asyncjobv1alpha1.AsyncJob, jobType *asyncjobv1alpha1.AsyncJobType, limits effectiveLimits, cfg workerConfig) (*batchv1.Job, error) {
	env, err := workerEnv(aj)
	if err != nil {
		return nil, err
	}
	if cfg.callbacks() {
		// After ID, TYPE and PARAMETERS, before the ASYNCJOB_PARAM_* variables.
		env = slices.Insert(env, 3, callbackEnv(cfg)...)
	}
	tmpl := jobType.Spec.Template.DeepCopy()
	labels := ownLabels(aj)

	job := &batchv1.Job{
		TypeMeta: metav1.TypeMeta{APIVersion: batchv1.SchemeGroupVersion.String(), Kind: "Job"},
		ObjectMeta: metav1.ObjectMeta{
			Name:      jobName(aj),
			Namespace: aj.Namespace,
			Labels:    merged(tmpl.Labels, labels),
			// The limits the Job's spec cannot carry, so that status.limits can be
			// rebuilt from the Job alone.
			Annotations: withLimitAnnotations(tmpl.Annotations, limits),
			// Controller reference with blockOwnerDeletion: foreground deletion of
			// the AsyncJob waits for the Job (and, through the Job, its pods).
			OwnerReferences: []metav1.OwnerReference{
				*metav1.NewControllerRef(aj, asyncjobv1alpha1.GroupVersion.WithKind("AsyncJob")),
			},
		},
		Spec: tmpl.Spec,
	}
	spec := &job.Spec
	// The Job controller retries by creating new pods; in-place restarts would
	// hide failures from backoffLimit and from the attempts count.
	spec.Template.Spec.RestartPolicy = corev1.RestartPolicyNever
	spec.Template.Labels = merged(spec.Template.Labels, labels)
	if limits.ActiveDeadlineSeconds != nil {
		spec.ActiveDeadlineSeconds = new(*limits.ActiveDeadlineSeconds)
	}
	if limits.BackoffLimit != nil {
		spec.BackoffLimit = new(*limits.BackoffLimit)
	}
	spec.PodFailurePolicy = withDisruptionRule(spec.PodFailurePolicy)
	if jobType.Spec.Concurrency != nil {
		// The built-in queue: the Job waits suspended until admission (queue_admission.go).
		spec.Suspend = new(true)
		job.Annotations[asyncjobv1alpha1.AnnotationQueue] = asyncjobv1alpha1.QueueConcurrency
	}
	withKueue(job, jobType)
	for i := range spec.Template.Spec.InitContainers {
		c := &spec.Template.Spec.InitContainers[i]
		c.Env = append(slices.Clone(env), c.Env...)
	}
	var filesEnv []corev1.EnvVar
	if arts := jobType.Spec.Artifacts; arts != nil {
		if filesEnv, err = artifactsEnv(aj, arts); err != nil {
			return nil, err
		}
	}
	for i := range spec.Template.Spec.Containers {
		c := &spec.Template.Spec.Containers[i]
		ours := slices.Clone(env)
		if i == 0 {
			ours = append(ours, filesEnv...) // the entrypoint's container
		}
		// Ours come first so the template's own env and args can refer to them
		// with $(ASYNCJOB_PARAM_...).
		c.Env = append(ours, c.Env...)
	}
	pod := &spec.Template.Spec
	if cfg.callbacks() {
		mountToken(pod, aj)
	}
	if jobType.Spec.Artifacts != nil {
		if len(pod.Containers) == 0 {
			return nil, errors.New("the template has no containers")
		}
		mountArtifacts(pod)
	}
	if jobType.Spec.InjectsEntrypoint() {
		// The type controller checks both; a type not seen since the
		// controller's configuration changed may still get here.
		if len(pod.Containers) == 0 {
			return nil, errors.New("the template has no containers")
		}
		if err := injectEntrypoint(pod, cfg); err != nil {
			return nil, fmt.Errorf("injecting the entrypoint: %w", err)
		}
	}
	return job, nil
}

// workerEnv is the worker contract's environment: the id, the type, the whole
// parameters document, and one variable per top-level scalar parameter.
func workerEnv(aj *asyncjobv1alpha1.AsyncJob) ([]corev1.EnvVar, error) {
	raw := []byte("{}")
	if aj.Spec.Parameters != nil && len(aj.Spec.Parameters.Raw) > 0 {
		raw = aj.Spec.Parameters.Raw
	}
	var params map[string]any
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber() // keep 1e3 and 12345678901234567890 as written
	if err := dec.Decode(&params); err != nil {
		return nil, fmt.Errorf("parameters are not a JSON object: %w", err)
	}
	env := []corev1.EnvVar{
		{Name: EnvID, Value: aj.Name},
		{Name: EnvType, Value: aj.Spec.Type},
		{Name: EnvParameters, Value: string(raw)},
	}
	seen := map[string]bool{}
	for _, key := range slices.Sorted(maps.Keys(params)) {
		value, ok := scalarString(params[key])
		name := EnvParamPrefix + envName(key)
		// Keys that normalise to the same name ("a-b", "a_b"): the first in
		// sorted order wins; the whole document is still in ASYNCJOB_PARAMETERS.
		if !ok || seen[name] {
			continue
		}
		seen[name] = true
		env = append(env, corev1.EnvVar{Name: name, Value: value})
	}
	return env, nil
}

func scalarString(v any) (string, bool) {
	switch t := v.(type) {
	case string:
		return t, true
	case json.Number:
		return t.String(), true
	case bool:
		return strconv.FormatBool(t), true
	default: // objects, arrays and null have no single-variable form
		return "", false
	}
}

// envName upper-cases a parameter name and replaces anything that is not a
// letter, digit or underscore, so "output-format" becomes OUTPUT_FORMAT.
func envName(key string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_':
			return r
		default:
			return '_'
		}
	}, key)
}

func merged(base, overlay map[string]string) map[string]string {
	out := make(map[string]string, len(base)+len(overlay))
	maps.Copy(out, base)
	maps.Copy(out, overlay)
	return out
}
