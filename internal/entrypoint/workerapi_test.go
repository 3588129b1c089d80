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

package entrypoint

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/asyncjob/asyncjob/internal/artifact"
)

// workerAPI is the API server's worker routes for one job, as
// docs/worker-contract.md and CONTRACT-12 describe them, over a real HTTP
// server: the job's bearer token on every route (401 otherwise, alike for
// another job), inputs served with a strong ETag of their SHA-256 (and
// Range, If-None-Match through http.ServeContent), outputs stored from the
// PUT body up to a limit (413 beyond), refused with 409 for a finished job
// or an input's name, answered 201 with the Artifact. fault, when set, may
// answer a request first (a transient failure).
type workerAPI struct {
	*httptest.Server
	maxOutputBytes int64

	mu       sync.Mutex
	inputs   map[string][]byte
	etag     map[string]string // an ETag to announce instead of the true one
	outputs  map[string]storedOutput
	finished bool
	log      []string // "METHOD /path CODE", in order
	fault    func(r *http.Request, n int) int
	count    map[string]int
	// corruptOnce damages the first stored copy of each output (a bit
	// flipped on the way), and says so in its answer's sha256.
	corruptOnce bool
	corrupted   map[string]bool
}

type storedOutput struct {
	body          []byte
	contentType   string
	contentLength int64 // -1: chunked
}

func newWorkerAPI(t *testing.T, inputs map[string][]byte) *workerAPI {
	t.Helper()
	a := &workerAPI{maxOutputBytes: 1 << 30, inputs: inputs, etag: map[string]string{}, outputs: map[string]storedOutput{}, count: map[string]int{}, corrupted: map[string]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/jobs/{id}/inputs/{name}", a.getInput)
	mux.HandleFunc("PUT /v1/jobs/{id}/outputs/{name}", a.putOutput)
	mux.HandleFunc("POST /v1/jobs/{id}/progress", func(w http.ResponseWriter, r *http.Request) { a.answer(w, r, http.StatusNoContent, "") })
	mux.HandleFunc("PUT /v1/jobs/{id}/result", func(w http.ResponseWriter, r *http.Request) { a.answer(w, r, http.StatusNoContent, "") })
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		a.count[r.Method+" "+r.URL.Path]++
		n, fault := a.count[r.Method+" "+r.URL.Path], a.fault
		a.mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer "+testToken {
			mux.ServeHTTP(w, r) // 401: a fault never answers a request without the token
			return
		}
		if fault != nil {
			if code := fault(r, n); code != 0 {
				if code == http.StatusServiceUnavailable || code == http.StatusTooManyRequests {
					w.Header().Set("Retry-After", "1")
				}
				a.problem(w, r, code, "injected")
				return
			}
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(a.Close)
	return a
}

// authorized checks the job's token and that the route is the job's.
func (a *workerAPI) authorized(w http.ResponseWriter, r *http.Request) bool {
	if r.Header.Get("Authorization") != "Bearer "+testToken || r.PathValue("id") != testJobID {
		a.problem(w, r, http.StatusUnauthorized, "a valid worker token is required")
		return false
	}
	return true
}

func (a *workerAPI) getInput(w http.ResponseWriter, r *http.Request) {
	if !a.authorized(w, r) {
		return
	}
	name := r.PathValue("name")
	a.mu.Lock()
	body, ok := a.inputs[name]
	etag := a.etag[name]
	a.mu.Unlock()
	if !ok {
		a.problem(w, r, http.StatusNotFound, "no such input")
		return
	}
	if etag == "" {
		sum := sha256.Sum256(body)
		etag = `"` + hex.EncodeToString(sum[:]) + `"`
	}
	w.Header().Set("ETag", etag)
	w.Header().Set("Content-Type", "application/octet-stream")
	a.record(r, http.StatusOK)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

func (a *workerAPI) putOutput(w http.ResponseWriter, r *http.Request) {
	if !a.authorized(w, r) {
		return
	}
	name := r.PathValue("name")
	if err := artifact.ValidName(name); err != nil {
		a.problem(w, r, http.StatusBadRequest, "invalid artifact name")
		return
	}
	a.mu.Lock()
	_, isInput := a.inputs[name]
	finished := a.finished
	a.mu.Unlock()
	switch {
	case finished:
		a.problem(w, r, http.StatusConflict, "the job is finished")
		return
	case isInput:
		a.problem(w, r, http.StatusConflict, "the name is an input's")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, a.maxOutputBytes+1))
	switch {
	case err != nil:
		return // the client went away; nothing is stored
	case int64(len(body)) > a.maxOutputBytes:
		a.problem(w, r, http.StatusRequestEntityTooLarge, fmt.Sprintf("an output may have at most %d bytes", a.maxOutputBytes))
		return
	}
	a.mu.Lock()
	if a.corruptOnce && !a.corrupted[name] && len(body) > 0 {
		a.corrupted[name] = true
		body[0] ^= 1
	}
	a.mu.Unlock()
	sum := sha256.Sum256(body)
	art := map[string]any{"name": name, "size": len(body), "sha256": hex.EncodeToString(sum[:]), "contentType": r.Header.Get("Content-Type")}
	a.mu.Lock()
	a.outputs[name] = storedOutput{body: body, contentType: r.Header.Get("Content-Type"), contentLength: r.ContentLength}
	a.mu.Unlock()
	a.record(r, http.StatusCreated)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(art)
}

func (a *workerAPI) answer(w http.ResponseWriter, r *http.Request, code int, _ string) {
	if !a.authorized(w, r) {
		return
	}
	_, _ = io.Copy(io.Discard, r.Body)
	a.record(r, code)
	w.WriteHeader(code)
}

func (a *workerAPI) problem(w http.ResponseWriter, r *http.Request, code int, detail string) {
	a.record(r, code)
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]any{"type": "about:blank", "title": http.StatusText(code), "status": code, "detail": detail})
}

func (a *workerAPI) record(r *http.Request, code int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.log = append(a.log, fmt.Sprintf("%s %s %d", r.Method, r.URL.Path, code))
}

// requests returns the log of the requests to paths under the job's prefix
// whose path is one of paths (all when none).
func (a *workerAPI) requests(paths ...string) []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for _, l := range a.log {
		for _, p := range paths {
			if bytes.Contains([]byte(l), []byte(" /v1/jobs/"+testJobID+p+" ")) {
				out = append(out, l)
			}
		}
		if len(paths) == 0 {
			out = append(out, l)
		}
	}
	return out
}

func (a *workerAPI) output(name string) (storedOutput, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	o, ok := a.outputs[name]
	return o, ok
}

func (a *workerAPI) outputNames() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var names []string
	for n := range a.outputs {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
