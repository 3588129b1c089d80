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
	"path/filepath"
	"slices"
	"testing"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/test/framework"
	"github.com/asyncjob/asyncjob/test/wrappers"
)

// The real convert sample (the chart's convert type) is accepted as written
// (its artifacts with entrypoint Inject pass the CRD's rules), becomes Ready,
// and its Job runs its script through the entrypoint with the parameters as
// variables, camelCase names upper-cased as the script reads them.
func TestIntegrationFFmpegSampleRunsItsScript(t *testing.T) {
	needEnv(t)
	startControllerWith(t, workerOptions())
	jt := &asyncjobv1alpha1.AsyncJobType{}
	readYAML(t, filepath.Join(framework.RepoRoot(), "config", "samples", "asyncjob_v1alpha1_asyncjobtype_ffmpeg.yaml"), jt)
	jt.Name = uniqueTypeName(t)
	script := jt.Spec.Template.Spec.Template.Spec.Containers[0].Command
	createReadyType(t, jt)
	ns := newNamespace(t)
	mustCreate(t, wrappers.MakeAsyncJob("clip", ns).Type(jt.Name).Params(`{"input":"clip.mov","format":"webm","videoCodec":"vp8","width":640}`).Obj())

	c := waitJob(t, ns, "clip").Spec.Template.Spec.Containers[0]
	if want := append([]string{EntrypointBinary, "entrypoint", "--"}, script...); !slices.Equal(c.Command, want) {
		t.Errorf("command %q, want the entrypoint around the sample's script", c.Command)
	}
	for name, want := range map[string]string{"ASYNCJOB_PARAM_INPUT": "clip.mov", "ASYNCJOB_PARAM_FORMAT": "webm",
		"ASYNCJOB_PARAM_VIDEOCODEC": "vp8", "ASYNCJOB_PARAM_WIDTH": "640"} {
		if got, _ := envValue(c, name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
}
