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

package stack

import (
	"fmt"
	"os"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/test/framework"
	"github.com/asyncjob/asyncjob/test/localcluster"
	"github.com/asyncjob/asyncjob/test/wrappers"
)

// SimulatedType is an AsyncJobType whose pods run on kwok's simulated nodes and
// behave as b says (run time, outcome, termination message). Its parameters are
// any object.
func SimulatedType(name string, b localcluster.PodBehavior, limits asyncjobv1alpha1.JobLimits) *asyncjobv1alpha1.AsyncJobType {
	w := wrappers.MakeAsyncJobType(name).Description(fmt.Sprintf("simulated work (%s)", name)).
		Containers(corev1.Container{Name: "work", Image: "example.com/simulated:v1"}).
		PodAnnotations(b.Annotations(nil)).Defaults(limits).PollInterval(1)
	localcluster.SimulateOn(w.PodSpec())
	return w.Obj()
}

// SampleType is config/samples' convert type, made to run on simulated nodes:
// its pod pretends to convert for runFor and reports result as its termination
// message, as the real container would.
func SampleType(b localcluster.PodBehavior) (*asyncjobv1alpha1.AsyncJobType, error) {
	t, err := readSample("asyncjob_v1alpha1_asyncjobtype.yaml")
	if err != nil {
		return nil, err
	}
	pod := &t.Spec.Template.Spec.Template
	pod.Annotations = b.Annotations(pod.Annotations)
	localcluster.SimulateOn(&pod.Spec)
	return t, nil
}

// LiveSampleType is config/samples' convert-live type, as written: its worker
// (localcluster.SampleWorkerImage) runs on the real node, the only node
// without the simulated nodes' taint, through the injected entrypoint, so
// it needs Options.RealNodeWorkers.
func LiveSampleType() (*asyncjobv1alpha1.AsyncJobType, error) {
	return readSample("asyncjob_v1alpha1_asyncjobtype_live.yaml")
}

func readSample(file string) (*asyncjobv1alpha1.AsyncJobType, error) {
	path := filepath.Join(framework.RepoRoot(), "config", "samples", file)
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	t := &asyncjobv1alpha1.AsyncJobType{}
	if err := yaml.UnmarshalStrict(raw, t); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// ConvertType is config/samples' real convert type (ffmpeg), its container
// running image: localcluster.FFmpegImage on the real node (after
// Cluster.LoadFFmpegImage), which no registry serves, so it is never
// pulled. It needs Options.RealNodeWorkers and an artifact store.
func ConvertType(image string) (*asyncjobv1alpha1.AsyncJobType, error) {
	t, err := readSample("asyncjob_v1alpha1_asyncjobtype_ffmpeg.yaml")
	if err != nil {
		return nil, err
	}
	c := &t.Spec.Template.Spec.Template.Spec.Containers[0]
	c.Image = image
	if image == localcluster.FFmpegImage {
		c.ImagePullPolicy = corev1.PullNever
	}
	return t, nil
}
