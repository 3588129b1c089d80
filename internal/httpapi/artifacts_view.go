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
	"bytes"
	"encoding/json"

	"github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/internal/artifact"
)

// JobArtifact is one file of a job as REST clients see it: the job's record
// of it (spec.inputs, status.outputs) and where to download it.
type JobArtifact struct {
	Name        string        `json:"name"`
	Kind        artifact.Kind `json:"kind"`
	Size        int64         `json:"size"`
	SHA256      string        `json:"sha256"`
	ContentType string        `json:"contentType"`
	Href        string        `json:"href"`
}

// artifactList is the body of GET /v1/jobs/{id}/artifacts.
type artifactList struct {
	Items []JobArtifact `json:"items"`
}

// artifactsPath is the URL path of a job's artifacts; artifactPath of one.
func artifactsPath(id string) string      { return jobPath(id) + "/artifacts" }
func artifactPath(id, name string) string { return artifactsPath(id) + "/" + name }

// toArtifacts renders records of one kind; never nil, so JSON has [].
func toArtifacts(id string, kind artifact.Kind, records []v1alpha1.Artifact) []JobArtifact {
	out := make([]JobArtifact, 0, len(records))
	for _, a := range records {
		out = append(out, toArtifact(id, kind, a))
	}
	return out
}

func toArtifact(id string, kind artifact.Kind, a v1alpha1.Artifact) JobArtifact {
	return JobArtifact{Name: a.Name, Kind: kind, Size: a.Size, SHA256: a.SHA256, ContentType: contentTypeOf(a), Href: artifactPath(id, a.Name)}
}

// contentTypeOf is the media type a file is served with: the one it was
// stored with, else what the store itself assumes.
func contentTypeOf(a v1alpha1.Artifact) string {
	if a.ContentType == "" {
		return "application/octet-stream"
	}
	return a.ContentType
}

// findArtifact looks a name up among the job's inputs, then its outputs (a
// name is unique across both).
func findArtifact(aj *v1alpha1.AsyncJob, name string) (v1alpha1.Artifact, artifact.Kind, bool) {
	if a, ok := findRecord(aj.Spec.Inputs, name); ok {
		return a, artifact.Input, true
	}
	if a, ok := findRecord(aj.Status.Outputs, name); ok {
		return a, artifact.Output, true
	}
	return v1alpha1.Artifact{}, "", false
}

func findRecord(records []v1alpha1.Artifact, name string) (v1alpha1.Artifact, bool) {
	for _, a := range records {
		if a.Name == name {
			return a, true
		}
	}
	return v1alpha1.Artifact{}, false
}

// resultWithOutputs links a completed job's outputs from its result: a
// result that is a JSON object gains (or has replaced) an "outputs" member,
// the list of its outputs with their links; a job with outputs and no result
// gets {"outputs": [...]}; any other result is left as it is, since only an
// object can carry a link. The worker's bytes are kept when "outputs" is
// added, not re-encoded.
func resultWithOutputs(result []byte, outputs []JobArtifact) []byte {
	trimmed := bytes.TrimSpace(result)
	if len(outputs) == 0 {
		return result
	}
	list, err := json.Marshal(outputs)
	if err != nil {
		return result
	}
	if len(trimmed) == 0 || bytes.Equal(trimmed, []byte("null")) {
		return append(append([]byte(`{"outputs":`), list...), '}')
	}
	var members map[string]json.RawMessage
	if trimmed[0] != '{' || json.Unmarshal(trimmed, &members) != nil {
		return result
	}
	if _, taken := members["outputs"]; taken {
		members["outputs"] = list
		if out, err := json.Marshal(members); err == nil {
			return out
		}
		return result
	}
	out := append([]byte{}, trimmed[:len(trimmed)-1]...) // without the closing brace
	if len(members) > 0 {
		out = append(out, ',')
	}
	out = append(append(append(out, `"outputs":`...), list...), '}')
	return out
}
