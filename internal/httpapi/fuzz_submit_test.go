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
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-logr/logr"
)

// The fuzz targets below assert properties, not just "no panic". Their seeds
// are the f.Add calls plus testdata/fuzz/<FuzzName>/; a crash the fuzzer finds
// is written there and from then on runs as a regression test in every
// `go test` (make fuzz runs each target for FUZZTIME). FuzzDecodeSubmitRequest
// (request_test.go) covers the submit body's decoder on its own.

// FuzzSubmitHandler: POST /v1/jobs through the real router and middleware,
// with any body, Content-Type and Idempotency-Key. The unit server's API
// server is unreachable, so nothing can be created: every answer must be an
// RFC 9457 problem, a 4xx unless the request was valid enough to reach the
// store (then 503), and never with Go's error text in it.
func FuzzSubmitHandler(f *testing.F) {
	f.Add([]byte(`{"type":"convert","parameters":{"input":"https://example.com/a","format":"webm"}}`), "application/json", "key-1", true)
	f.Add([]byte(`{"type":""}`), "application/json; charset=utf-8", "", false)
	f.Add([]byte(`{"type":"a"}`), "application/merge-patch+json", "bad\x01key", true)
	f.Add([]byte(`{"type":"a"}`), "text/plain", "", false)
	f.Add([]byte(`{"type":`), "application/json", "", false)
	f.Add(bytes.Repeat([]byte(" "), 70), "application/json", strings.Repeat("k", 256), true)
	f.Add([]byte(`{"type":"a","webhook":{"url":"http://[::1]/","events":["job.x"]}}`), "application/json", "", false)
	// A small body limit, so the 413 path is reachable by the fuzzer.
	const maxBody = 64
	// The log is discarded: the fuzzer's logger must not be f's.
	s := newUnitServer(f, func(c *Config) { c.MaxBodyBytes = maxBody; c.Log = logr.Discard() })
	h := s.Handler()
	f.Fuzz(func(t *testing.T, body []byte, contentType, key string, sendKey bool) {
		r := httptest.NewRequest(http.MethodPost, "/v1/jobs", bytes.NewReader(body))
		r.Header.Set("Content-Type", contentType)
		if sendKey {
			r.Header["Idempotency-Key"] = []string{key}
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		p := expectProblem(t, w)

		// Which outcome the request deserves, derived independently of the handler's order.
		req, fieldErrs, decodeErr := decodeSubmitRequest(body)
		reachesStore := isJSON(contentType) && (!sendKey || validIdempotencyKey(key)) &&
			len(body) <= maxBody && decodeErr == nil && req.Type != ""
		switch {
		case reachesStore:
			if w.Code != http.StatusServiceUnavailable {
				t.Fatalf("a request that reaches the store answered %d %s", w.Code, p.Code)
			}
		case w.Code < 400 || w.Code > 499:
			t.Fatalf("an invalid request answered %d: %+v", w.Code, p)
		case len(fieldErrs) > 0 && decodeErr == nil && w.Code == http.StatusUnprocessableEntity && len(p.Errors) == 0:
			t.Fatalf("422 without field errors: %+v", p)
		}
	})
}

// expectProblem checks that w is an RFC 9457 problem whose status is the
// response's, with no internal error text, and returns it.
func expectProblem(t *testing.T, w *httptest.ResponseRecorder) problemDetails {
	t.Helper()
	if ct := w.Header().Get("Content-Type"); ct != problemMediaType {
		t.Fatalf("status %d with Content-Type %q, not a problem: %s", w.Code, ct, w.Body.Bytes())
	}
	var p problemDetails
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
		t.Fatalf("problem body %q: %v", w.Body.Bytes(), err)
	}
	if p.Status != w.Code || p.Type == "" || p.Title == "" || p.Code == "" {
		t.Fatalf("incomplete problem for %d: %+v", w.Code, p)
	}
	for _, leak := range internalErrorText {
		if strings.Contains(p.Detail, leak) {
			t.Fatalf("problem detail leaks internal text %q: %s", leak, p.Detail)
		}
	}
	return p
}

// internalErrorText is text of Go and client-go errors that must never reach
// a client.
var internalErrorText = []string{"127.0.0.1", "dial tcp", "connection refused", "json: ", "invalid character", "goroutine", "panic"}
