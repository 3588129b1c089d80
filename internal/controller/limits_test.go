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
	"testing"

	"github.com/google/go-cmp/cmp"
	batchv1 "k8s.io/api/batch/v1"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/test/wrappers"
)

func TestResolveLimits(t *testing.T) {
	cases := []struct {
		name      string
		overrides *asyncjobv1alpha1.JobLimits
		spec      asyncjobv1alpha1.AsyncJobTypeSpec
		want      effectiveLimits
		wantErr   string
	}{
		{
			name: "nil everywhere: Job defaults and the built-in TTL",
			want: effectiveLimits{TTLSecondsAfterFinished: DefaultTTLSecondsAfterFinished},
		},
		{
			name:      "empty overrides behave like nil overrides",
			overrides: &asyncjobv1alpha1.JobLimits{},
			spec: asyncjobv1alpha1.AsyncJobTypeSpec{Defaults: asyncjobv1alpha1.JobLimits{
				ActiveDeadlineSeconds: new(int64(600)), BackoffLimit: new(int32(2)), TTLSecondsAfterFinished: new(int32(60)),
			}},
			want: effectiveLimits{ActiveDeadlineSeconds: new(int64(600)), BackoffLimit: new(int32(2)), TTLSecondsAfterFinished: 60},
		},
		{
			name: "type defaults apply without overrides",
			spec: asyncjobv1alpha1.AsyncJobTypeSpec{Defaults: asyncjobv1alpha1.JobLimits{
				ActiveDeadlineSeconds: new(int64(600)), BackoffLimit: new(int32(2)), TTLSecondsAfterFinished: new(int32(60)),
			}},
			want: effectiveLimits{ActiveDeadlineSeconds: new(int64(600)), BackoffLimit: new(int32(2)), TTLSecondsAfterFinished: 60},
		},
		{
			name: "overrides beat defaults",
			overrides: &asyncjobv1alpha1.JobLimits{
				ActiveDeadlineSeconds: new(int64(900)), BackoffLimit: new(int32(5)), TTLSecondsAfterFinished: new(int32(120)),
			},
			spec: asyncjobv1alpha1.AsyncJobTypeSpec{
				Defaults: asyncjobv1alpha1.JobLimits{
					ActiveDeadlineSeconds: new(int64(600)), BackoffLimit: new(int32(2)), TTLSecondsAfterFinished: new(int32(60)),
				},
				Maximums: asyncjobv1alpha1.JobLimits{
					ActiveDeadlineSeconds: new(int64(3600)), BackoffLimit: new(int32(10)), TTLSecondsAfterFinished: new(int32(86400)),
				},
			},
			want: effectiveLimits{ActiveDeadlineSeconds: new(int64(900)), BackoffLimit: new(int32(5)), TTLSecondsAfterFinished: 120},
		},
		{
			name:      "a partial override keeps the other defaults",
			overrides: &asyncjobv1alpha1.JobLimits{BackoffLimit: new(int32(1))},
			spec: asyncjobv1alpha1.AsyncJobTypeSpec{Defaults: asyncjobv1alpha1.JobLimits{
				ActiveDeadlineSeconds: new(int64(600)), BackoffLimit: new(int32(2)), TTLSecondsAfterFinished: new(int32(60)),
			}},
			want: effectiveLimits{ActiveDeadlineSeconds: new(int64(600)), BackoffLimit: new(int32(1)), TTLSecondsAfterFinished: 60},
		},
		{
			name:      "zero overrides are values, not absent",
			overrides: &asyncjobv1alpha1.JobLimits{BackoffLimit: new(int32(0)), TTLSecondsAfterFinished: new(int32(0))},
			spec: asyncjobv1alpha1.AsyncJobTypeSpec{Defaults: asyncjobv1alpha1.JobLimits{
				BackoffLimit: new(int32(3)), TTLSecondsAfterFinished: new(int32(60)),
			}},
			want: effectiveLimits{BackoffLimit: new(int32(0)), TTLSecondsAfterFinished: 0},
		},
		{
			name: "overrides equal to the maximums are allowed",
			overrides: &asyncjobv1alpha1.JobLimits{
				ActiveDeadlineSeconds: new(int64(3600)), BackoffLimit: new(int32(10)), TTLSecondsAfterFinished: new(int32(7200)),
			},
			spec: asyncjobv1alpha1.AsyncJobTypeSpec{Maximums: asyncjobv1alpha1.JobLimits{
				ActiveDeadlineSeconds: new(int64(3600)), BackoffLimit: new(int32(10)), TTLSecondsAfterFinished: new(int32(7200)),
			}},
			want: effectiveLimits{ActiveDeadlineSeconds: new(int64(3600)), BackoffLimit: new(int32(10)), TTLSecondsAfterFinished: 7200},
		},
		{
			name: "the type's poll hint is carried along",
			spec: asyncjobv1alpha1.AsyncJobTypeSpec{PollIntervalSeconds: 7},
			want: effectiveLimits{TTLSecondsAfterFinished: DefaultTTLSecondsAfterFinished, PollIntervalSeconds: 7},
		},
		{
			name:      "deadline override above the maximum",
			overrides: &asyncjobv1alpha1.JobLimits{ActiveDeadlineSeconds: new(int64(7200))},
			spec: asyncjobv1alpha1.AsyncJobTypeSpec{Maximums: asyncjobv1alpha1.JobLimits{
				ActiveDeadlineSeconds: new(int64(3600)),
			}},
			wantErr: "activeDeadlineSeconds 7200 exceeds the type's maximum of 3600",
		},
		{
			name:      "backoffLimit override above the maximum",
			overrides: &asyncjobv1alpha1.JobLimits{BackoffLimit: new(int32(11))},
			spec: asyncjobv1alpha1.AsyncJobTypeSpec{Maximums: asyncjobv1alpha1.JobLimits{
				BackoffLimit: new(int32(10)),
			}},
			wantErr: "backoffLimit 11 exceeds the type's maximum of 10",
		},
		{
			name:      "TTL override above the maximum",
			overrides: &asyncjobv1alpha1.JobLimits{TTLSecondsAfterFinished: new(int32(7201))},
			spec: asyncjobv1alpha1.AsyncJobTypeSpec{Maximums: asyncjobv1alpha1.JobLimits{
				TTLSecondsAfterFinished: new(int32(7200)),
			}},
			wantErr: "ttlSecondsAfterFinished 7201 exceeds the type's maximum of 7200",
		},
		{
			name: "maximum deadline and no default: the job runs with the maximum",
			spec: asyncjobv1alpha1.AsyncJobTypeSpec{Maximums: asyncjobv1alpha1.JobLimits{
				ActiveDeadlineSeconds: new(int64(3600)),
			}},
			want: effectiveLimits{ActiveDeadlineSeconds: new(int64(3600)), TTLSecondsAfterFinished: DefaultTTLSecondsAfterFinished},
		},
		{
			name:      "maximum deadline and a lower override: the override",
			overrides: &asyncjobv1alpha1.JobLimits{ActiveDeadlineSeconds: new(int64(60))},
			spec: asyncjobv1alpha1.AsyncJobTypeSpec{Maximums: asyncjobv1alpha1.JobLimits{
				ActiveDeadlineSeconds: new(int64(3600)),
			}},
			want: effectiveLimits{ActiveDeadlineSeconds: new(int64(60)), TTLSecondsAfterFinished: DefaultTTLSecondsAfterFinished},
		},
		{
			name: "maximum backoffLimit below the Job default of 6 and no default: the maximum applies",
			spec: asyncjobv1alpha1.AsyncJobTypeSpec{Maximums: asyncjobv1alpha1.JobLimits{BackoffLimit: new(int32(3))}},
			want: effectiveLimits{BackoffLimit: new(int32(3)), TTLSecondsAfterFinished: DefaultTTLSecondsAfterFinished},
		},
		{
			name: "maximum backoffLimit above the Job default and no default: the Job default applies",
			spec: asyncjobv1alpha1.AsyncJobTypeSpec{Maximums: asyncjobv1alpha1.JobLimits{BackoffLimit: new(int32(10))}},
			want: effectiveLimits{TTLSecondsAfterFinished: DefaultTTLSecondsAfterFinished},
		},
		{
			name: "maximum TTL below the built-in default and no default: the job keeps its record for the maximum",
			spec: asyncjobv1alpha1.AsyncJobTypeSpec{Maximums: asyncjobv1alpha1.JobLimits{
				TTLSecondsAfterFinished: new(int32(3600)),
			}},
			want: effectiveLimits{TTLSecondsAfterFinished: 3600},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			spec := tc.spec.DeepCopy()
			got, err := resolveLimits(tc.overrides, spec)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("resolveLimits() error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("resolveLimits() unexpected error: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("resolveLimits() mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(&tc.spec, spec); diff != "" {
				t.Errorf("resolveLimits() mutated the type spec (-before +after):\n%s", diff)
			}
		})
	}
}

func TestValidateTypeLimits(t *testing.T) {
	cases := []struct {
		name    string
		spec    asyncjobv1alpha1.AsyncJobTypeSpec
		wantErr string
	}{
		{name: "no limits at all"},
		{
			name: "defaults within the maximums",
			spec: asyncjobv1alpha1.AsyncJobTypeSpec{
				Defaults: asyncjobv1alpha1.JobLimits{
					ActiveDeadlineSeconds: new(int64(600)), BackoffLimit: new(int32(2)), TTLSecondsAfterFinished: new(int32(60)),
				},
				Maximums: asyncjobv1alpha1.JobLimits{
					ActiveDeadlineSeconds: new(int64(600)), BackoffLimit: new(int32(2)), TTLSecondsAfterFinished: new(int32(60)),
				},
			},
		},
		{
			name: "default deadline above the maximum",
			spec: asyncjobv1alpha1.AsyncJobTypeSpec{
				Defaults: asyncjobv1alpha1.JobLimits{ActiveDeadlineSeconds: new(int64(601))},
				Maximums: asyncjobv1alpha1.JobLimits{ActiveDeadlineSeconds: new(int64(600))},
			},
			wantErr: "activeDeadlineSeconds 601 exceeds the type's maximum of 600",
		},
		{
			name: "default backoffLimit above the maximum",
			spec: asyncjobv1alpha1.AsyncJobTypeSpec{
				Defaults: asyncjobv1alpha1.JobLimits{BackoffLimit: new(int32(4))},
				Maximums: asyncjobv1alpha1.JobLimits{BackoffLimit: new(int32(3))},
			},
			wantErr: "backoffLimit 4 exceeds the type's maximum of 3",
		},
		{
			name: "default TTL above the maximum",
			spec: asyncjobv1alpha1.AsyncJobTypeSpec{
				Defaults: asyncjobv1alpha1.JobLimits{TTLSecondsAfterFinished: new(int32(120))},
				Maximums: asyncjobv1alpha1.JobLimits{TTLSecondsAfterFinished: new(int32(60))},
			},
			wantErr: "ttlSecondsAfterFinished 120 exceeds the type's maximum of 60",
		},
		{
			name: "a maximum TTL without a default is a valid type",
			spec: asyncjobv1alpha1.AsyncJobTypeSpec{
				Maximums: asyncjobv1alpha1.JobLimits{TTLSecondsAfterFinished: new(int32(3600))},
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := validateTypeLimits(&tc.spec)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("validateTypeLimits() unexpected error: %v", err)
				}
				return
			}
			if err == nil || err.Error() != tc.wantErr {
				t.Fatalf("validateTypeLimits() error = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestAppliedLimits(t *testing.T) {
	cases := []struct {
		name string
		job  *batchv1.Job
		want *asyncjobv1alpha1.AppliedLimits
	}{
		{
			name: "a Job buildJob made, as the API server returns it",
			job: wrappers.MakeJob("report-1", "team-a").
				Annotation(asyncjobv1alpha1.AnnotationTTLSecondsAfterFinished, "60").
				Annotation(asyncjobv1alpha1.AnnotationPollIntervalSeconds, "5").
				Annotation("example.com/other", "x").
				ActiveDeadline(600).BackoffLimit(6).Obj(),
			want: &asyncjobv1alpha1.AppliedLimits{ActiveDeadlineSeconds: new(int64(600)), BackoffLimit: new(int32(6)),
				TTLSecondsAfterFinished: new(int32(60)), PollIntervalSeconds: new(int32(5))},
		},
		{
			name: "a TTL of 0 is a TTL",
			job:  wrappers.MakeJob("report-1", "team-a").Annotation(asyncjobv1alpha1.AnnotationTTLSecondsAfterFinished, "0").Obj(),
			want: &asyncjobv1alpha1.AppliedLimits{TTLSecondsAfterFinished: new(int32(0))},
		},
		{
			name: "annotations that are not a number of seconds are not guessed at",
			job: wrappers.MakeJob("report-1", "team-a").Annotation(asyncjobv1alpha1.AnnotationTTLSecondsAfterFinished, "-1").
				Annotation(asyncjobv1alpha1.AnnotationPollIntervalSeconds, "5s").Obj(),
			want: &asyncjobv1alpha1.AppliedLimits{},
		},
		{
			name: "a Job without the annotations (created before them)",
			job:  wrappers.MakeJob("report-1", "team-a").BackoffLimit(2).Obj(),
			want: &asyncjobv1alpha1.AppliedLimits{BackoffLimit: new(int32(2))},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := tc.job.DeepCopy()
			got := appliedLimits(tc.job)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("appliedLimits() mismatch (-want +got):\n%s", diff)
			}
			// The limits are the AsyncJob's own: no pointer into the Job.
			if got.BackoffLimit != nil {
				*got.BackoffLimit = 99
			}
			if got.ActiveDeadlineSeconds != nil {
				*got.ActiveDeadlineSeconds = 99
			}
			if diff := cmp.Diff(before, tc.job); diff != "" {
				t.Errorf("appliedLimits() shares memory with the Job (-before +after):\n%s", diff)
			}
		})
	}
}
