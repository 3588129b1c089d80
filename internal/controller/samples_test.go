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
	"slices"
	"testing"

	"sigs.k8s.io/yaml"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/test/framework"
	"github.com/asyncjob/asyncjob/test/wrappers"
)

// The samples are what a new user applies first: they must be accepted by the
// API server and run.
func TestIntegrationSamplesRun(t *testing.T) {
	needEnv(t)
	startController(t)
	dir := filepath.Join(framework.RepoRoot(), "config", "samples")
	jt := &asyncjobv1alpha1.AsyncJobType{}
	readYAML(t, filepath.Join(dir, "asyncjob_v1alpha1_asyncjobtype.yaml"), jt)
	aj := &asyncjobv1alpha1.AsyncJob{}
	readYAML(t, filepath.Join(dir, "asyncjob_v1alpha1_asyncjob.yaml"), aj)

	// Both are created as written, except for a namespace of the test's own
	// and a type name no other test uses.
	jt.Name = uniqueTypeName(t)
	aj.Namespace, aj.Spec.Type = newNamespace(t), jt.Name
	createReadyType(t, jt)
	mustCreate(t, aj)

	job := waitJob(t, aj.Namespace, aj.Name)
	c := job.Spec.Template.Spec.Containers[0]
	for name, want := range map[string]string{"ASYNCJOB_PARAM_FORMAT": "webm", "ASYNCJOB_PARAM_SECONDS": "5"} {
		if got, _ := envValue(c, name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	waitState(t, aj.Namespace, aj.Name, asyncjobv1alpha1.StatePending)
}

// The live sample (make dev's, on the real node) runs its worker through the
// injected entrypoint: accepted as written, Ready with an entrypoint image,
// and its Job wraps the command it names.
func TestIntegrationLiveSampleInjectsTheEntrypoint(t *testing.T) {
	needEnv(t)
	startControllerWith(t, workerOptions())
	jt := &asyncjobv1alpha1.AsyncJobType{}
	readYAML(t, filepath.Join(framework.RepoRoot(), "config", "samples", "asyncjob_v1alpha1_asyncjobtype_live.yaml"), jt)
	jt.Name = uniqueTypeName(t)
	createReadyType(t, jt)
	ns := newNamespace(t)
	mustCreate(t, wrappers.MakeAsyncJob("live", ns).Type(jt.Name).Params(`{"input":"https://example.com/a.mov","format":"webm"}`).Obj())

	pod := waitJob(t, ns, "live").Spec.Template.Spec
	if len(pod.InitContainers) != 1 || pod.InitContainers[0].Name != entrypointContainer {
		t.Fatalf("init containers %+v, want the entrypoint's", pod.InitContainers)
	}
	want := []string{EntrypointBinary, "entrypoint", "--", "/sample-worker"}
	if got := pod.Containers[0].Command; !slices.Equal(got, want) {
		t.Errorf("command %q, want %q", got, want)
	}
}

func readYAML(t *testing.T, path string, into any) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.UnmarshalStrict(raw, into); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
