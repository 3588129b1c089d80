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

package chart

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/yaml"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/test/framework"
)

// convertSample is config/samples' real convert type.
func convertSample(t *testing.T) *asyncjobv1alpha1.AsyncJobType {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(framework.RepoRoot(), "config", "samples", "asyncjob_v1alpha1_asyncjobtype_ffmpeg.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	sample := &asyncjobv1alpha1.AsyncJobType{}
	if err := yaml.UnmarshalStrict(raw, sample); err != nil {
		t.Fatal(err)
	}
	return sample
}

func convertContainer(t *testing.T, jt *asyncjobv1alpha1.AsyncJobType) (image string, command []string) {
	t.Helper()
	cs := jt.Spec.Template.Spec.Template.Spec.Containers
	if len(cs) != 1 {
		t.Fatalf("convert has %d containers, want 1", len(cs))
	}
	return cs[0].Image, cs[0].Command
}

// With the default values the chart installs the convert type, the very
// type of config/samples (script, schema, artifacts, limits, image): the
// two cannot drift apart.
func TestConvertTypeByDefault(t *testing.T) {
	t.Parallel()
	var got asyncjobv1alpha1.AsyncJobType
	render(t).get(t, "AsyncJobType", "convert", &got)
	want := convertSample(t)
	if !apiequality.Semantic.DeepEqual(want.Spec, got.Spec) {
		t.Errorf("the chart's convert type differs from config/samples' (-sample +chart):\n%s", cmp.Diff(want.Spec, got.Spec))
	}
	if a := got.Spec.Artifacts; a == nil || !slices.Equal(a.InputParameters, []string{"input"}) || !slices.Equal(a.Outputs, []string{"/asyncjob/outputs/*"}) {
		t.Errorf("artifacts %+v, want input parameter input and outputs /asyncjob/outputs/*", a)
	}
	if got.Spec.Entrypoint != asyncjobv1alpha1.EntrypointInject {
		t.Errorf("entrypoint %q, want Inject (artifacts need it)", got.Spec.Entrypoint)
	}
	if got.Labels["app.kubernetes.io/instance"] != release || got.Namespace != "" {
		t.Errorf("labels %v, namespace %q: want the release's labels, cluster-scoped", got.Labels, got.Namespace)
	}
}

// convert.image, convert.command and convert.enabled do what they say; a
// jobTypes.convert entry replaces the chart's type instead of clashing.
func TestConvertTypeValues(t *testing.T) {
	t.Parallel()
	var jt asyncjobv1alpha1.AsyncJobType
	render(t, "--set", "convert.image=registry.example.com/ffmpeg:7.1",
		"--set-json", `convert.command=["/usr/local/bin/convert.sh"]`).get(t, "AsyncJobType", "convert", &jt)
	image, command := convertContainer(t, &jt)
	if image != "registry.example.com/ffmpeg:7.1" || !slices.Equal(command, []string{"/usr/local/bin/convert.sh"}) {
		t.Errorf("image %q, command %q: want the values'", image, command)
	}

	if r := render(t, "--set", "convert.enabled=false"); r.has("AsyncJobType", "convert") {
		t.Errorf("convert.enabled=false still renders convert: %v", r.names())
	}

	r := render(t, "--set", "jobTypes.convert.template.spec.template.spec.containers[0].name=mine",
		"--set", "jobTypes.convert.template.spec.template.spec.containers[0].image=example.com/mine:1")
	if n := len(r.find("AsyncJobType")); n != 1 {
		t.Fatalf("%d AsyncJobTypes with jobTypes.convert set, want 1: %v", n, r.names())
	}
	r.get(t, "AsyncJobType", "convert", &jt)
	if image, _ := convertContainer(t, &jt); image != "example.com/mine:1" {
		t.Errorf("with jobTypes.convert, convert's image is %q, want the entry's", image)
	}
}
