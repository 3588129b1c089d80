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
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/internal/paramschema"
	"github.com/asyncjob/asyncjob/test/wrappers"
)

// readyType is a usable AsyncJobType; cases break one thing each.
func readyType() *asyncjobv1alpha1.AsyncJobType {
	return wrappers.MakeAsyncJobType("report").UID("type-uid").Generation(1).Description("").
		Schema(`{"type":"object","required":["format"],"properties":{"format":{"enum":["csv","pdf"]}}}`).
		RestartPolicy("").
		InitContainers(corev1.Container{Name: "fetch", Image: "example.com/fetch:1"}).
		Containers(corev1.Container{Name: "worker", Image: "example.com/worker:1"}).
		Defaults(asyncjobv1alpha1.JobLimits{ActiveDeadlineSeconds: new(int64(600)), BackoffLimit: new(int32(2))}).
		Maximums(asyncjobv1alpha1.JobLimits{ActiveDeadlineSeconds: new(int64(3600)), BackoffLimit: new(int32(5))}).
		Obj()
}

func TestReadyCondition(t *testing.T) {
	const validMessage = "the schema compiles and the template is usable"
	cases := []struct {
		name   string
		mutate func(*asyncjobv1alpha1.AsyncJobType)
		// cfg is the controller's configuration; none by default.
		cfg  workerConfig
		want metav1.Condition
		// wantMessagePrefix replaces an exact message match where the message
		// comes from the JSON Schema library.
		wantMessagePrefix string
	}{
		{
			name: "a valid type",
			want: metav1.Condition{Type: "Ready", Status: metav1.ConditionTrue, Reason: "Valid", Message: validMessage},
		},
		{
			name:   "no parameters schema: any object, valid",
			mutate: func(jt *asyncjobv1alpha1.AsyncJobType) { jt.Spec.ParametersSchema = nil },
			want:   metav1.Condition{Type: "Ready", Status: metav1.ConditionTrue, Reason: "Valid", Message: validMessage},
		},
		{
			name: "completions 1 is allowed",
			mutate: func(jt *asyncjobv1alpha1.AsyncJobType) {
				jt.Spec.Template.Spec.Completions = new(int32(1))
			},
			want: metav1.Condition{Type: "Ready", Status: metav1.ConditionTrue, Reason: "Valid", Message: validMessage},
		},
		{
			name: "a schema that does not compile",
			mutate: func(jt *asyncjobv1alpha1.AsyncJobType) {
				jt.Spec.ParametersSchema = &apiextensionsv1.JSON{Raw: []byte(`{"type":"object","properties":{"format":{"type":"nonsense"}}}`)}
			},
			want:              metav1.Condition{Type: "Ready", Status: metav1.ConditionFalse, Reason: "InvalidSchema"},
			wantMessagePrefix: "parametersSchema does not compile",
		},
		{
			name: "a schema that is not JSON",
			mutate: func(jt *asyncjobv1alpha1.AsyncJobType) {
				jt.Spec.ParametersSchema = &apiextensionsv1.JSON{Raw: []byte(`{"type":`)}
			},
			want:              metav1.Condition{Type: "Ready", Status: metav1.ConditionFalse, Reason: "InvalidSchema"},
			wantMessagePrefix: "parametersSchema is not JSON",
		},
		{
			name: "a schema with a remote $ref",
			mutate: func(jt *asyncjobv1alpha1.AsyncJobType) {
				jt.Spec.ParametersSchema = &apiextensionsv1.JSON{Raw: []byte(`{"$ref":"https://example.com/schema.json"}`)}
			},
			want:              metav1.Condition{Type: "Ready", Status: metav1.ConditionFalse, Reason: "InvalidSchema"},
			wantMessagePrefix: "parametersSchema does not compile",
		},
		{
			name: "the schema is checked first",
			mutate: func(jt *asyncjobv1alpha1.AsyncJobType) {
				jt.Spec.ParametersSchema = &apiextensionsv1.JSON{Raw: []byte(`{"type":"nonsense"}`)}
				jt.Spec.Template.Spec.Template.Spec.Containers = nil
			},
			want:              metav1.Condition{Type: "Ready", Status: metav1.ConditionFalse, Reason: "InvalidSchema"},
			wantMessagePrefix: "parametersSchema does not compile",
		},
		{
			name:   "no containers",
			mutate: func(jt *asyncjobv1alpha1.AsyncJobType) { jt.Spec.Template.Spec.Template.Spec.Containers = nil },
			want: metav1.Condition{Type: "Ready", Status: metav1.ConditionFalse, Reason: "InvalidTemplate",
				Message: "template.spec.template.spec.containers is empty"},
		},
		{
			name:   "a container without an image",
			mutate: func(jt *asyncjobv1alpha1.AsyncJobType) { jt.Spec.Template.Spec.Template.Spec.Containers[0].Image = "" },
			want: metav1.Condition{Type: "Ready", Status: metav1.ConditionFalse, Reason: "InvalidTemplate",
				Message: `container "worker" has no image`},
		},
		{
			name: "an init container without an image",
			mutate: func(jt *asyncjobv1alpha1.AsyncJobType) {
				jt.Spec.Template.Spec.Template.Spec.InitContainers[0].Image = ""
			},
			want: metav1.Condition{Type: "Ready", Status: metav1.ConditionFalse, Reason: "InvalidTemplate",
				Message: `container "fetch" has no image`},
		},
		{
			name: "a selector",
			mutate: func(jt *asyncjobv1alpha1.AsyncJobType) {
				jt.Spec.Template.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "worker"}}
			},
			want: metav1.Condition{Type: "Ready", Status: metav1.ConditionFalse, Reason: "InvalidTemplate",
				Message: "template.spec.selector must not be set: the Job controller generates it"},
		},
		{
			name:   "manualSelector",
			mutate: func(jt *asyncjobv1alpha1.AsyncJobType) { jt.Spec.Template.Spec.ManualSelector = new(true) },
			want: metav1.Condition{Type: "Ready", Status: metav1.ConditionFalse, Reason: "InvalidTemplate",
				Message: "template.spec.selector must not be set: the Job controller generates it"},
		},
		{
			name:   "completions 2",
			mutate: func(jt *asyncjobv1alpha1.AsyncJobType) { jt.Spec.Template.Spec.Completions = new(int32(2)) },
			want: metav1.Condition{Type: "Ready", Status: metav1.ConditionFalse, Reason: "InvalidTemplate",
				Message: "template.spec.completions must be 1: an AsyncJob's result comes from one pod"},
		},
		{
			name: "entrypoint Inject with a command and an entrypoint image",
			mutate: func(jt *asyncjobv1alpha1.AsyncJobType) {
				jt.Spec.Entrypoint = asyncjobv1alpha1.EntrypointInject
				jt.Spec.Template.Spec.Template.Spec.Containers[0].Command = []string{"/report"}
			},
			cfg:  testWorker,
			want: metav1.Condition{Type: "Ready", Status: metav1.ConditionTrue, Reason: "Valid", Message: validMessage},
		},
		{
			name: "entrypoint None needs no command and no entrypoint image",
			mutate: func(jt *asyncjobv1alpha1.AsyncJobType) {
				jt.Spec.Entrypoint = asyncjobv1alpha1.EntrypointNone
			},
			want: metav1.Condition{Type: "Ready", Status: metav1.ConditionTrue, Reason: "Valid", Message: validMessage},
		},
		{
			name: "entrypoint Inject without a command: the image's ENTRYPOINT is not read",
			mutate: func(jt *asyncjobv1alpha1.AsyncJobType) {
				jt.Spec.Entrypoint = asyncjobv1alpha1.EntrypointInject
				jt.Spec.Template.Spec.Template.Spec.Containers[0].Args = []string{"--all"}
			},
			cfg: testWorker,
			want: metav1.Condition{Type: "Ready", Status: metav1.ConditionFalse, Reason: "InvalidTemplate",
				Message: `entrypoint Inject needs an explicit command in container "worker": the controller does not read the image's ENTRYPOINT; set command (and args) to what the image would run`},
		},
		{
			name: "entrypoint Inject, and the controller has no entrypoint image",
			mutate: func(jt *asyncjobv1alpha1.AsyncJobType) {
				jt.Spec.Entrypoint = asyncjobv1alpha1.EntrypointInject
				jt.Spec.Template.Spec.Template.Spec.Containers[0].Command = []string{"/report"}
			},
			cfg: workerConfig{CallbackURL: testWorker.CallbackURL, TokenKey: testWorker.TokenKey},
			want: metav1.Condition{Type: "Ready", Status: metav1.ConditionFalse, Reason: "EntrypointUnavailable",
				Message: "entrypoint Inject needs the controller's --entrypoint-image, and it runs without one"},
		},
		{
			name: "a volume with the name of the token's",
			mutate: func(jt *asyncjobv1alpha1.AsyncJobType) {
				jt.Spec.Template.Spec.Template.Spec.Volumes = []corev1.Volume{{Name: "asyncjob-token"}}
			},
			want: metav1.Condition{Type: "Ready", Status: metav1.ConditionFalse, Reason: "InvalidTemplate",
				Message: `volume name "asyncjob-token" is reserved for asyncjob`},
		},
		{
			name: "a volume with the name of the entrypoint's",
			mutate: func(jt *asyncjobv1alpha1.AsyncJobType) {
				jt.Spec.Template.Spec.Template.Spec.Volumes = []corev1.Volume{{Name: "asyncjob-bin"}}
			},
			want: metav1.Condition{Type: "Ready", Status: metav1.ConditionFalse, Reason: "InvalidTemplate",
				Message: `volume name "asyncjob-bin" is reserved for asyncjob`},
		},
		{
			name: "a container with the name of the entrypoint's init container",
			mutate: func(jt *asyncjobv1alpha1.AsyncJobType) {
				jt.Spec.Template.Spec.Template.Spec.InitContainers[0].Name = "asyncjob-entrypoint"
			},
			want: metav1.Condition{Type: "Ready", Status: metav1.ConditionFalse, Reason: "InvalidTemplate",
				Message: `container name "asyncjob-entrypoint" is reserved for asyncjob`},
		},
		{
			name: "a mount below the token's directory",
			mutate: func(jt *asyncjobv1alpha1.AsyncJobType) {
				jt.Spec.Template.Spec.Template.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "x", MountPath: "/var/run/asyncjob/"}}
			},
			want: metav1.Condition{Type: "Ready", Status: metav1.ConditionFalse, Reason: "InvalidTemplate",
				Message: `container "worker" mounts /var/run/asyncjob/, which asyncjob uses (/var/run/asyncjob, /asyncjob-bin, /asyncjob)`},
		},
		{
			name: "a mount at the entrypoint's directory, in an init container",
			mutate: func(jt *asyncjobv1alpha1.AsyncJobType) {
				jt.Spec.Template.Spec.Template.Spec.InitContainers[0].VolumeMounts = []corev1.VolumeMount{{Name: "x", MountPath: "/asyncjob-bin/sub"}}
			},
			want: metav1.Condition{Type: "Ready", Status: metav1.ConditionFalse, Reason: "InvalidTemplate",
				Message: `container "fetch" mounts /asyncjob-bin/sub, which asyncjob uses (/var/run/asyncjob, /asyncjob-bin, /asyncjob)`},
		},
		{
			name: "a mount at the artifacts' inputs directory",
			mutate: func(jt *asyncjobv1alpha1.AsyncJobType) {
				jt.Spec.Template.Spec.Template.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "x", MountPath: "/asyncjob/inputs"}}
			},
			want: metav1.Condition{Type: "Ready", Status: metav1.ConditionFalse, Reason: "InvalidTemplate",
				Message: `container "worker" mounts /asyncjob/inputs, which asyncjob uses (/var/run/asyncjob, /asyncjob-bin, /asyncjob)`},
		},
		{
			name: "a mount at the artifacts' root, written unclean, in the second container",
			mutate: func(jt *asyncjobv1alpha1.AsyncJobType) {
				spec := &jt.Spec.Template.Spec.Template.Spec
				spec.Containers = append(spec.Containers, corev1.Container{Name: "sidecar", Image: "example.com/sidecar:1",
					VolumeMounts: []corev1.VolumeMount{{Name: "x", MountPath: "/asyncjob/../asyncjob//"}}})
			},
			want: metav1.Condition{Type: "Ready", Status: metav1.ConditionFalse, Reason: "InvalidTemplate",
				Message: `container "sidecar" mounts /asyncjob/../asyncjob//, which asyncjob uses (/var/run/asyncjob, /asyncjob-bin, /asyncjob)`},
		},
		{
			name: "a volume with the name of the outputs' emptyDir",
			mutate: func(jt *asyncjobv1alpha1.AsyncJobType) {
				jt.Spec.Template.Spec.Template.Spec.Volumes = []corev1.Volume{{Name: "asyncjob-outputs"}}
			},
			want: metav1.Condition{Type: "Ready", Status: metav1.ConditionFalse, Reason: "InvalidTemplate",
				Message: `volume name "asyncjob-outputs" is reserved for asyncjob`},
		},
		{
			name: "a mount next to them is fine",
			mutate: func(jt *asyncjobv1alpha1.AsyncJobType) {
				jt.Spec.Template.Spec.Template.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{
					{Name: "x", MountPath: "/var/run"}, {Name: "y", MountPath: "/asyncjob-binaries"}, {Name: "z", MountPath: "/asyncjobs/inputs"}}
			},
			want: metav1.Condition{Type: "Ready", Status: metav1.ConditionTrue, Reason: "Valid", Message: validMessage},
		},
		{
			name: "defaults above the maximums",
			mutate: func(jt *asyncjobv1alpha1.AsyncJobType) {
				jt.Spec.Defaults.ActiveDeadlineSeconds = new(int64(7200))
			},
			want: metav1.Condition{Type: "Ready", Status: metav1.ConditionFalse, Reason: "InvalidLimits",
				Message: "defaults: activeDeadlineSeconds 7200 exceeds the type's maximum of 3600"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			jt := readyType()
			if tc.mutate != nil {
				tc.mutate(jt)
			}
			got := readyCondition(jt, paramschema.NewCache(), tc.cfg)
			opts := []cmp.Option{}
			if tc.wantMessagePrefix != "" {
				if !strings.HasPrefix(got.Message, tc.wantMessagePrefix) {
					t.Errorf("readyCondition() message = %q, want prefix %q", got.Message, tc.wantMessagePrefix)
				}
				opts = append(opts, cmpopts.IgnoreFields(metav1.Condition{}, "Message"))
			}
			if diff := cmp.Diff(tc.want, got, opts...); diff != "" {
				t.Errorf("readyCondition() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestReadyConditionRefusesReferencesOutsideTheSchema: a $ref to a real,
// valid schema file is refused, so the controller reads no file it is pointed at.
func TestReadyConditionRefusesReferencesOutsideTheSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "format.schema.json")
	if err := os.WriteFile(path, []byte(`{"type":"object","required":["format"]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, ref := range map[string]string{"file URL": "file://" + path, "https URL": "https://example.com/schema.json"} {
		t.Run(name, func(t *testing.T) {
			jt := readyType()
			jt.Spec.ParametersSchema = &apiextensionsv1.JSON{Raw: []byte(`{"$ref":"` + ref + `"}`)}
			got := readyCondition(jt, paramschema.NewCache(), workerConfig{})
			want := `$ref to "` + ref + `": only references within the schema are allowed`
			if got.Status != metav1.ConditionFalse || got.Reason != asyncjobv1alpha1.ReasonInvalidSchema || !strings.Contains(got.Message, want) {
				t.Errorf("Ready = %s/%s %q, want False/InvalidSchema saying %q", got.Status, got.Reason, got.Message, want)
			}
		})
	}
}

func TestReadyConditionFollowsTheGeneration(t *testing.T) {
	// One cache across generations, as in the controller: an edit that fixes the
	// schema must be seen even though the UID stays the same.
	schemas := paramschema.NewCache()
	jt := readyType()
	jt.Spec.ParametersSchema = &apiextensionsv1.JSON{Raw: []byte(`{"type":"nonsense"}`)}
	if got := readyCondition(jt, schemas, workerConfig{}); got.Reason != asyncjobv1alpha1.ReasonInvalidSchema {
		t.Fatalf("generation 1: reason = %q, want InvalidSchema", got.Reason)
	}
	jt.Generation = 2
	jt.Spec.ParametersSchema = &apiextensionsv1.JSON{Raw: []byte(`{"type":"object"}`)}
	if got := readyCondition(jt, schemas, workerConfig{}); got.Status != metav1.ConditionTrue || got.Reason != asyncjobv1alpha1.ReasonValid {
		t.Errorf("generation 2: Ready = %s/%s (%s), want True/Valid", got.Status, got.Reason, got.Message)
	}
}

func TestValidateTemplate(t *testing.T) {
	cases := []struct {
		name    string
		mutate  func(*batchv1.JobSpec)
		wantErr string
	}{
		{name: "valid", mutate: func(*batchv1.JobSpec) {}},
		{name: "manualSelector false is fine", mutate: func(s *batchv1.JobSpec) { s.ManualSelector = new(false) }},
		{
			name:    "no containers, only init containers",
			mutate:  func(s *batchv1.JobSpec) { s.Template.Spec.Containers = nil },
			wantErr: "template.spec.template.spec.containers is empty",
		},
		{
			name: "the second container has no image",
			mutate: func(s *batchv1.JobSpec) {
				s.Template.Spec.Containers = append(s.Template.Spec.Containers, corev1.Container{Name: "sidecar"})
			},
			wantErr: `container "sidecar" has no image`,
		},
		{
			name:    "completions 0",
			mutate:  func(s *batchv1.JobSpec) { s.Completions = new(int32(0)) },
			wantErr: "template.spec.completions must be 1: an AsyncJob's result comes from one pod",
		},
		{
			name:    "parallelism 2",
			mutate:  func(s *batchv1.JobSpec) { s.Parallelism = new(int32(2)) },
			wantErr: "template.spec.parallelism must be 1: an AsyncJob runs one pod at a time",
		},
		{name: "parallelism 1 is fine", mutate: func(s *batchv1.JobSpec) { s.Parallelism = new(int32(1)) }},
		{
			name:    "suspended template",
			mutate:  func(s *batchv1.JobSpec) { s.Suspend = new(true) },
			wantErr: "template.spec.suspend must not be true: nothing would resume the Job (queueing systems suspend Jobs themselves)",
		},
		{
			name:    "a Job TTL of its own",
			mutate:  func(s *batchv1.JobSpec) { s.TTLSecondsAfterFinished = new(int32(0)) },
			wantErr: "template.spec.ttlSecondsAfterFinished must not be set: the AsyncJob's TTL removes its Job, and the Job must outlive the reading of its result",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			jt := readyType()
			tc.mutate(&jt.Spec.Template.Spec)
			err := validateTemplate(jt)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("validateTemplate() unexpected error: %v", err)
				}
				return
			}
			if err == nil || err.Error() != tc.wantErr {
				t.Fatalf("validateTemplate() error = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestFormatFieldErrors(t *testing.T) {
	cases := []struct {
		name string
		errs []paramschema.FieldError
		want string
	}{
		{name: "none", errs: nil, want: ""},
		{
			name: "one field",
			errs: []paramschema.FieldError{{Pointer: "/format", Detail: "value must be one of 'csv', 'pdf'"}},
			want: "/format: value must be one of 'csv', 'pdf'",
		},
		{
			name: "several fields, in order, separated by semicolons",
			errs: []paramschema.FieldError{
				{Pointer: "/format", Detail: "is required"},
				{Pointer: "/input", Detail: "is required"},
				{Pointer: "/nested/a~1b", Detail: "got number, want string"},
			},
			want: "/format: is required; /input: is required; /nested/a~1b: got number, want string",
		},
		{
			name: "the whole document",
			errs: []paramschema.FieldError{{Pointer: "", Detail: "parameters are not valid JSON"}},
			want: "(parameters): parameters are not valid JSON",
		},
		{
			name: "capped at 1024 bytes",
			errs: []paramschema.FieldError{{Pointer: "/long", Detail: strings.Repeat("y", 2000)}},
			want: ("/long: " + strings.Repeat("y", 2000))[:1024],
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, formatFieldErrors(tc.errs)); diff != "" {
				t.Errorf("formatFieldErrors() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
