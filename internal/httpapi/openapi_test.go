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
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/asyncjob/asyncjob/test/framework"
)

const openAPIURL = "asyncjob:///openapi.json"

// oasDoc is the parsed OpenAPI document with a schema compiler over it.
type oasDoc struct {
	doc      map[string]any
	mu       sync.Mutex
	compiler *jsonschema.Compiler
	schemas  map[string]*jsonschema.Schema
}

var loadOAS = sync.OnceValues(func() (*oasDoc, error) {
	raw, err := openAPIJSON()
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource(openAPIURL, inst); err != nil {
		return nil, err
	}
	return &oasDoc{doc: doc, compiler: c, schemas: map[string]*jsonschema.Schema{}}, nil
})

// escape is an RFC 6901 token.
func escape(s string) string { return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1") }

// resolve follows a local $ref, returning the object and its pointer.
func (d *oasDoc) resolve(obj map[string]any, ptr string) (map[string]any, string) {
	ref, ok := obj["$ref"].(string)
	if !ok {
		return obj, ptr
	}
	ptr = strings.TrimPrefix(ref, "#")
	var cur any = d.doc
	for _, tok := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		cur = cur.(map[string]any)[tok]
	}
	return cur.(map[string]any), ptr
}

// matchPath finds the document's path template for a concrete path; a
// template with more literal segments wins (OpenAPI 3.1: concrete paths are
// matched before templated ones, so /v1/jobs/events is not /v1/jobs/{id}).
func (d *oasDoc) matchPath(path string) (string, bool) {
	segs := strings.Split(path, "/")
	best, bestLiterals := "", -1
	for tmpl := range d.doc["paths"].(map[string]any) {
		ts := strings.Split(tmpl, "/")
		if len(ts) != len(segs) {
			continue
		}
		ok, literals := true, 0
		for i := range ts {
			if strings.HasPrefix(ts[i], "{") {
				continue
			}
			if ts[i] != segs[i] {
				ok = false
				break
			}
			literals++
		}
		if ok && literals > bestLiterals {
			best, bestLiterals = tmpl, literals
		}
	}
	return best, bestLiterals >= 0
}

func (d *oasDoc) schema(ptr string) (*jsonschema.Schema, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if s, ok := d.schemas[ptr]; ok {
		return s, nil
	}
	s, err := d.compiler.Compile(openAPIURL + "#" + ptr)
	if err != nil {
		return nil, err
	}
	d.schemas[ptr] = s
	return s, nil
}

// headersWorthDocumenting are the response headers whose presence the document
// must announce for the status that carries them.
var headersWorthDocumenting = []string{"Location", "Retry-After", "ETag", "Sunset", "Idempotent-Replayed", "Allow", "WWW-Authenticate", "Accept-Post", "Job-Attempt", "Cache-Control", "Preference-Applied", "Content-Location"}

// check validates one exchange against the document: the operation and status
// are documented, the body matches the documented schema for its media type,
// and every notable header present is documented for that response.
func (d *oasDoc) check(method, path string, status int, header http.Header, body []byte) error {
	tmpl, ok := d.matchPath(path)
	if !ok {
		if status == http.StatusNotFound && header.Get("Content-Type") == problemMediaType {
			return d.validate("/components/schemas/Problem", body) // unknown routes
		}
		return fmt.Errorf("path %s is not documented", path)
	}
	item := d.doc["paths"].(map[string]any)[tmpl].(map[string]any)
	opAny, ok := item[strings.ToLower(method)]
	if !ok {
		if status == http.StatusMethodNotAllowed {
			resp, ptr := d.resolve(map[string]any{"$ref": "#/components/responses/MethodNotAllowed"}, "")
			return d.checkResponse(resp, ptr, method == http.MethodHead, status, header, body)
		}
		return fmt.Errorf("%s %s is not documented", method, tmpl)
	}
	opPtr := "/paths/" + escape(tmpl) + "/" + strings.ToLower(method)
	responses := opAny.(map[string]any)["responses"].(map[string]any)
	respAny, ok := responses[strconv.Itoa(status)]
	if !ok {
		return fmt.Errorf("%s %s: status %d is not documented", method, tmpl, status)
	}
	resp, ptr := d.resolve(respAny.(map[string]any), opPtr+"/responses/"+strconv.Itoa(status))
	return d.checkResponse(resp, ptr, method == http.MethodHead, status, header, body)
}

func (d *oasDoc) checkResponse(resp map[string]any, ptr string, head bool, status int, header http.Header, body []byte) error {
	documented, _ := resp["headers"].(map[string]any)
	for _, h := range headersWorthDocumenting {
		if header.Get(h) != "" && documented[h] == nil {
			return fmt.Errorf("%s: header %s is sent but not documented", ptr, h)
		}
	}
	content, _ := resp["content"].(map[string]any)
	if len(body) == 0 && head {
		return nil // HEAD answers carry the headers only (RFC 9110 9.3.2)
	}
	if len(body) == 0 {
		if len(content) > 0 && status != http.StatusNoContent {
			return fmt.Errorf("%s: documented body missing", ptr)
		}
		return nil
	}
	mt, _, _ := strings.Cut(header.Get("Content-Type"), ";")
	media, ok := content[mt].(map[string]any)
	if !ok {
		media, ok = content["*/*"].(map[string]any) // a file of any type (artifacts)
	}
	if !ok {
		return fmt.Errorf("%s: media type %q is not documented", ptr, mt)
	}
	if _, ok := media["schema"]; !ok || mt != "application/json" && mt != problemMediaType {
		return nil
	}
	return d.validate(ptr+"/content/"+escape(mt)+"/schema", body)
}

func (d *oasDoc) validate(schemaPtr string, body []byte) error {
	s, err := d.schema(schemaPtr)
	if err != nil {
		return fmt.Errorf("compiling %s: %w", schemaPtr, err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("body is not JSON: %w", err)
	}
	if err := s.Validate(inst); err != nil {
		return fmt.Errorf("body %s does not match %s: %v", body, schemaPtr, err)
	}
	return nil
}

// conformanceTransport checks every response the tests receive against the
// OpenAPI document, so each integration test is also a conformance test.
type conformanceTransport struct {
	t    *testing.T
	next http.RoundTripper
}

func (c *conformanceTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	doc, err := loadOAS()
	if err != nil {
		c.t.Errorf("loading OpenAPI document: %v", err)
		return resp, nil
	}
	if err := doc.check(req.Method, req.URL.Path, resp.StatusCode, resp.Header, body); err != nil {
		c.t.Errorf("OpenAPI conformance: %s %s -> %d: %v", req.Method, req.URL.Path, resp.StatusCode, err)
	}
	return resp, nil
}

var ginParam = regexp.MustCompile(`:([A-Za-z]+)`)

// TestOpenAPIDocumentsEveryRoute: every registered route is in the document and
// every documented operation is registered.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	doc, err := loadOAS()
	if err != nil {
		t.Fatal(err)
	}
	srv := newUnitServer(t)
	registered := map[string]bool{}
	for _, r := range srv.engine.Routes() {
		path := ginParam.ReplaceAllString(r.Path, "{$1}")
		key := strings.ToLower(r.Method) + " " + path
		registered[key] = true
		item, ok := doc.doc["paths"].(map[string]any)[path].(map[string]any)
		if !ok || item[strings.ToLower(r.Method)] == nil {
			t.Errorf("route %s %s is not in the OpenAPI document", r.Method, path)
		}
	}
	for path, item := range doc.doc["paths"].(map[string]any) {
		for method := range item.(map[string]any) {
			if method == "parameters" {
				continue
			}
			if !registered[method+" "+path] {
				t.Errorf("documented operation %s %s is not a route", method, path)
			}
		}
	}
}

// TestOpenAPIDocumentIsValid compiles every schema the document refers to and
// checks that headers named by the checklist are documented.
func TestOpenAPIDocumentIsValid(t *testing.T) {
	doc, err := loadOAS()
	if err != nil {
		t.Fatal(err)
	}
	if v := doc.doc["openapi"]; v != "3.1.0" {
		t.Errorf("openapi = %v, want 3.1.0", v)
	}
	var names []string
	for name := range doc.doc["components"].(map[string]any)["schemas"].(map[string]any) {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if _, err := doc.schema("/components/schemas/" + name); err != nil {
			t.Errorf("schema %s: %v", name, err)
		}
	}
	raw, _ := openAPIJSON()
	for _, h := range []string{"Location", "Retry-After", "ETag", "Sunset", "Idempotency-Key", "Idempotent-Replayed", "WWW-Authenticate", "Allow"} {
		if !bytes.Contains(raw, []byte(`"`+h+`"`)) {
			t.Errorf("header %s is not documented", h)
		}
	}
}

// TestConformanceCatchesDrift proves the conformance check can fail: a body
// missing a required member and an undocumented status are both reported.
func TestConformanceCatchesDrift(t *testing.T) {
	doc, err := loadOAS()
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{"Content-Type": {"application/json"}}
	if err := doc.check("GET", "/v1/jobs/x", 200, h, []byte(`{"id":"x"}`)); err == nil {
		t.Error("an incomplete job validated")
	}
	if err := doc.check("GET", "/v1/jobs/x", 418, h, []byte(`{}`)); err == nil {
		t.Error("an undocumented status validated")
	}
	if err := doc.check("GET", "/v1/types", 200, http.Header{"Content-Type": {"application/json"}, "Sunset": {"x"}}, []byte(`{"items":[]}`)); err == nil {
		t.Error("an undocumented header validated")
	}
}

// TestDocsListEveryProblemType: docs/api.md and the OpenAPI document name
// every problem type the code can return.
func TestDocsListEveryProblemType(t *testing.T) {
	md, err := os.ReadFile(filepath.Join(framework.RepoRoot(), "docs", "api.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range append(problemTypes, jobFailedProblem) {
		if !bytes.Contains(md, []byte(p.URI())) {
			t.Errorf("docs/api.md does not document %s", p.URI())
		}
		if p.Code != "" && !bytes.Contains(md, []byte(p.Code)) {
			t.Errorf("docs/api.md does not mention code %s", p.Code)
		}
		if p.Title != "" && !bytes.Contains(md, []byte(p.Title)) {
			t.Errorf("docs/api.md does not give the title %q", p.Title)
		}
	}
}
