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
	"fmt"
	"strconv"

	batchv1 "k8s.io/api/batch/v1"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
)

// DefaultTTLSecondsAfterFinished keeps a finished AsyncJob for a day when neither
// the AsyncJob nor its type says otherwise.
const DefaultTTLSecondsAfterFinished int32 = 24 * 60 * 60

// jobDefaultBackoffLimit is what the batch Job API defaults backoffLimit to.
const jobDefaultBackoffLimit int32 = 6

// effectiveLimits are the limits one AsyncJob runs with.
type effectiveLimits struct {
	ActiveDeadlineSeconds   *int64
	BackoffLimit            *int32
	TTLSecondsAfterFinished int32
	// PollIntervalSeconds is the type's Retry-After hint; 0 when it has none.
	PollIntervalSeconds int32
}

// resolveLimits applies an AsyncJob's overrides over its type's defaults and checks
// both against the type's maximums. An override above a maximum is an error (the
// spec is immutable, so the AsyncJob can never run); nil means "Job default".
func resolveLimits(overrides *asyncjobv1alpha1.JobLimits, t *asyncjobv1alpha1.AsyncJobTypeSpec) (effectiveLimits, error) {
	var o asyncjobv1alpha1.JobLimits
	if overrides != nil {
		o = *overrides
	}
	d, m := t.Defaults, t.Maximums
	out := effectiveLimits{
		ActiveDeadlineSeconds:   pick(o.ActiveDeadlineSeconds, d.ActiveDeadlineSeconds),
		BackoffLimit:            pick(o.BackoffLimit, d.BackoffLimit),
		TTLSecondsAfterFinished: DefaultTTLSecondsAfterFinished,
		PollIntervalSeconds:     t.PollIntervalSeconds,
	}
	if ttl := pick(o.TTLSecondsAfterFinished, d.TTLSecondsAfterFinished); ttl != nil {
		out.TTLSecondsAfterFinished = *ttl
	} else if m.TTLSecondsAfterFinished != nil {
		// The built-in default is ours, not the operator's: cap it, never reject it.
		out.TTLSecondsAfterFinished = min(out.TTLSecondsAfterFinished, *m.TTLSecondsAfterFinished)
	}
	if err := atMost("activeDeadlineSeconds", out.ActiveDeadlineSeconds, m.ActiveDeadlineSeconds); err != nil {
		return out, err
	}
	if err := atMost("backoffLimit", out.BackoffLimit, m.BackoffLimit); err != nil {
		return out, err
	}
	if err := atMost("ttlSecondsAfterFinished", &out.TTLSecondsAfterFinished, m.TTLSecondsAfterFinished); err != nil {
		return out, err
	}
	// A maximum with no default must still bound the Job: without a deadline it
	// would run unbounded, and the Job's own default backoffLimit may exceed it.
	if out.ActiveDeadlineSeconds == nil && m.ActiveDeadlineSeconds != nil {
		out.ActiveDeadlineSeconds = m.ActiveDeadlineSeconds
	}
	if out.BackoffLimit == nil && m.BackoffLimit != nil && *m.BackoffLimit < jobDefaultBackoffLimit {
		out.BackoffLimit = m.BackoffLimit
	}
	return out, nil
}

// validateTypeLimits reports a type whose own defaults exceed its maximums.
func validateTypeLimits(t *asyncjobv1alpha1.AsyncJobTypeSpec) error {
	_, err := resolveLimits(nil, t)
	return err
}

func pick[T any](override, def *T) *T {
	if override != nil {
		return override
	}
	return def
}

func atMost[T int32 | int64](field string, v, maximum *T) error {
	if v != nil && maximum != nil && *v > *maximum {
		return fmt.Errorf("%s %d exceeds the type's maximum of %d", field, *v, *maximum)
	}
	return nil
}

// appliedLimits reads the limits an AsyncJob runs with off its Job: deadline and
// retries from the Job's spec (as the API server defaulted it), TTL and poll
// hint from the annotations buildJob stamps. A Job is created with all of them
// in one write, so they survive a lost status write; a Job created before the
// annotations existed lacks those two (nil).
func appliedLimits(job *batchv1.Job) *asyncjobv1alpha1.AppliedLimits {
	l := &asyncjobv1alpha1.AppliedLimits{
		TTLSecondsAfterFinished: annotationInt32(job, asyncjobv1alpha1.AnnotationTTLSecondsAfterFinished),
		PollIntervalSeconds:     annotationInt32(job, asyncjobv1alpha1.AnnotationPollIntervalSeconds),
	}
	if d := job.Spec.ActiveDeadlineSeconds; d != nil {
		l.ActiveDeadlineSeconds = new(*d)
	}
	if b := job.Spec.BackoffLimit; b != nil {
		l.BackoffLimit = new(*b)
	}
	return l
}

// withLimitAnnotations adds the annotations that carry the limits the Job's
// spec cannot to a template's annotations; the template cannot set them.
func withLimitAnnotations(template map[string]string, l effectiveLimits) map[string]string {
	a := merged(template, map[string]string{
		asyncjobv1alpha1.AnnotationTTLSecondsAfterFinished: strconv.FormatInt(int64(l.TTLSecondsAfterFinished), 10),
	})
	delete(a, asyncjobv1alpha1.AnnotationPollIntervalSeconds)
	if l.PollIntervalSeconds > 0 {
		a[asyncjobv1alpha1.AnnotationPollIntervalSeconds] = strconv.FormatInt(int64(l.PollIntervalSeconds), 10)
	}
	return a
}

func annotationInt32(job *batchv1.Job, key string) *int32 {
	v, ok := job.Annotations[key]
	if !ok {
		return nil
	}
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil || n < 0 {
		return nil // not ours to guess: fall back as for a Job without it
	}
	return new(int32(n))
}
