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
	"errors"
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/asyncjob/asyncjob/internal/paramschema"
)

// maxLabels bounds the labels of one job: each becomes a Kubernetes label.
const maxLabels = 32

// submitRequest is the body of POST /v1/jobs.
type submitRequest struct {
	Type       string            `json:"type"`
	Parameters json.RawMessage   `json:"parameters,omitempty"`
	Labels     map[string]string `json:"labels,omitempty"`
	Webhook    *webhookRequest   `json:"webhook,omitempty"`
	// Priority orders the job among its type's waiting ones (0 to the type's maxPriority).
	Priority int32 `json:"priority,omitempty"`
}

// The members of a submit body.
const (
	memberType       = "type"
	memberParameters = "parameters"
	memberLabels     = "labels"
	memberWebhook    = "webhook"
	memberPriority   = "priority"
)

// submitFields are the members a submit body may have.
var submitFields = map[string]bool{memberType: true, memberParameters: true, memberLabels: true, memberWebhook: true, memberPriority: true}

// decodeSubmitRequest parses and checks a submit body on its own, without the
// type's schema. It returns a malformed-JSON error for bodies that are not one
// JSON object, and otherwise every field error it finds (unknown members
// included) so the client can fix them all at once.
func decodeSubmitRequest(body []byte) (submitRequest, []paramschema.FieldError, error) {
	var req submitRequest
	var members map[string]json.RawMessage
	if err := decodeOneJSON(body, &members); err != nil {
		return req, nil, err
	}
	if members == nil {
		return req, nil, newError(problemMalformedJSON, "the body must be a JSON object")
	}
	var errs []paramschema.FieldError
	add := func(ptr, detail string) {
		errs = append(errs, paramschema.FieldError{Pointer: ptr, Detail: detail})
	}
	for name := range members {
		if !submitFields[name] {
			add(pointerTo(name), "unknown field; allowed fields are type, parameters, labels, webhook and priority")
		}
	}
	if raw, ok := members[memberType]; !ok {
		add("/type", "is required")
	} else if err := json.Unmarshal(raw, &req.Type); err != nil {
		add("/type", "must be a string")
	} else if req.Type == "" {
		add("/type", "must not be empty")
	}
	if raw, ok := members[memberParameters]; ok {
		if t := bytes.TrimSpace(raw); len(t) == 0 || t[0] != '{' {
			add("/parameters", "must be a JSON object")
		} else {
			req.Parameters = raw
		}
	}
	if raw, ok := members[memberLabels]; ok && !bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		if err := json.Unmarshal(raw, &req.Labels); err != nil {
			add("/labels", "must be an object of string values")
		} else {
			errs = append(errs, validateLabels(req.Labels)...)
		}
	}
	if raw, ok := members[memberWebhook]; ok {
		var werrs []paramschema.FieldError
		req.Webhook, werrs = decodeWebhook(raw) // jobs_webhook.go
		errs = append(errs, werrs...)
	}
	if raw, ok := members[memberPriority]; ok {
		p, err := decodePriority(raw)
		if err != nil {
			add("/priority", err.Error())
		}
		req.Priority = p
	}
	sortFieldErrors(errs)
	return req, errs, nil
}

// maxPriority is the largest priority any type allows (AsyncJobType's maxPriority maximum).
const maxPriority = 1000

// decodePriority reads a priority: a JSON integer from 0 to maxPriority; the
// type's own bound is checked against the type.
func decodePriority(raw json.RawMessage) (int32, error) {
	t := bytes.TrimSpace(raw)
	if bytes.Equal(t, []byte("null")) {
		return 0, nil // as absent: the default
	}
	if len(t) == 0 || t[0] == '"' { // json.Number would take "1"
		return 0, errors.New("must be an integer")
	}
	var n json.Number
	dec := json.NewDecoder(bytes.NewReader(t))
	dec.UseNumber()
	if err := dec.Decode(&n); err != nil {
		return 0, errors.New("must be an integer")
	}
	v, err := n.Int64()
	if err != nil {
		return 0, errors.New("must be an integer")
	}
	if v < 0 || v > maxPriority {
		return 0, fmt.Errorf("must be between 0 and %d", maxPriority)
	}
	return int32(v), nil
}

// decodeOneJSON decodes exactly one JSON value from body.
func decodeOneJSON(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		return newError(problemMalformedJSON, "the body is not valid JSON: %s", jsonErrorDetail(err))
	}
	// Only JSON whitespace may follow. dec.More alone is not enough: it
	// reports a stray ']' or '}' as the end of a list, not as more input
	// (caught by FuzzProgressBody's validity property).
	if rest := bytes.Trim(body[dec.InputOffset():], " \t\r\n"); len(rest) > 0 {
		return newError(problemMalformedJSON, "the body must hold exactly one JSON value")
	}
	return nil
}

// jsonErrorDetail describes a decoding error with its offset, without echoing
// Go type names back to the client.
func jsonErrorDetail(err error) string {
	switch e := err.(type) {
	case *json.SyntaxError:
		return fmt.Sprintf("syntax error at byte %d", e.Offset)
	case *json.UnmarshalTypeError:
		return fmt.Sprintf("unexpected %s at byte %d", e.Value, e.Offset)
	default:
		return "unexpected end of input"
	}
}

// validateLabels checks REST labels. Each becomes the Kubernetes label
// labelPrefix+key on the AsyncJob, so keys must be label names without a prefix
// and values label values (RFC 1123-ish, at most 63 characters).
func validateLabels(labels map[string]string) []paramschema.FieldError {
	var errs []paramschema.FieldError
	if len(labels) > maxLabels {
		errs = append(errs, paramschema.FieldError{Pointer: "/labels", Detail: fmt.Sprintf("at most %d labels are allowed", maxLabels)})
	}
	for k, v := range labels {
		ptr := "/labels" + pointerTo(k)
		if msgs := validation.IsQualifiedName(labelPrefix + k); len(msgs) > 0 || strings.Contains(k, "/") || k == "" {
			errs = append(errs, paramschema.FieldError{Pointer: ptr, Detail: "key must be 1-63 characters of [A-Za-z0-9_.-], starting and ending with an alphanumeric character"})
		}
		if msgs := validation.IsValidLabelValue(v); len(msgs) > 0 {
			errs = append(errs, paramschema.FieldError{Pointer: ptr, Detail: "value must be at most 63 characters of [A-Za-z0-9_.-], starting and ending with an alphanumeric character"})
		}
	}
	return errs
}

// pointerTo is the RFC 6901 pointer of a top-level member.
func pointerTo(name string) string {
	return "/" + strings.ReplaceAll(strings.ReplaceAll(name, "~", "~0"), "/", "~1")
}

func sortFieldErrors(errs []paramschema.FieldError) {
	sort.SliceStable(errs, func(i, j int) bool { return errs[i].Pointer < errs[j].Pointer })
}
