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
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/asyncjob/asyncjob/test/framework"
)

// TestResponsesLeakNoVersions: answers of every kind (success, problem, 404,
// 405, 503, 500 from a panic) carry no Server, X-Powered-By or version header,
// and nothing of the Go or gin version in any header.
func TestResponsesLeakNoVersions(t *testing.T) {
	s := newUnitServer(t)
	s.engine.GET("/test-panic", func(*gin.Context) { panic("boom: internal detail") })
	// A plain client: the conformance check would refuse the test-only route.
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	c := &http.Client{}
	for _, tc := range []struct {
		method, path string
		status       int
	}{
		{http.MethodGet, "/healthz", http.StatusOK},
		{http.MethodGet, "/openapi.json", http.StatusOK},
		{http.MethodGet, "/nope", http.StatusNotFound},
		{http.MethodPut, "/v1/jobs", http.StatusMethodNotAllowed},
		{http.MethodGet, "/v1/jobs/6f1c6c1e-4f0e-4a53-9a8e-2b8f0f0f7a21", http.StatusServiceUnavailable},
		{http.MethodGet, "/test-panic", http.StatusInternalServerError},
	} {
		r := doUnit(t, c, tc.method, srv.URL+tc.path).expect(t, tc.status)
		for _, h := range []string{"Server", "X-Powered-By", "X-AspNet-Version", "X-Runtime"} {
			if v := r.Header.Get(h); v != "" {
				t.Errorf("%s %s: %s: %q", tc.method, tc.path, h, v)
			}
		}
		for name, values := range r.Header {
			for _, v := range values {
				for _, leak := range []string{runtime.Version(), "gin", "Go-http", "golang"} {
					if strings.Contains(strings.ToLower(v), strings.ToLower(leak)) {
						t.Errorf("%s %s: header %s: %q leaks %q", tc.method, tc.path, name, v, leak)
					}
				}
			}
		}
		if tc.status >= 400 && strings.Contains(string(r.body), "internal detail") {
			t.Errorf("%s %s: internal error text in %s", tc.method, tc.path, r.body)
		}
	}
}

// TestHeaderSizeLimit: Serve refuses a header section above maxHeaderBytes
// with 431, and serves one just under it.
func TestHeaderSizeLimit(t *testing.T) {
	s := newUnitServer(t)
	for _, tc := range []struct {
		size   int
		status int
	}{
		{maxHeaderBytes / 2, http.StatusOK},
		{maxHeaderBytes + 4096, http.StatusRequestHeaderFieldsTooLarge},
	} {
		conn := serveRaw(t, s.Handler(), defaultServerTimeouts)
		_, err := fmt.Fprintf(conn, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: %s\r\nConnection: close\r\n\r\n", strings.Repeat("a", tc.size))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("%d-byte header: status %d, want %d", tc.size, resp.StatusCode, tc.status)
		}
	}
}

// TestDocsStateHeaderLimit: docs/api.md gives maxHeaderBytes.
func TestDocsStateHeaderLimit(t *testing.T) {
	md, err := os.ReadFile(filepath.Join(framework.RepoRoot(), "docs", "api.md"))
	if err != nil {
		t.Fatal(err)
	}
	md = bytes.Join(bytes.Fields(md), []byte(" "))
	if want := fmt.Sprintf("headers are limited to %d KiB", maxHeaderBytes>>10); !bytes.Contains(md, []byte(want)) {
		t.Errorf("docs/api.md does not say %q", want)
	}
}
