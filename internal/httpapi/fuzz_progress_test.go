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
	"errors"
	"strings"
	"testing"
)

// FuzzProgressBody: the worker's progress body (POST /v1/jobs/{id}/progress,
// decodeProgress). Whatever the bytes, the decoder answers a report within
// status.progress's limits or a documented 4xx problem; a report is accepted
// only if the body is one valid JSON object with a percent and nothing but
// the three members, and what it accepts it reads as encoding/json does; an
// accepted report, sent again, reads the same.
func FuzzProgressBody(f *testing.F) {
	f.Add([]byte(`{"percent":45,"step":"transcoding","message":"frame 1200/2600"}`))
	f.Add([]byte(`{"percent":100}`))
	f.Add([]byte(`{"percent":45.0,"step":null}`))
	f.Add([]byte(`{"percent":"45"}`))
	f.Add([]byte(`{"percent":101,"extra":1}`))
	f.Add([]byte(`{"percent":1e2}`))
	f.Add([]byte(`{"percent":-0}`))
	f.Add([]byte(`{"percent":50,"percent":60}`))
	f.Add([]byte(`{"percent":1,"step":"` + strings.Repeat("é", 200) + `"}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"percent":1} {}`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := decodeProgress(body)
		if err != nil {
			var ae *apiError
			if !errors.As(err, &ae) {
				t.Fatalf("a non-API error: %v", err)
			}
			switch ae.kind {
			case problemMalformedJSON:
			case problemValidationFailed:
				if len(ae.fields) == 0 {
					t.Fatalf("422 without field errors: %v", ae)
				}
				for _, fe := range ae.fields {
					if !strings.HasPrefix(fe.Pointer, "/") || fe.Detail == "" {
						t.Fatalf("field error %+v is not a JSON pointer with a detail", fe)
					}
				}
			default:
				t.Fatalf("problem %s, want MALFORMED_JSON or VALIDATION_FAILED", ae.kind.Code)
			}
			for _, leak := range internalErrorText {
				if strings.Contains(ae.detail, leak) {
					t.Fatalf("detail leaks internal text %q: %s", leak, ae.detail)
				}
			}
			return
		}

		checkAcceptedProgress(t, body, r)
	})
}

// checkAcceptedProgress: an accepted body, read independently, agrees with
// the report, which is within the limits and reads the same when sent again.
func checkAcceptedProgress(t *testing.T, body []byte, r progressReport) {
	t.Helper()
	// Accepted: an independent reading of the same bytes must agree.
	if !json.Valid(body) {
		t.Fatalf("accepted a body that is not valid JSON: %q", body)
	}
	var members map[string]any
	if err := json.Unmarshal(body, &members); err != nil || members == nil {
		t.Fatalf("accepted a body that is not a JSON object: %q", body)
	}
	for name := range members {
		if name != "percent" && name != "step" && name != "message" {
			t.Fatalf("accepted an unknown member %q", name)
		}
	}
	if pct, ok := members["percent"].(float64); !ok || pct != float64(r.Percent) || r.Percent < 0 || r.Percent > 100 {
		t.Fatalf("percent %v read as %d", members["percent"], r.Percent)
	}
	for name, got := range map[string]string{"step": r.Step, "message": r.Message} {
		if v, ok := members[name]; ok && v != nil && v != got {
			t.Fatalf("%s %q read as %q", name, v, got)
		}
	}
	if len(r.Step) > maxProgressStepBytes || len(r.Message) > maxProgressMessageBytes {
		t.Fatalf("accepted a report beyond the limits: step %d, message %d bytes", len(r.Step), len(r.Message))
	}

	again, err := json.Marshal(map[string]any{"percent": r.Percent, "step": r.Step, "message": r.Message})
	if err != nil {
		t.Fatal(err)
	}
	r2, err := decodeProgress(again)
	if err != nil || r2 != r {
		t.Fatalf("the accepted report %+v, sent again as %s, reads %+v (%v)", r, again, r2, err)
	}
}
