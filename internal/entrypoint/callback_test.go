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
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestUnreachableCallback: nothing listens at the callback URL. The command
// runs, its output flows, it ends with its own exit code, and the entrypoint
// gives up on the last progress report after FlushTimeout.
func TestUnreachableCallback(t *testing.T) {
	for _, tc := range []struct {
		name, script, termination string
		code                      int
	}{
		{"failure", `echo "::progress 50 half"; echo out; echo "it broke" >&2; exit 3`, "sh exited with code 3\nit broke", 3},
		{"success", `echo "::progress 50 half"; echo out; echo '{"ok": true}'`, `{"ok":true}`, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newTestRun(t, nil, tc.script)
			r.cfg.CallbackURL, r.cfg.JobID = closedPort(t), testJobID
			r.cfg.FlushTimeout = 500 * time.Millisecond
			if code := Run(context.Background(), r.cfg); code != tc.code {
				t.Errorf("exit code %d, want %d", code, tc.code)
			}
			if !strings.Contains(r.stdout.String(), "::progress 50 half\nout\n") {
				t.Errorf("stdout %q", r.stdout.String())
			}
			if got := r.termination(t); got != tc.termination {
				t.Errorf("termination message %q, want %q", got, tc.termination)
			}
		})
	}
}

// TestSlowCallbackNeverBlocksTheCommand: the callback never answers. The
// command's output still flows and the command ends as it would alone.
func TestSlowCallbackNeverBlocksTheCommand(t *testing.T) {
	release := make(chan struct{})
	srv := newCallbackServer(t, func(_ int, r *http.Request, _ []byte) int {
		select {
		case <-release:
		case <-r.Context().Done():
		}
		return http.StatusNoContent
	})
	t.Cleanup(func() { close(release) }) // before the server closes
	r := newTestRun(t, srv, `i=0; while [ $i -lt 2000 ]; do echo "::progress $((i / 20)) at $i"; echo "output $i" >&2; i=$((i+1)); done; exit 5`)
	r.cfg.FlushTimeout = 500 * time.Millisecond
	if code := Run(context.Background(), r.cfg); code != 5 {
		t.Errorf("exit code %d, want 5", code)
	}
	if n := strings.Count(r.stdout.String(), "\n"); n != 2000 {
		t.Errorf("%d stdout lines, want 2000", n)
	}
	if n := strings.Count(r.stderr.String(), "\n"); n != 2000 {
		t.Errorf("%d stderr lines, want 2000", n)
	}
}

func TestProgressRetries(t *testing.T) {
	for _, tc := range []struct {
		name     string
		first    int // the answer to the first attempt; later ones get 204
		attempts int
	}{
		{"400 is not retried", http.StatusBadRequest, 1},
		{"422 is not retried", http.StatusUnprocessableEntity, 1},
		{"413 is not retried", http.StatusRequestEntityTooLarge, 1},
		{"408 is retried", http.StatusRequestTimeout, 2},
		{"429 is retried", http.StatusTooManyRequests, 2},
		{"500 is retried", http.StatusInternalServerError, 2},
		{"503 is retried", http.StatusServiceUnavailable, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newCallbackServer(t, func(n int, _ *http.Request, _ []byte) int {
				if n == 1 {
					return tc.first
				}
				return http.StatusNoContent
			})
			r := newTestRun(t, srv, `echo "::progress 50 half"`)
			if code := Run(context.Background(), r.cfg); code != 0 {
				t.Errorf("exit code %d: a progress callback must never fail the job", code)
			}
			got := srv.progress(t)
			if len(got) != tc.attempts {
				t.Fatalf("%d attempts, want %d", len(got), tc.attempts)
			}
			for _, p := range got {
				if diff := cmp.Diff(Progress{Percent: 50, Step: "half"}, p); diff != "" {
					t.Errorf("progress (-want +got):\n%s", diff)
				}
			}
		})
	}
}

// TestProgressStopsWhenTheJobRefusesIt: once the callback says the token or
// the job is no longer valid, later reports are not sent.
func TestProgressStopsWhenTheJobRefusesIt(t *testing.T) {
	for _, code := range []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusConflict, http.StatusGone} {
		t.Run(http.StatusText(code), func(t *testing.T) {
			var r *testRun
			srv := newCallbackServer(t, func(int, *http.Request, []byte) int {
				_ = os.WriteFile(filepath.Join(r.dir, "refused"), nil, 0o644)
				return code
			})
			r = newTestRun(t, srv, `echo "::progress 10"; while [ ! -f "$1/refused" ]; do sleep 0.01; done; echo "::progress 20"`)
			if exit := Run(context.Background(), r.cfg); exit != 0 {
				t.Errorf("exit code %d: a progress callback must never fail the job", exit)
			}
			if diff := cmp.Diff([]int32{10}, percents(srv.progress(t))); diff != "" {
				t.Errorf("percents sent (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCallbacksDisabled(t *testing.T) {
	for _, tc := range []struct {
		name      string
		configure func(*Config)
	}{
		{"no URL", func(c *Config) { c.CallbackURL = "" }},
		{"no job id", func(c *Config) { c.JobID = "" }},
		{"no token file", func(c *Config) { c.TokenFile = filepath.Join(t.TempDir(), "missing") }},
		{"empty token file", func(c *Config) {
			c.TokenFile = filepath.Join(t.TempDir(), "empty")
			_ = os.WriteFile(c.TokenFile, []byte("\n"), 0o600)
		}},
		{"not a URL", func(c *Config) { c.CallbackURL = "asyncjob-api:8080" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newCallbackServer(t, nil)
			r := newTestRun(t, srv, `echo "::progress 50"; echo '{"small": 1}'`)
			tc.configure(&r.cfg)
			if code := Run(context.Background(), r.cfg); code != 0 {
				t.Errorf("exit code %d", code)
			}
			if reqs := srv.requests(); len(reqs) != 0 {
				t.Errorf("%d callbacks made, want none", len(reqs))
			}
			if got := r.termination(t); got != `{"small":1}` {
				t.Errorf("termination message %q: a small result needs no callback", got)
			}
		})
	}
}

func TestCallbackURLWithAPathPrefix(t *testing.T) {
	srv := newCallbackServer(t, nil)
	r := newTestRun(t, srv, `echo "::progress 50"`)
	r.cfg.CallbackURL = srv.URL + "/asyncjob/"
	r.cfg.JobID = "job/with?odd#chars"
	if code := Run(context.Background(), r.cfg); code != 0 {
		t.Errorf("exit code %d", code)
	}
	reqs := srv.requests()
	if len(reqs) == 0 || reqs[0].Path != "/asyncjob/v1/jobs/job/with?odd#chars/progress" {
		t.Errorf("requests %+v, want one to /asyncjob/v1/jobs/{escaped id}/progress", reqs)
	}
}
