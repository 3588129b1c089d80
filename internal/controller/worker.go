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
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/internal/workertoken"
)

// What the controller adds to a job's pod beyond its template: the callback
// URL and the job's token (docs/worker-contract.md), and the entrypoint.
const (
	EnvCallbackURL = "ASYNCJOB_CALLBACK_URL"
	EnvTokenFile   = "ASYNCJOB_TOKEN_FILE"

	// WorkerSecretSuffix names an AsyncJob's token Secret: <name>-worker.
	WorkerSecretSuffix = "-worker"
	// WorkerSecretKey is the token's key in that Secret.
	WorkerSecretKey = "token"

	// TokenDir is where every container of the pod finds the token, read-only.
	TokenDir = "/var/run/asyncjob"
	// TokenFile is the token itself, ASYNCJOB_TOKEN_FILE.
	TokenFile = TokenDir + "/" + WorkerSecretKey

	// EntrypointDir is the emptyDir the entrypoint binary is copied into.
	EntrypointDir = "/asyncjob-bin"
	// EntrypointBinary is the copied binary the first container runs.
	EntrypointBinary = EntrypointDir + "/asyncjob"
	// EntrypointImageBinary is the binary in the project's image (docs/image.md).
	EntrypointImageBinary = "/asyncjob"
	// InstallEntrypointCommand is the subcommand that copies the binary.
	InstallEntrypointCommand = "install-entrypoint"

	// Names the controller adds to the pod; a template must not use them.
	tokenVolume         = "asyncjob-token"
	entrypointVolume    = "asyncjob-bin"
	entrypointContainer = "asyncjob-entrypoint"
)

// workerConfig is the controller's configuration of what a job's pod gets.
type workerConfig struct {
	// CallbackURL is the API's base URL for workers; empty disables callbacks:
	// no token Secret, no callback environment.
	CallbackURL string
	// TokenKey signs the workers' tokens (workertoken); required with CallbackURL.
	TokenKey []byte
	// EntrypointImage holds the entrypoint binary at EntrypointImageBinary:
	// the project's own image. Empty: no type may inject the entrypoint.
	EntrypointImage string
}

func (c workerConfig) callbacks() bool { return c.CallbackURL != "" }

func workerSecretName(aj *asyncjobv1alpha1.AsyncJob) string {
	return aj.Name + WorkerSecretSuffix
}

// buildWorkerSecret is the Secret that delivers an AsyncJob's token to its pod,
// so that the token is never part of the Job's or the pod's spec. It is pure and
// deterministic (the token is an HMAC of the AsyncJob's identity), so creating
// it twice is harmless. Controlled by the AsyncJob: the garbage collector
// removes it with the AsyncJob.
func buildWorkerSecret(aj *asyncjobv1alpha1.AsyncJob, cfg workerConfig) *corev1.Secret {
	return &corev1.Secret{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{
			Name:      workerSecretName(aj),
			Namespace: aj.Namespace,
			Labels:    ownLabels(aj),
			OwnerReferences: []metav1.OwnerReference{
				*metav1.NewControllerRef(aj, asyncjobv1alpha1.GroupVersion.WithKind("AsyncJob")),
			},
		},
		// Immutable: nobody changes a job's token, and the kubelet need not watch it.
		Immutable: new(true),
		Type:      corev1.SecretTypeOpaque,
		Data: map[string][]byte{
			WorkerSecretKey: []byte(workertoken.Sign(cfg.TokenKey, aj.Namespace, aj.Name, string(aj.UID))),
		},
	}
}

// callbackEnv tells a worker where the API and its token are.
func callbackEnv(cfg workerConfig) []corev1.EnvVar {
	return []corev1.EnvVar{{Name: EnvCallbackURL, Value: cfg.CallbackURL}, {Name: EnvTokenFile, Value: TokenFile}}
}

// mountToken mounts the token Secret, read-only, into every container and
// init container of the template.
func mountToken(pod *corev1.PodSpec, aj *asyncjobv1alpha1.AsyncJob) {
	pod.Volumes = append(pod.Volumes, corev1.Volume{
		Name: tokenVolume,
		VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
			SecretName: workerSecretName(aj),
			Items:      []corev1.KeyToPath{{Key: WorkerSecretKey, Path: WorkerSecretKey}},
		}},
	})
	mount := corev1.VolumeMount{Name: tokenVolume, MountPath: TokenDir, ReadOnly: true}
	for _, cs := range [][]corev1.Container{pod.InitContainers, pod.Containers} {
		for i := range cs {
			cs[i].VolumeMounts = append(cs[i].VolumeMounts, mount)
		}
	}
}

// injectEntrypoint makes the pod's first container run through the asyncjob
// entrypoint, as Tekton's entrypoint and Argo's emissary do: an init
// container copies the binary from the project's image into an emptyDir, and
// the container's command is prefixed with it. Its args stay as they are, so
// the process runs `/asyncjob-bin/asyncjob entrypoint -- <command...> <args...>`.
func injectEntrypoint(pod *corev1.PodSpec, cfg workerConfig) error {
	if cfg.EntrypointImage == "" {
		return errors.New("the controller has no --entrypoint-image")
	}
	first := &pod.Containers[0]
	if len(first.Command) == 0 {
		return fmt.Errorf("container %q has no command", first.Name)
	}
	resources := first.Resources.DeepCopy()
	resources.Claims = nil // a claimed device stays the container's
	install := corev1.Container{
		Name:    entrypointContainer,
		Image:   cfg.EntrypointImage,
		Command: []string{EntrypointImageBinary, InstallEntrypointCommand, EntrypointBinary},
		// The first container's resources: a pod's request is the larger of
		// its largest init container's and the sum of its containers', so
		// this adds nothing, and satisfies a quota that demands limits.
		Resources:                *resources,
		VolumeMounts:             []corev1.VolumeMount{{Name: entrypointVolume, MountPath: EntrypointDir}},
		TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
		// It only writes to the emptyDir; the pod's own securityContext
		// decides its user, so a type's runAsUser is not contradicted.
		SecurityContext: &corev1.SecurityContext{
			AllowPrivilegeEscalation: new(false),
			ReadOnlyRootFilesystem:   new(true),
			Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		},
	}
	pod.InitContainers = append([]corev1.Container{install}, pod.InitContainers...)
	pod.Volumes = append(pod.Volumes, corev1.Volume{Name: entrypointVolume, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}})
	for i := range pod.Containers {
		pod.Containers[i].VolumeMounts = append(pod.Containers[i].VolumeMounts, corev1.VolumeMount{Name: entrypointVolume, MountPath: EntrypointDir, ReadOnly: true})
	}
	first.Command = append([]string{EntrypointBinary, "entrypoint", "--"}, first.Command...)
	return nil
}

// validateWorkerTemplate checks that what the controller adds to a pod cannot
// clash with the type's template (the Job would be refused at creation), and
// that a type injecting the entrypoint can get it: its first container names
// its command (the controller does not read the image's ENTRYPOINT from its
// registry, which would need pull credentials and network access), and the
// controller has an entrypoint image.
func validateWorkerTemplate(spec *asyncjobv1alpha1.AsyncJobTypeSpec, cfg workerConfig) (reason string, err error) {
	pod := &spec.Template.Spec.Template.Spec
	for _, v := range pod.Volumes {
		if v.Name == tokenVolume || v.Name == entrypointVolume || v.Name == inputsVolume || v.Name == outputsVolume {
			return asyncjobv1alpha1.ReasonInvalidTemplate, fmt.Errorf("volume name %q is reserved for asyncjob", v.Name)
		}
	}
	for _, c := range append(slices.Clone(pod.InitContainers), pod.Containers...) {
		if c.Name == entrypointContainer {
			return asyncjobv1alpha1.ReasonInvalidTemplate, fmt.Errorf("container name %q is reserved for asyncjob", c.Name)
		}
		for _, m := range c.VolumeMounts {
			if p := path.Clean(m.MountPath); within(p, TokenDir) || within(p, EntrypointDir) || within(p, ArtifactsRoot) {
				return asyncjobv1alpha1.ReasonInvalidTemplate, fmt.Errorf("container %q mounts %s, which asyncjob uses (%s, %s, %s)", c.Name, m.MountPath, TokenDir, EntrypointDir, ArtifactsRoot)
			}
		}
	}
	if !spec.InjectsEntrypoint() {
		return "", nil
	}
	if first := pod.Containers[0]; len(first.Command) == 0 {
		return asyncjobv1alpha1.ReasonInvalidTemplate, fmt.Errorf(
			"entrypoint Inject needs an explicit command in container %q: the controller does not read the image's ENTRYPOINT; set command (and args) to what the image would run", first.Name)
	}
	if cfg.EntrypointImage == "" {
		return asyncjobv1alpha1.ReasonEntrypointUnavailable, errors.New("entrypoint Inject needs the controller's --entrypoint-image, and it runs without one")
	}
	return "", nil
}

// within reports whether p is dir or below it.
func within(p, dir string) bool {
	return p == dir || strings.HasPrefix(p, dir+"/")
}
