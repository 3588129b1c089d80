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
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
)

const (
	testJobID = "job-1"
	testToken = "s3cret-token"
)

// callbackServer stands in for the API server's worker callbacks: it records
// every request and answers as answer says (204 when answer is nil).
type callbackServer struct {
	*httptest.Server
	answer func(n int, r *http.Request, body []byte) int // n counts requests to r's path, from 1

	mu    sync.Mutex
	reqs  []recordedRequest
	count map[string]int
}

type recordedRequest struct {
	Method, Path, Auth, ContentType string
	Body                            []byte
}

func newCallbackServer(t *testing.T, answer func(n int, r *http.Request, body []byte) int) *callbackServer {
	t.Helper()
	s := &callbackServer{answer: answer, count: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.reqs = append(s.reqs, recordedRequest{r.Method, r.URL.Path, r.Header.Get("Authorization"), r.Header.Get("Content-Type"), body})
		s.count[r.URL.Path]++
		n := s.count[r.URL.Path]
		s.mu.Unlock()
		code := http.StatusNoContent
		if s.answer != nil {
			code = s.answer(n, r, body)
		}
		w.WriteHeader(code)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *callbackServer) requests() []recordedRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]recordedRequest(nil), s.reqs...)
}

// progress decodes the progress callbacks received, in order, checking that
// each is a POST to the job's progress path with its token.
func (s *callbackServer) progress(t *testing.T) []Progress {
	t.Helper()
	var out []Progress
	for _, r := range s.requests() {
		if r.Path != "/v1/jobs/"+testJobID+"/progress" {
			continue
		}
		if r.Method != http.MethodPost || r.Auth != "Bearer "+testToken || r.ContentType != "application/json" {
			t.Errorf("progress callback: got %s with Authorization %q and Content-Type %q, want POST with the job's bearer token and JSON", r.Method, r.Auth, r.ContentType)
		}
		var p Progress
		dec := json.NewDecoder(bytes.NewReader(r.Body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&p); err != nil {
			t.Errorf("progress body %s: %v", r.Body, err)
		}
		out = append(out, p)
	}
	return out
}

// results returns the bodies of the result callbacks received, checking that
// each is a PUT with the job's token.
func (s *callbackServer) results(t *testing.T) [][]byte {
	t.Helper()
	var out [][]byte
	for _, r := range s.requests() {
		if r.Path != "/v1/jobs/"+testJobID+"/result" {
			continue
		}
		if r.Method != http.MethodPut || r.Auth != "Bearer "+testToken || r.ContentType != "application/json" {
			t.Errorf("result callback: got %s with Authorization %q and Content-Type %q, want PUT with the job's bearer token and JSON", r.Method, r.Auth, r.ContentType)
		}
		out = append(out, r.Body)
	}
	return out
}

// syncBuffer is a bytes.Buffer safe for the entrypoint's copying goroutine
// and the test reading it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testRun is one Run's configuration and what it wrote.
type testRun struct {
	cfg            Config
	stdout, stderr *syncBuffer
	dir            string
}

// newTestRun configures a run of the shell script script (sh -c, with the
// run's own directory as $1) against srv (nil: callbacks not configured).
// Progress is sent at most once an hour, so that what reaches srv does not
// depend on timing: the first report at once, the latest when the command
// exits.
func newTestRun(t *testing.T, srv *callbackServer, script string) *testRun {
	t.Helper()
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte(testToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	term := filepath.Join(dir, "termination-log")
	if err := os.WriteFile(term, nil, 0o644); err != nil { // the kubelet creates it empty
		t.Fatal(err)
	}
	r := &testRun{stdout: &syncBuffer{}, stderr: &syncBuffer{}, dir: dir}
	r.cfg = Config{
		Command:          []string{"sh", "-c", script, "sh", dir},
		TokenFile:        tokenFile,
		TerminationLog:   term,
		ProgressInterval: time.Hour,
		FlushTimeout:     5 * time.Second,
		Stdout:           r.stdout,
		Stderr:           r.stderr,
		Log:              testr.New(t),
	}
	if srv != nil {
		r.cfg.CallbackURL, r.cfg.JobID = srv.URL, testJobID
	}
	return r
}

func (r *testRun) termination(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(r.cfg.TerminationLog)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// closedPort returns a base URL nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return "http://" + addr
}

// waitForFile waits until path exists. The bound only keeps a broken test
// from hanging the suite; it is no claim about speed.
func waitForFile(t *testing.T, path string) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(path); err == nil {
			return
		}
	}
	t.Fatalf("%s never appeared", path)
}
