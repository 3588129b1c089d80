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

package httpapi

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"

	"github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/test/wrappers"
)

var (
	testSum    = strings.Repeat("ab", 32)
	testOutput = v1alpha1.Artifact{Name: "out.webm", Size: 7, SHA256: testSum, ContentType: "video/webm"}
)

// TestJobArtifactsView: a job renders its inputs and outputs with links, and
// a completed job's result links its outputs.
func TestJobArtifactsView(t *testing.T) {
	aj := wrappers.MakeAsyncJob("id1", "ns").Tenant("acme").Type("convert").
		Inputs(v1alpha1.Artifact{Name: "clip.mov", Size: 3, SHA256: testSum}).
		Status(v1alpha1.AsyncJobStatus{State: v1alpha1.StateCompleted, Outputs: []v1alpha1.Artifact{testOutput},
			Result: &apiextensionsv1.JSON{Raw: []byte(`{"frames": 10}`)}}).Obj()
	j := toJob(aj)
	wantIn := []JobArtifact{{Name: "clip.mov", Kind: "input", Size: 3, SHA256: testSum, ContentType: "application/octet-stream", Href: "/v1/jobs/id1/artifacts/clip.mov"}}
	wantOut := []JobArtifact{{Name: "out.webm", Kind: "output", Size: 7, SHA256: testSum, ContentType: "video/webm", Href: "/v1/jobs/id1/artifacts/out.webm"}}
	if diff := cmp.Diff(wantIn, j.Inputs); diff != "" {
		t.Errorf("inputs (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantOut, j.Outputs); diff != "" {
		t.Errorf("outputs (-want +got):\n%s", diff)
	}
	var result struct {
		Frames  int           `json:"frames"`
		Outputs []JobArtifact `json:"outputs"`
	}
	if err := json.Unmarshal(j.Result, &result); err != nil || result.Frames != 10 || cmp.Diff(wantOut, result.Outputs) != "" {
		t.Errorf("result %s (%v)", j.Result, err)
	}
	// Not completed: no result, whatever outputs there are.
	aj.Status.State = v1alpha1.StateRunning
	if j := toJob(aj); j.Result != nil {
		t.Errorf("running job's result %s", j.Result)
	}
}

func TestResultWithOutputs(t *testing.T) {
	outs := []JobArtifact{{Name: "a", Kind: "output", Size: 1, SHA256: testSum, ContentType: "text/plain", Href: "/v1/jobs/x/artifacts/a"}}
	list := `[{"name":"a","kind":"output","size":1,"sha256":"` + testSum + `","contentType":"text/plain","href":"/v1/jobs/x/artifacts/a"}]`
	for _, c := range []struct{ in, want string }{
		{``, `{"outputs":` + list + `}`},
		{`null`, `{"outputs":` + list + `}`},
		{`{}`, `{"outputs":` + list + `}`},
		{`{"b": 1, "a":[1, 2]}`, `{"b": 1, "a":[1, 2],"outputs":` + list + `}`}, // the worker's bytes kept
		{`{"outputs":"mine","z":1}`, `{"outputs":` + list + `,"z":1}`},          // ours replaces
		{`"a string"`, `"a string"`},
		{`[1,2]`, `[1,2]`},
	} {
		if got := string(resultWithOutputs([]byte(c.in), outs)); got != c.want {
			t.Errorf("resultWithOutputs(%s) = %s, want %s", c.in, got, c.want)
		}
		if !json.Valid(resultWithOutputs([]byte(c.in), outs)) {
			t.Errorf("resultWithOutputs(%s) is not JSON", c.in)
		}
	}
	if got := string(resultWithOutputs([]byte(`{"a":1}`), nil)); got != `{"a":1}` {
		t.Errorf("without outputs: %s", got)
	}
}
