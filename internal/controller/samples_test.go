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
	"testing"

	"sigs.k8s.io/yaml"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/test/framework"
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
