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

// Package paramschema compiles an AsyncJobType's parametersSchema and validates
// AsyncJob parameters against it. The controller and the REST API share it so a
// job the API accepted is never failed by the controller for its parameters.
package paramschema

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// schemaURL is the in-memory location a type's schema is compiled at.
const schemaURL = "asyncjob:///parameters.schema.json"

var printer = message.NewPrinter(language.English)

// Schema is a compiled parameters schema.
type Schema struct {
	compiled *jsonschema.Schema
}

// FieldError is one failing field of the parameters.
type FieldError struct {
	// Pointer is an RFC 6901 JSON pointer into the parameters ("" for the whole document).
	Pointer string `json:"pointer"`
	// Detail says what is wrong, for a person to fix it.
	Detail string `json:"detail"`
}

// noRemoteRefs refuses every $ref outside the schema itself: a type's schema must
// be self-contained, and the controller must never fetch URLs or read files.
type noRemoteRefs struct{}

func (noRemoteRefs) Load(url string) (any, error) {
	return nil, fmt.Errorf("$ref to %q: only references within the schema are allowed", url)
}

// Compile compiles a JSON Schema document (draft 2020-12 unless its $schema says
// otherwise). A nil or empty document accepts any JSON object.
func Compile(doc []byte) (*Schema, error) {
	if len(bytes.TrimSpace(doc)) == 0 {
		doc = []byte(`{"type":"object"}`)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return nil, fmt.Errorf("parametersSchema is not JSON: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.UseLoader(noRemoteRefs{})
	c.AssertFormat()
	if err := c.AddResource(schemaURL, v); err != nil {
		return nil, fmt.Errorf("parametersSchema: %w", err)
	}
	compiled, err := c.Compile(schemaURL)
	if err != nil {
		return nil, fmt.Errorf("parametersSchema does not compile: %s", strings.ReplaceAll(err.Error(), schemaURL, "parametersSchema"))
	}
	return &Schema{compiled: compiled}, nil
}

// Validate checks a parameters document (JSON; empty means {}) and returns every
// failing field, sorted by pointer. A document that is not JSON is one error at "".
func (s *Schema) Validate(params []byte) []FieldError {
	if len(bytes.TrimSpace(params)) == 0 {
		params = []byte(`{}`)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(params))
	if err != nil {
		return []FieldError{{Pointer: "", Detail: "parameters are not valid JSON"}}
	}
	err = s.compiled.Validate(v)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return []FieldError{{Pointer: "", Detail: "parameters could not be validated"}}
	}
	var out []FieldError
	collectLeaves(ve, &out)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Pointer < out[j].Pointer })
	return dedupe(out)
}

// collectLeaves flattens the error tree: the leaves are the specific failures
// ("missing property 'format'"), the inner nodes only say "doesn't validate".
func collectLeaves(e *jsonschema.ValidationError, out *[]FieldError) {
	if len(e.Causes) == 0 {
		// A missing property is the property's error, not its parent's.
		if req, ok := e.ErrorKind.(*kind.Required); ok {
			for _, name := range req.Missing {
				*out = append(*out, FieldError{
					Pointer: pointer(append(append([]string{}, e.InstanceLocation...), name)),
					Detail:  "is required",
				})
			}
			return
		}
		*out = append(*out, FieldError{Pointer: pointer(e.InstanceLocation), Detail: e.ErrorKind.LocalizedString(printer)})
		return
	}
	for _, c := range e.Causes {
		collectLeaves(c, out)
	}
}

func dedupe(in []FieldError) []FieldError {
	out := in[:0]
	seen := map[FieldError]bool{}
	for _, fe := range in {
		if !seen[fe] {
			seen[fe] = true
			out = append(out, fe)
		}
	}
	return out
}

// pointer builds an RFC 6901 pointer from path tokens.
func pointer(tokens []string) string {
	var b strings.Builder
	for _, t := range tokens {
		b.WriteByte('/')
		t = strings.ReplaceAll(t, "~", "~0")
		b.WriteString(strings.ReplaceAll(t, "/", "~1"))
	}
	return b.String()
}
