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

package paramschema

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const convertSchema = `{
  "type": "object",
  "additionalProperties": false,
  "required": ["input", "format"],
  "properties": {
    "input":  {"type": "string", "format": "uri"},
    "format": {"type": "string", "enum": ["webm", "mp4"]},
    "crf":    {"type": "integer", "minimum": 0, "maximum": 51},
    "nested": {"type": "object", "properties": {"a/b": {"type": "string"}}}
  }
}`

func TestValidate(t *testing.T) {
	s, err := Compile([]byte(convertSchema))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		params string
		want   []FieldError
	}{
		{name: "valid", params: `{"input":"https://example.com/a.mov","format":"webm"}`},
		{
			name:   "every failing field at once",
			params: `{"format":"avi","crf":99,"extra":1}`,
			want: []FieldError{
				{Pointer: "", Detail: "additional properties 'extra' not allowed"},
				{Pointer: "/crf", Detail: "maximum: got 99, want 51"},
				{Pointer: "/format", Detail: "value must be one of 'webm', 'mp4'"},
				{Pointer: "/input", Detail: "is required"},
			},
		},
		{
			name:   "format keyword is asserted",
			params: `{"input":"not a uri","format":"mp4"}`,
			want:   []FieldError{{Pointer: "/input", Detail: "'not a uri' is not valid uri: relative url"}},
		},
		{
			name:   "pointer escapes / and ~",
			params: `{"input":"https://x","format":"mp4","nested":{"a/b":1}}`,
			want:   []FieldError{{Pointer: "/nested/a~1b", Detail: "got number, want string"}},
		},
		{
			name:   "empty parameters are an empty object",
			params: ``,
			want:   []FieldError{{Pointer: "/format", Detail: "is required"}, {Pointer: "/input", Detail: "is required"}},
		},
		{name: "not JSON", params: `{`, want: []FieldError{{Pointer: "", Detail: "parameters are not valid JSON"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, s.Validate([]byte(tc.params))); diff != "" {
				t.Errorf("Validate() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCompile(t *testing.T) {
	if _, err := Compile(nil); err != nil {
		t.Errorf("an absent schema should accept any object, got %v", err)
	}
	for name, doc := range map[string]string{
		"not JSON":     `{`,
		"bad keyword":  `{"type": 5}`,
		"remote $ref":  `{"$ref": "https://example.com/s.json"}`,
		"file $ref":    `{"$ref": "file:///etc/passwd"}`,
		"bad minimum":  `{"minimum": "x"}`,
		"bad required": `{"required": "x"}`,
	} {
		if _, err := Compile([]byte(doc)); err == nil {
			t.Errorf("%s: Compile(%s) succeeded, want an error", name, doc)
		}
	}
	s, _ := Compile(nil)
	if errs := s.Validate([]byte(`[1]`)); len(errs) != 1 {
		t.Errorf("the default schema should reject a non-object, got %v", errs)
	}
}

// refusal is what Compile says about a $ref outside the schema.
const refusal = "only references within the schema are allowed"

// TestCompileRefusesReferencesOutsideTheSchema: the referenced file exists and
// is a valid JSON Schema, so only the refusing loader stops the compiler from
// reading it (its default loader reads file:// URLs).
func TestCompileRefusesReferencesOutsideTheSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shared.schema.json")
	if err := os.WriteFile(path, []byte(`{"type":"object","properties":{"format":{"type":"string"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, ref := range map[string]string{
		"file URL":  "file://" + path,
		"https URL": "https://example.com/s.json",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Compile([]byte(`{"$ref":"` + ref + `"}`))
			if err == nil || !strings.Contains(err.Error(), refusal) || !strings.Contains(err.Error(), ref) {
				t.Errorf("Compile($ref %s) error = %v, want one naming the URL and saying %q", ref, err, refusal)
			}
		})
	}
	// References within the schema still work.
	s, err := Compile([]byte(`{"$defs":{"f":{"enum":["webm"]}},"type":"object","properties":{"format":{"$ref":"#/$defs/f"}}}`))
	if err != nil {
		t.Fatalf("a local $ref: %v", err)
	}
	if errs := s.Validate([]byte(`{"format":"avi"}`)); len(errs) != 1 || errs[0].Pointer != "/format" {
		t.Errorf("a local $ref is not applied: %v", errs)
	}
}
