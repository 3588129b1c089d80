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
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"k8s.io/apimachinery/pkg/types"

	"github.com/asyncjob/asyncjob/internal/paramschema"
)

// Limits of a progress report: status.progress's own (its CRD schema), in
// bytes, as the entrypoint cuts them; and of its body.
const (
	maxProgressStepBytes    = 256
	maxProgressMessageBytes = 1024
	maxProgressBodyBytes    = 16 << 10
)

// progressFields are the members a progress body may have.
var progressFields = map[string]bool{"percent": true, "step": true, "message": true}

// postProgress handles POST /v1/jobs/{id}/progress (worker token only): 204
// when the report is stored, 202 when it is held to be stored within the
// interval (see coalescer).
func (s *Server) postProgress(c *gin.Context) error {
	aj, ok := workerJobFrom(c.Request.Context())
	if !ok {
		return errors.New("no worker job on a worker route")
	}
	if !isJSON(c.GetHeader("Content-Type")) {
		return newError(problemUnsupportedMediaType, "send the report as Content-Type: application/json").
			withHeader("Accept-Post", "application/json")
	}
	body, err := readBody(c, maxProgressBodyBytes)
	if err != nil {
		return err
	}
	r, err := decodeProgress(body)
	if err != nil {
		return err
	}
	// Truncated to what status.progress.updateTime keeps, so that a report
	// compares equal to itself once stored.
	r.ReceivedAt = time.Now().Truncate(time.Microsecond)
	outcome, err := s.progress.submit(c.Request.Context(), types.NamespacedName{Namespace: aj.Namespace, Name: aj.Name}, aj.UID, r)
	if err != nil {
		return err
	}
	switch outcome {
	case progressDeferred:
		c.Status(http.StatusAccepted)
	case progressJobGone:
		return newError(problemJobGone, "job %s was deleted; its worker can no longer report", aj.Name)
	default:
		c.Status(http.StatusNoContent)
	}
	return nil
}

// decodeProgress parses and checks a progress body, reporting every field
// error at once.
func decodeProgress(body []byte) (progressReport, error) {
	var r progressReport
	var members map[string]json.RawMessage
	if err := decodeOneJSON(body, &members); err != nil {
		return r, err
	}
	if members == nil {
		return r, newError(problemMalformedJSON, "the body must be a JSON object")
	}
	var errs []paramschema.FieldError
	add := func(ptr, detail string) { errs = append(errs, paramschema.FieldError{Pointer: ptr, Detail: detail}) }
	for name := range members {
		if !progressFields[name] {
			add(pointerTo(name), "unknown field; allowed fields are percent, step and message")
		}
	}
	if raw, ok := members["percent"]; !ok {
		add("/percent", "is required")
	} else if pct, ok := percentOf(raw); !ok {
		add("/percent", "must be an integer from 0 to 100")
	} else {
		r.Percent = pct
	}
	str := func(name string, limit int, dst *string) {
		raw, ok := members[name]
		if !ok || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
			return
		}
		if err := json.Unmarshal(raw, dst); err != nil {
			add("/"+name, "must be a string")
		} else if len(*dst) > limit {
			add("/"+name, fmt.Sprintf("must be at most %d bytes (UTF-8), not %d", limit, len(*dst)))
		}
	}
	str("step", maxProgressStepBytes, &r.Step)
	str("message", maxProgressMessageBytes, &r.Message)
	if len(errs) > 0 {
		sortFieldErrors(errs)
		ve := newError(problemValidationFailed, "the report has %d invalid field(s); see errors", len(errs))
		ve.fields = errs
		return r, ve
	}
	return r, nil
}

// percentOf accepts a JSON number that is an integer from 0 to 100 (45 and
// 45.0 alike).
func percentOf(raw json.RawMessage) (int32, bool) {
	var n json.Number
	if t := bytes.TrimSpace(raw); len(t) == 0 || t[0] == '"' { // json.Number would take "45"
		return 0, false
	}
	if err := json.Unmarshal(raw, &n); err != nil {
		return 0, false
	}
	f, err := n.Float64()
	if err != nil || f < 0 || f > 100 || f != float64(int32(f)) {
		return 0, false
	}
	return int32(f), true
}
