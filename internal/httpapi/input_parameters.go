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
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/internal/paramschema"
)

// hasArtifacts reports whether jobs of the type take or produce files.
func hasArtifacts(t *v1alpha1.AsyncJobType) bool {
	return t != nil && t.Spec.Artifacts != nil
}

// checkInputParameters checks the type's inputParameters: each one present
// must be an http(s) URL or the name of a file uploaded with the submission
// (uploaded; nil for a JSON submission). The JSON Schema has already checked
// the parameters; this is the part a schema cannot know.
func checkInputParameters(t *v1alpha1.AsyncJobType, params json.RawMessage, uploaded map[string]bool) []paramschema.FieldError {
	if !hasArtifacts(t) || len(t.Spec.Artifacts.InputParameters) == 0 {
		return nil
	}
	var values map[string]json.RawMessage
	if len(params) > 0 {
		if err := json.Unmarshal(params, &values); err != nil {
			return nil // not an object: decodeSubmitRequest has said so
		}
	}
	var errs []paramschema.FieldError
	for _, name := range t.Spec.Artifacts.InputParameters {
		raw, ok := values[name]
		if !ok {
			continue // absent: the schema decides whether it is required
		}
		var v string
		if json.Unmarshal(raw, &v) == nil && (isHTTPURL(v) || uploaded[v]) {
			continue
		}
		errs = append(errs, paramschema.FieldError{Pointer: "/parameters" + pointerTo(name), Detail: inputParameterDetail(uploaded)})
	}
	return errs
}

// inputParameterDetail tells the client what an input parameter may be.
func inputParameterDetail(uploaded map[string]bool) string {
	if len(uploaded) == 0 {
		return "must be an http(s) URL, or the name of a file uploaded with the job (multipart/form-data); no file was uploaded"
	}
	names := make([]string, 0, len(uploaded))
	for n := range uploaded {
		names = append(names, n)
	}
	sort.Strings(names)
	return fmt.Sprintf("must be an http(s) URL or the name of an uploaded file (uploaded: %s)", strings.Join(names, ", "))
}

// isHTTPURL accepts absolute http and https URLs with a host.
func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}
