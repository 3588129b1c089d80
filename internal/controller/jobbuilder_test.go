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
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/test/wrappers"
)

// builderType is an AsyncJobType whose template exercises everything buildJob
// touches: labels on both levels, annotations, an init container, two
// containers with their own env, a restartPolicy to overwrite, and limits to
// replace.
func builderType() *asyncjobv1alpha1.AsyncJobType {
	return &asyncjobv1alpha1.AsyncJobType{
		ObjectMeta: metav1.ObjectMeta{Name: "report", UID: "type-uid"},
		Spec: asyncjobv1alpha1.AsyncJobTypeSpec{
			Template: batchv1.JobTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{
					Labels: map[string]string{
						"team": "data",
						// The controller's own labels win over a template's.
						asyncjobv1alpha1.LabelName: "spoofed",
					},
					Annotations: map[string]string{"example.com/owner": "data-team"},
				},
				Spec: batchv1.JobSpec{
					BackoffLimit: new(int32(4)),
					Template: corev1.PodTemplateSpec{
						ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{
							"app":                      "worker",
							asyncjobv1alpha1.LabelType: "spoofed",
						}},
						Spec: corev1.PodSpec{
							RestartPolicy: corev1.RestartPolicyOnFailure,
							InitContainers: []corev1.Container{{
								Name:  "fetch",
								Image: "example.com/fetch:1",
								Env:   []corev1.EnvVar{{Name: "FETCH_ONLY", Value: "1"}},
							}},
							Containers: []corev1.Container{
								{
									Name:  "worker",
									Image: "example.com/worker:1",
									Args:  []string{"--format=$(ASYNCJOB_PARAM_FORMAT)"},
									Env:   []corev1.EnvVar{{Name: "LOG_LEVEL", Value: "debug"}},
								},
								{Name: "sidecar", Image: "example.com/sidecar:1"},
							},
						},
					},
				},
			},
		},
	}
}

func builderAsyncJob(params string, labels map[string]string) *asyncjobv1alpha1.AsyncJob {
	aj := wrappers.MakeAsyncJob("report-1", "team-a").UID("aj-uid").Type("report")
	if labels != nil {
		aj.Labels = labels // as given: cases see the map buildJob reads
	}
	if params != "" {
		aj.Params(params)
	}
	return aj.Obj()
}

// wantBuiltJob is the Job builderType gives for builderAsyncJob with
// parameters {"format":"csv"} and defaultLimits; cases adjust it.
func wantBuiltJob(labels map[string]string) *batchv1.Job {
	ours := []corev1.EnvVar{
		{Name: EnvID, Value: "report-1"},
		{Name: EnvType, Value: "report"},
		{Name: EnvParameters, Value: `{"format":"csv"}`},
		{Name: "ASYNCJOB_PARAM_FORMAT", Value: "csv"},
	}
	withOurs := func(own ...corev1.EnvVar) []corev1.EnvVar {
		return append(append([]corev1.EnvVar{}, ours...), own...)
	}
	jobLabels := map[string]string{"team": "data"}
	podLabels := map[string]string{"app": "worker"}
	for k, v := range labels {
		jobLabels[k] = v
		podLabels[k] = v
	}
	return &batchv1.Job{
		TypeMeta: metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"},
		ObjectMeta: metav1.ObjectMeta{
			Name:      "report-1",
			Namespace: "team-a",
			Labels:    jobLabels,
			Annotations: map[string]string{
				"example.com/owner": "data-team",
				asyncjobv1alpha1.AnnotationTTLSecondsAfterFinished: "86400",
			},
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion:         "asyncjob.io/v1alpha1",
				Kind:               "AsyncJob",
				Name:               "report-1",
				UID:                "aj-uid",
				Controller:         new(true),
				BlockOwnerDeletion: new(true),
			}},
		},
		Spec: batchv1.JobSpec{
			BackoffLimit:     new(int32(4)), // the template's, when the limits leave it alone
			PodFailurePolicy: &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{disruptionRule}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: podLabels},
				Spec: corev1.PodSpec{
					RestartPolicy: corev1.RestartPolicyNever,
					InitContainers: []corev1.Container{{
						Name:  "fetch",
						Image: "example.com/fetch:1",
						Env:   withOurs(corev1.EnvVar{Name: "FETCH_ONLY", Value: "1"}),
					}},
					Containers: []corev1.Container{
						{
							Name:  "worker",
							Image: "example.com/worker:1",
							Args:  []string{"--format=$(ASYNCJOB_PARAM_FORMAT)"},
							Env:   withOurs(corev1.EnvVar{Name: "LOG_LEVEL", Value: "debug"}),
						},
						{Name: "sidecar", Image: "example.com/sidecar:1", Env: withOurs()},
					},
				},
			},
		},
	}
}

// testWorker is a controller configuration with callbacks and an entrypoint image.
var testWorker = workerConfig{
	CallbackURL:     "http://asyncjob-api.asyncjob-system.svc:80",
	TokenKey:        []byte("0123456789abcdef0123456789abcdef"),
	EntrypointImage: "ghcr.io/asyncjob/asyncjob:v0.1.0",
}

// withCallbacks adds to a Job built without callbacks what testWorker's
// callbacks add: the two variables after ASYNCJOB_PARAMETERS in every
// container, and the token Secret's volume and its mounts.
func withCallbacks(j *batchv1.Job) *batchv1.Job {
	pod := &j.Spec.Template.Spec
	pod.Volumes = append(pod.Volumes, corev1.Volume{Name: "asyncjob-token", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
		SecretName: "report-1-worker",
		Items:      []corev1.KeyToPath{{Key: "token", Path: "token"}},
	}}})
	for _, cs := range [][]corev1.Container{pod.InitContainers, pod.Containers} {
		for i := range cs {
			cs[i].Env = slices.Insert(cs[i].Env, 3,
				corev1.EnvVar{Name: "ASYNCJOB_CALLBACK_URL", Value: "http://asyncjob-api.asyncjob-system.svc:80"},
				corev1.EnvVar{Name: "ASYNCJOB_TOKEN_FILE", Value: "/var/run/asyncjob/token"})
			cs[i].VolumeMounts = append(cs[i].VolumeMounts, corev1.VolumeMount{Name: "asyncjob-token", MountPath: "/var/run/asyncjob", ReadOnly: true})
		}
	}
	return j
}

// injectingType is builderType with entrypoint Inject and a command.
func injectingType() *asyncjobv1alpha1.AsyncJobType {
	jt := builderType()
	jt.Spec.Entrypoint = asyncjobv1alpha1.EntrypointInject
	jt.Spec.Template.Spec.Template.Spec.Containers[0].Command = []string{"/bin/report", "--verbose"}
	return jt
}

// withEntrypoint turns the Job of builderType into the one of injectingType.
func withEntrypoint(j *batchv1.Job) *batchv1.Job {
	pod := &j.Spec.Template.Spec
	pod.InitContainers = append([]corev1.Container{{
		Name:                     "asyncjob-entrypoint",
		Image:                    "ghcr.io/asyncjob/asyncjob:v0.1.0",
		Command:                  []string{"/asyncjob", "install-entrypoint", "/asyncjob-bin/asyncjob"},
		VolumeMounts:             []corev1.VolumeMount{{Name: "asyncjob-bin", MountPath: "/asyncjob-bin"}},
		TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
		SecurityContext: &corev1.SecurityContext{
			AllowPrivilegeEscalation: new(false),
			ReadOnlyRootFilesystem:   new(true),
			Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		},
	}}, pod.InitContainers...)
	pod.Volumes = append(pod.Volumes, corev1.Volume{Name: "asyncjob-bin", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}})
	for i := range pod.Containers {
		pod.Containers[i].VolumeMounts = append(pod.Containers[i].VolumeMounts, corev1.VolumeMount{Name: "asyncjob-bin", MountPath: "/asyncjob-bin", ReadOnly: true})
	}
	pod.Containers[0].Command = []string{"/asyncjob-bin/asyncjob", "entrypoint", "--", "/bin/report", "--verbose"}
	return j
}

// artifactsType is injectingType with artifacts: one input parameter and
// two output patterns.
func artifactsType() *asyncjobv1alpha1.AsyncJobType {
	jt := injectingType()
	jt.Spec.Artifacts = &asyncjobv1alpha1.TypeArtifacts{
		InputParameters: []string{"input"},
		Outputs:         []string{"/asyncjob/outputs/*", "/asyncjob/outputs/report.csv"},
	}
	return jt
}

// withFiles adds to a Job what a type with artifacts adds: two emptyDirs
// mounted in the first container only, and the files' environment after ours,
// before the template's own variables.
func withFiles(j *batchv1.Job, inputs, outputs string) *batchv1.Job {
	pod := &j.Spec.Template.Spec
	pod.Volumes = append(pod.Volumes,
		corev1.Volume{Name: "asyncjob-inputs", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		corev1.Volume{Name: "asyncjob-outputs", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}})
	first := &pod.Containers[0]
	first.VolumeMounts = append(first.VolumeMounts,
		corev1.VolumeMount{Name: "asyncjob-inputs", MountPath: "/asyncjob/inputs"},
		corev1.VolumeMount{Name: "asyncjob-outputs", MountPath: "/asyncjob/outputs"})
	own := slices.IndexFunc(first.Env, func(e corev1.EnvVar) bool { return e.Name == "LOG_LEVEL" })
	first.Env = slices.Insert(first.Env, own,
		corev1.EnvVar{Name: "ASYNCJOB_INPUTS_DIR", Value: "/asyncjob/inputs"},
		corev1.EnvVar{Name: "ASYNCJOB_OUTPUTS_DIR", Value: "/asyncjob/outputs"},
		corev1.EnvVar{Name: "ASYNCJOB_INPUTS", Value: inputs},
		corev1.EnvVar{Name: "ASYNCJOB_OUTPUTS", Value: outputs})
	return j
}

func workerResources() corev1.ResourceRequirements {
	return corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m"), corev1.ResourceMemory: resource.MustParse("1Gi")},
		Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("2Gi")},
		Claims:   []corev1.ResourceClaim{{Name: "gpu"}},
	}
}

// defaultLimits are the limits of an AsyncJob whose type sets none.
var defaultLimits = effectiveLimits{TTLSecondsAfterFinished: DefaultTTLSecondsAfterFinished}

func TestBuildJob(t *testing.T) {
	base := map[string]string{
		asyncjobv1alpha1.LabelName: "report-1",
		asyncjobv1alpha1.LabelType: "report",
	}
	withTenant := map[string]string{
		asyncjobv1alpha1.LabelName:   "report-1",
		asyncjobv1alpha1.LabelType:   "report",
		asyncjobv1alpha1.LabelTenant: "acme",
	}
	cases := []struct {
		name     string
		aj       *asyncjobv1alpha1.AsyncJob
		jobType  *asyncjobv1alpha1.AsyncJobType
		limits   effectiveLimits
		cfg      workerConfig
		want     *batchv1.Job
		wantErr  string
		wantSame bool
	}{
		{
			name:    "no limits: name, owner, labels, restartPolicy and env; the template's backoffLimit stays",
			aj:      builderAsyncJob(`{"format":"csv"}`, nil),
			jobType: builderType(),
			limits:  defaultLimits,
			want:    wantBuiltJob(base),
		},
		{
			name:    "deadline and retries come from the limits; TTL and poll hint are annotations",
			aj:      builderAsyncJob(`{"format":"csv"}`, nil),
			jobType: builderType(),
			limits: effectiveLimits{ActiveDeadlineSeconds: new(int64(600)), BackoffLimit: new(int32(0)), TTLSecondsAfterFinished: 60,
				PollIntervalSeconds: 7},
			want: func() *batchv1.Job {
				j := wantBuiltJob(base)
				j.Spec.ActiveDeadlineSeconds = new(int64(600))
				j.Spec.BackoffLimit = new(int32(0))
				j.Annotations[asyncjobv1alpha1.AnnotationTTLSecondsAfterFinished] = "60"
				j.Annotations[asyncjobv1alpha1.AnnotationPollIntervalSeconds] = "7"
				return j
			}(),
		},
		{
			name: "a template annotation cannot spoof the limits",
			aj:   builderAsyncJob(`{"format":"csv"}`, nil),
			jobType: func() *asyncjobv1alpha1.AsyncJobType {
				jt := builderType()
				jt.Spec.Template.Annotations[asyncjobv1alpha1.AnnotationTTLSecondsAfterFinished] = "1"
				jt.Spec.Template.Annotations[asyncjobv1alpha1.AnnotationPollIntervalSeconds] = "1"
				return jt
			}(),
			limits: effectiveLimits{TTLSecondsAfterFinished: 0},
			want: func() *batchv1.Job {
				j := wantBuiltJob(base)
				j.Annotations[asyncjobv1alpha1.AnnotationTTLSecondsAfterFinished] = "0"
				return j // and no poll hint: the type sets none
			}(),
		},
		{
			name:    "tenant label is copied to the Job and its pods",
			aj:      builderAsyncJob(`{"format":"csv"}`, map[string]string{asyncjobv1alpha1.LabelTenant: "acme", "unrelated": "x"}),
			jobType: builderType(),
			limits:  defaultLimits,
			want:    wantBuiltJob(withTenant),
		},
		{
			name:    "an empty tenant label is not copied",
			aj:      builderAsyncJob(`{"format":"csv"}`, map[string]string{asyncjobv1alpha1.LabelTenant: ""}),
			jobType: builderType(),
			limits:  defaultLimits,
			want:    wantBuiltJob(base),
		},
		{
			name: "a template without labels, annotations or env",
			aj:   builderAsyncJob("", nil),
			jobType: &asyncjobv1alpha1.AsyncJobType{Spec: asyncjobv1alpha1.AsyncJobTypeSpec{Template: batchv1.JobTemplateSpec{
				Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
					Containers: []corev1.Container{{Name: "main", Image: "example.com/main:1"}},
				}}},
			}}},
			limits: defaultLimits,
			want: &batchv1.Job{
				TypeMeta: metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"},
				ObjectMeta: metav1.ObjectMeta{
					Name:        "report-1",
					Namespace:   "team-a",
					Labels:      base,
					Annotations: map[string]string{asyncjobv1alpha1.AnnotationTTLSecondsAfterFinished: "86400"},
					OwnerReferences: []metav1.OwnerReference{{
						APIVersion: "asyncjob.io/v1alpha1", Kind: "AsyncJob", Name: "report-1", UID: "aj-uid",
						Controller: new(true), BlockOwnerDeletion: new(true),
					}},
				},
				Spec: batchv1.JobSpec{PodFailurePolicy: &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{disruptionRule}}, Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: base},
					Spec: corev1.PodSpec{
						RestartPolicy: corev1.RestartPolicyNever,
						Containers: []corev1.Container{{Name: "main", Image: "example.com/main:1", Env: []corev1.EnvVar{
							{Name: EnvID, Value: "report-1"},
							{Name: EnvType, Value: "report"},
							{Name: EnvParameters, Value: "{}"},
						}}},
					},
				}},
			},
		},
		{
			name:    "callbacks: the URL and the token file after the fixed variables, the token Secret mounted everywhere",
			aj:      builderAsyncJob(`{"format":"csv"}`, nil),
			jobType: builderType(),
			limits:  defaultLimits,
			cfg:     workerConfig{CallbackURL: testWorker.CallbackURL, TokenKey: testWorker.TokenKey},
			want:    withCallbacks(wantBuiltJob(base)),
		},
		{
			name:    "entrypoint Inject: an init container copies it, the first container runs through it, its args stay",
			aj:      builderAsyncJob(`{"format":"csv"}`, nil),
			jobType: injectingType(),
			limits:  defaultLimits,
			cfg:     workerConfig{EntrypointImage: testWorker.EntrypointImage},
			want:    withEntrypoint(wantBuiltJob(base)),
		},
		{
			name:    "entrypoint Inject and callbacks: the copying init container gets neither the env nor the token",
			aj:      builderAsyncJob(`{"format":"csv"}`, nil),
			jobType: injectingType(),
			limits:  defaultLimits,
			cfg:     testWorker,
			want:    withEntrypoint(withCallbacks(wantBuiltJob(base))),
		},
		{
			name: "entrypoint Inject: the init container has the first container's resources, without its claims",
			aj:   builderAsyncJob(`{"format":"csv"}`, nil),
			jobType: func() *asyncjobv1alpha1.AsyncJobType {
				jt := injectingType()
				jt.Spec.Template.Spec.Template.Spec.Containers[0].Resources = workerResources()
				return jt
			}(),
			limits: defaultLimits,
			cfg:    workerConfig{EntrypointImage: testWorker.EntrypointImage},
			want: func() *batchv1.Job {
				j := withEntrypoint(wantBuiltJob(base))
				pod := &j.Spec.Template.Spec
				pod.Containers[0].Resources = workerResources()
				pod.InitContainers[0].Resources = workerResources()
				pod.InitContainers[0].Resources.Claims = nil
				return j
			}(),
		},
		{
			name: "entrypoint None ignores the entrypoint image",
			aj:   builderAsyncJob(`{"format":"csv"}`, nil),
			jobType: func() *asyncjobv1alpha1.AsyncJobType {
				jt := builderType()
				jt.Spec.Entrypoint = asyncjobv1alpha1.EntrypointNone
				return jt
			}(),
			limits: defaultLimits,
			cfg:    workerConfig{EntrypointImage: testWorker.EntrypointImage},
			want:   wantBuiltJob(base),
		},
		{
			name: "artifacts: the first container alone gets the files' volumes and environment, with the inputs' names",
			aj: func() *asyncjobv1alpha1.AsyncJob {
				aj := builderAsyncJob(`{"format":"csv"}`, nil)
				aj.Spec.Inputs = []asyncjobv1alpha1.Artifact{
					{Name: "clip.mov", Size: 3, SHA256: strings.Repeat("a", 64)},
					{Name: "subs.srt", Size: 1, SHA256: strings.Repeat("b", 64)},
				}
				return aj
			}(),
			jobType: artifactsType(),
			limits:  defaultLimits,
			cfg:     testWorker,
			want: withEntrypoint(withFiles(withCallbacks(wantBuiltJob(base)),
				`["clip.mov","subs.srt"]`, `["/asyncjob/outputs/*","/asyncjob/outputs/report.csv"]`)),
		},
		{
			name: "artifacts without inputs or outputs: both lists are empty arrays, never null",
			aj:   builderAsyncJob(`{"format":"csv"}`, nil),
			jobType: func() *asyncjobv1alpha1.AsyncJobType {
				jt := injectingType()
				jt.Spec.Artifacts = &asyncjobv1alpha1.TypeArtifacts{}
				return jt
			}(),
			limits: defaultLimits,
			cfg:    workerConfig{EntrypointImage: testWorker.EntrypointImage},
			want:   withEntrypoint(withFiles(wantBuiltJob(base), `[]`, `[]`)),
		},
		{
			name:    "entrypoint Inject without an entrypoint image",
			aj:      builderAsyncJob(`{"format":"csv"}`, nil),
			jobType: injectingType(),
			cfg:     workerConfig{CallbackURL: testWorker.CallbackURL, TokenKey: testWorker.TokenKey},
			wantErr: "injecting the entrypoint: the controller has no --entrypoint-image",
		},
		{
			name: "entrypoint Inject without a command",
			aj:   builderAsyncJob(`{"format":"csv"}`, nil),
			jobType: func() *asyncjobv1alpha1.AsyncJobType {
				jt := builderType()
				jt.Spec.Entrypoint = asyncjobv1alpha1.EntrypointInject
				return jt
			}(),
			cfg:     testWorker,
			wantErr: `injecting the entrypoint: container "worker" has no command`,
		},
		{
			name:    "parameters that are not an object",
			aj:      builderAsyncJob(`["csv"]`, nil),
			jobType: builderType(),
			wantErr: "parameters are not a JSON object",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			typeBefore := tc.jobType.DeepCopy()
			ajBefore := tc.aj.DeepCopy()

			got, err := buildJob(tc.aj, tc.jobType, tc.limits, tc.cfg)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("buildJob() error = %v, want one containing %q", err, tc.wantErr)
				}
				if got != nil {
					t.Errorf("buildJob() returned a Job with an error: %v", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("buildJob() unexpected error: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("buildJob() mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(typeBefore, tc.jobType); diff != "" {
				t.Errorf("buildJob() mutated the AsyncJobType (-before +after):\n%s", diff)
			}
			if diff := cmp.Diff(ajBefore, tc.aj); diff != "" {
				t.Errorf("buildJob() mutated the AsyncJob (-before +after):\n%s", diff)
			}
		})
	}
}

func TestBuildJobIsDeterministic(t *testing.T) {
	// Many keys, so that map iteration order would show if it leaked into the env.
	params := `{"z":1,"y":"two","x":true,"w":{"n":1},"v":[1],"u":null,"t":3.5,"s":"s","r":"r","q":"q","p":"p","o":"o"}`
	aj := builderAsyncJob(params, map[string]string{asyncjobv1alpha1.LabelTenant: "acme"})
	limits := effectiveLimits{ActiveDeadlineSeconds: new(int64(60)), BackoffLimit: new(int32(1))}

	first, err := buildJob(aj, builderType(), limits, testWorker)
	if err != nil {
		t.Fatalf("buildJob() unexpected error: %v", err)
	}
	for range 20 {
		again, err := buildJob(aj, builderType(), limits, testWorker)
		if err != nil {
			t.Fatalf("buildJob() unexpected error: %v", err)
		}
		if diff := cmp.Diff(first, again); diff != "" {
			t.Fatalf("buildJob() is not deterministic (-first +again):\n%s", diff)
		}
	}
}

func TestBuildJobContainersDoNotShareEnv(t *testing.T) {
	job, err := buildJob(builderAsyncJob(`{"format":"csv"}`, nil), builderType(), effectiveLimits{}, testWorker)
	if err != nil {
		t.Fatalf("buildJob() unexpected error: %v", err)
	}
	pod := &job.Spec.Template.Spec
	pod.Containers[0].Env[0].Value = "changed"
	pod.Containers[0].Env = append(pod.Containers[0].Env[:1], corev1.EnvVar{Name: "OVERWRITE", Value: "x"})
	for _, c := range append(pod.InitContainers, pod.Containers[1]) {
		if got := c.Env[0]; got != (corev1.EnvVar{Name: EnvID, Value: "report-1"}) {
			t.Errorf("container %q env[0] = %+v after editing another container's env: the slices alias", c.Name, got)
		}
		if got := c.Env[1]; got != (corev1.EnvVar{Name: EnvType, Value: "report"}) {
			t.Errorf("container %q env[1] = %+v after editing another container's env: the slices alias", c.Name, got)
		}
	}
}

func TestWorkerEnv(t *testing.T) {
	contract := func(params string) []corev1.EnvVar {
		return []corev1.EnvVar{
			{Name: EnvID, Value: "report-1"},
			{Name: EnvType, Value: "report"},
			{Name: EnvParameters, Value: params},
		}
	}
	cases := []struct {
		name    string
		params  *apiextensionsv1.JSON
		want    []corev1.EnvVar
		wantErr bool
	}{
		{
			name:   "no parameters: an empty object",
			params: nil,
			want:   contract("{}"),
		},
		{
			name:   "empty raw parameters: an empty object",
			params: &apiextensionsv1.JSON{},
			want:   contract("{}"),
		},
		{
			name:   "the document is passed as written",
			params: &apiextensionsv1.JSON{Raw: []byte(`{ "format" : "csv" }`)},
			want:   append(contract(`{ "format" : "csv" }`), corev1.EnvVar{Name: "ASYNCJOB_PARAM_FORMAT", Value: "csv"}),
		},
		{
			name:   "scalars: strings, numbers as written, booleans; sorted by key",
			params: &apiextensionsv1.JSON{Raw: []byte(`{"title":"Q3 report","count":1e3,"big":12345678901234567890,"ratio":-0.25,"dry":true,"verbose":false,"empty":""}`)},
			want: append(contract(`{"title":"Q3 report","count":1e3,"big":12345678901234567890,"ratio":-0.25,"dry":true,"verbose":false,"empty":""}`),
				corev1.EnvVar{Name: "ASYNCJOB_PARAM_BIG", Value: "12345678901234567890"},
				corev1.EnvVar{Name: "ASYNCJOB_PARAM_COUNT", Value: "1e3"},
				corev1.EnvVar{Name: "ASYNCJOB_PARAM_DRY", Value: "true"},
				corev1.EnvVar{Name: "ASYNCJOB_PARAM_EMPTY", Value: ""},
				corev1.EnvVar{Name: "ASYNCJOB_PARAM_RATIO", Value: "-0.25"},
				corev1.EnvVar{Name: "ASYNCJOB_PARAM_TITLE", Value: "Q3 report"},
				corev1.EnvVar{Name: "ASYNCJOB_PARAM_VERBOSE", Value: "false"},
			),
		},
		{
			name:   "objects, arrays and null get no variable of their own",
			params: &apiextensionsv1.JSON{Raw: []byte(`{"nested":{"a":1},"list":[1,2],"nothing":null,"name":"x"}`)},
			want: append(contract(`{"nested":{"a":1},"list":[1,2],"nothing":null,"name":"x"}`),
				corev1.EnvVar{Name: "ASYNCJOB_PARAM_NAME", Value: "x"},
			),
		},
		{
			name:   "names are normalised",
			params: &apiextensionsv1.JSON{Raw: []byte(`{"output-format":"json","dotted.key":"d","MixedCase":"m","with space":"s","x9_y":"u"}`)},
			want: append(contract(`{"output-format":"json","dotted.key":"d","MixedCase":"m","with space":"s","x9_y":"u"}`),
				corev1.EnvVar{Name: "ASYNCJOB_PARAM_MIXEDCASE", Value: "m"},
				corev1.EnvVar{Name: "ASYNCJOB_PARAM_DOTTED_KEY", Value: "d"},
				corev1.EnvVar{Name: "ASYNCJOB_PARAM_OUTPUT_FORMAT", Value: "json"},
				corev1.EnvVar{Name: "ASYNCJOB_PARAM_WITH_SPACE", Value: "s"},
				corev1.EnvVar{Name: "ASYNCJOB_PARAM_X9_Y", Value: "u"},
			),
		},
		{
			name:   "keys that normalise to one name: the first in sorted order wins",
			params: &apiextensionsv1.JSON{Raw: []byte(`{"a_b":"underscore","a-b":"dash"}`)},
			want: append(contract(`{"a_b":"underscore","a-b":"dash"}`),
				corev1.EnvVar{Name: "ASYNCJOB_PARAM_A_B", Value: "dash"},
			),
		},
		{name: "an array is not an object", params: &apiextensionsv1.JSON{Raw: []byte(`[1,2]`)}, wantErr: true},
		{name: "a string is not an object", params: &apiextensionsv1.JSON{Raw: []byte(`"csv"`)}, wantErr: true},
		{name: "a number is not an object", params: &apiextensionsv1.JSON{Raw: []byte(`42`)}, wantErr: true},
		{name: "malformed JSON", params: &apiextensionsv1.JSON{Raw: []byte(`{"format":`)}, wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			aj := builderAsyncJob("", nil)
			aj.Spec.Parameters = tc.params
			got, err := workerEnv(aj)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("workerEnv() = %v, want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("workerEnv() unexpected error: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("workerEnv() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEnvName(t *testing.T) {
	cases := map[string]string{
		"format":        "FORMAT",
		"output-format": "OUTPUT_FORMAT",
		"outputFormat":  "OUTPUTFORMAT",
		"a.b/c d":       "A_B_C_D",
		"already_OK_9":  "ALREADY_OK_9",
		"9lives":        "9LIVES",
		"héllo":         "H_LLO",
		"":              "",
	}
	for in, want := range cases {
		if got := envName(in); got != want {
			t.Errorf("envName(%q) = %q, want %q", in, got, want)
		}
	}
}
