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
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// bigJSON is a JSON object of about n bytes.
func bigJSON(n int) string {
	return `{"data":"` + strings.Repeat("a", n-11) + `"}`
}

func TestSmallResults(t *testing.T) {
	for _, tc := range []struct {
		name, script string
		resultFile   bool // configure $1/result.json as the result file
		want         string
	}{
		{"last JSON object line of stdout", `echo '{"first": 1}'; echo '{"b": 2}'; echo '{broken'; echo '[1, 2]'; echo 'done'; echo '{"err": 1}' >&2`, false, `{"b":2}`},
		{"result file wins over stdout", `echo '{"from": "file"}' > "$1/result.json"; echo '{"from": "stdout"}'`, true, `{"from":"file"}`},
		{"result file pretty-printed is compacted", `printf '{\n  "a": [1, 2],\n  "b": "x y"\n}\n' > "$1/result.json"`, true, `{"a":[1,2],"b":"x y"}`},
		{"result file may hold any JSON", `echo '"just a string"' > "$1/result.json"`, true, `"just a string"`},
		{"result file missing: stdout", `echo '{"from": "stdout"}'`, true, `{"from":"stdout"}`},
		{"result file empty: stdout", `: > "$1/result.json"; echo '{"from": "stdout"}'`, true, `{"from":"stdout"}`},
		{"no result", `echo 'plain text'`, false, ``},
		{"exactly the limit", `echo '` + bigJSON(MaxTerminationResultBytes) + `'`, false, bigJSON(MaxTerminationResultBytes)},
		{"command wrote its own termination message", `echo 'done by hand' > "$1/termination-log"; echo '{"ignored": true}'`, false, "done by hand\n"},
		{"result file wins over the command's termination message", `echo 'by hand' > "$1/termination-log"; echo '{"f": 1}' > "$1/result.json"`, true, `{"f":1}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newCallbackServer(t, nil)
			r := newTestRun(t, srv, tc.script)
			if tc.resultFile {
				r.cfg.ResultFile = filepath.Join(r.dir, "result.json")
			}
			if code := Run(context.Background(), r.cfg); code != 0 {
				t.Fatalf("exit code %d; termination message %q", code, r.termination(t))
			}
			if got := r.termination(t); got != tc.want {
				t.Errorf("termination message %.200q, want %.200q", got, tc.want)
			}
			if puts := srv.results(t); len(puts) != 0 {
				t.Errorf("%d result uploads for a small result, want none", len(puts))
			}
		})
	}
}

func TestLargeResultsGoToTheResultCallback(t *testing.T) {
	big := bigJSON(200 << 10)
	for _, tc := range []struct {
		name, script string
		resultFile   bool
	}{
		{"from the result file", `cp "$1/big.json" "$1/result.json"`, true},
		{"from stdout", `echo 'log line'; cat "$1/big.json"; echo; echo 'bye'`, false},
		{"just over the termination limit", `cat "$1/big.json"`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := big
			if strings.HasPrefix(tc.name, "just over") {
				want = bigJSON(MaxTerminationResultBytes + 1)
			}
			srv := newCallbackServer(t, nil)
			r := newTestRun(t, srv, tc.script)
			if err := os.WriteFile(filepath.Join(r.dir, "big.json"), []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
			if tc.resultFile {
				r.cfg.ResultFile = filepath.Join(r.dir, "result.json")
			}
			if code := Run(context.Background(), r.cfg); code != 0 {
				t.Fatalf("exit code %d; termination message %q", code, r.termination(t))
			}
			puts := srv.results(t)
			if len(puts) != 1 || string(puts[0]) != want {
				t.Fatalf("%d result uploads, want one with the %d-byte result", len(puts), len(want))
			}
			if got := r.termination(t); got != "" {
				t.Errorf("termination message %.100q, want none: the result went to the callback", got)
			}
		})
	}
}

func TestResultUploadRetries(t *testing.T) {
	srv := newCallbackServer(t, func(n int, r *http.Request, _ []byte) int {
		if n == 1 {
			return http.StatusServiceUnavailable
		}
		return http.StatusNoContent
	})
	r := newTestRun(t, srv, `printf '%s\n' "$2"`)
	r.cfg.Command = append(r.cfg.Command, bigJSON(10<<10))
	if code := Run(context.Background(), r.cfg); code != 0 {
		t.Fatalf("exit code %d; termination message %q", code, r.termination(t))
	}
	if puts := srv.results(t); len(puts) != 2 {
		t.Errorf("%d result uploads, want 2 (a 503, then success)", len(puts))
	}
}

// Results that cannot be kept fail the job, saying why in the termination
// message, although the command succeeded.
func TestResultsThatCannotBeKept(t *testing.T) {
	for _, tc := range []struct {
		name, script string
		resultFile   bool
		callbacks    string // "ok", "none", "closed" or an HTTP status
		message      string // the termination message contains it
		uploads      int
	}{
		{"result file is not JSON", `echo 'not json' > "$1/result.json"`, true, "ok", "result.json is not valid JSON", 0},
		{"larger than the limit, in a file", `head -c 1100000 /dev/zero | tr '\0' 'a' | sed 's/^/"/; s/$/"/' > "$1/result.json"`, true, "ok", "more than the 1048576 a result may have", 0},
		{"larger than the limit, on stdout", `printf '{"a":"'; head -c 1100000 /dev/zero | tr '\0' 'a'; echo '"}'`, false, "ok", "the last JSON line of stdout has more than the 1048576 bytes", 0},
		{"large, callbacks not configured", `printf '%s\n' "$2"`, false, "none", "no result callback is configured", 0},
		{"large, callback unreachable", `printf '%s\n' "$2"`, false, "closed", "could not upload the result (10240 bytes) to the result callback: it could not be reached", 0},
		{"large, callback refuses", `printf '%s\n' "$2"`, false, "413", "could not upload the result (10240 bytes) to the result callback: the callback answered 413 Request Entity Too Large", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newCallbackServer(t, func(int, *http.Request, []byte) int {
				if tc.callbacks == "413" {
					return http.StatusRequestEntityTooLarge
				}
				return http.StatusNoContent
			})
			r := newTestRun(t, srv, tc.script)
			r.cfg.Command = append(r.cfg.Command, bigJSON(10<<10))
			r.cfg.FlushTimeout = time.Second
			switch tc.callbacks {
			case "none":
				r.cfg.CallbackURL = ""
			case "closed":
				r.cfg.CallbackURL = closedPort(t)
			}
			if tc.resultFile {
				r.cfg.ResultFile = filepath.Join(r.dir, "result.json")
			}
			if code := Run(context.Background(), r.cfg); code != ExitResult {
				t.Errorf("exit code %d, want %d", code, ExitResult)
			}
			got := r.termination(t)
			if !strings.HasPrefix(got, "asyncjob-entrypoint: ") || !strings.Contains(got, tc.message) {
				t.Errorf("termination message %q, want one that says %q", got, tc.message)
			}
			if len(got) > MaxFailureMessageBytes {
				t.Errorf("termination message of %d bytes", len(got))
			}
			if puts := srv.results(t); len(puts) != tc.uploads {
				t.Errorf("%d result uploads, want %d", len(puts), tc.uploads)
			}
		})
	}
}

func TestFailureMessage(t *testing.T) {
	t.Run("last lines of stderr", func(t *testing.T) {
		r := newTestRun(t, nil, `echo 'to stdout'; echo 'opening input' >&2; echo '::progress 30 no progress lines in the reason' >&2; echo 'input.mov: No such file or directory' >&2; exit 1`)
		if code := Run(context.Background(), r.cfg); code != 1 {
			t.Errorf("exit code %d, want 1", code)
		}
		if got, want := r.termination(t), "sh exited with code 1\nopening input\ninput.mov: No such file or directory"; got != want {
			t.Errorf("termination message %q, want %q", got, want)
		}
	})
	t.Run("stdout when stderr is empty", func(t *testing.T) {
		r := newTestRun(t, nil, `echo 'error: bad input'; exit 2`)
		if code := Run(context.Background(), r.cfg); code != 2 {
			t.Errorf("exit code %d, want 2", code)
		}
		if got, want := r.termination(t), "sh exited with code 2\nerror: bad input"; got != want {
			t.Errorf("termination message %q, want %q", got, want)
		}
	})
	t.Run("much output is cut to fit, newest kept", func(t *testing.T) {
		r := newTestRun(t, nil, `i=0; while [ $i -lt 1000 ]; do printf 'line %04d %0300d\n' $i 0 >&2; i=$((i+1)); done; exit 9`)
		if code := Run(context.Background(), r.cfg); code != 9 {
			t.Errorf("exit code %d, want 9", code)
		}
		got := r.termination(t)
		if len(got) > MaxFailureMessageBytes {
			t.Errorf("termination message of %d bytes, more than %d", len(got), MaxFailureMessageBytes)
		}
		lines := strings.Split(got, "\n")
		if lines[0] != "sh exited with code 9" || !strings.HasPrefix(lines[len(lines)-1], "line 0999 ") {
			t.Errorf("termination message starts %q and ends %q; want the summary first and the last line last", lines[0], lines[len(lines)-1])
		}
		if len(lines) < 5 {
			t.Errorf("only %d lines kept", len(lines)-1)
		}
	})
	t.Run("a very long line is cut", func(t *testing.T) {
		r := newTestRun(t, nil, `head -c 100000 /dev/zero | tr '\0' 'x' >&2; exit 1`)
		if code := Run(context.Background(), r.cfg); code != 1 {
			t.Errorf("exit code %d, want 1", code)
		}
		if got, want := r.termination(t), "sh exited with code 1\n"+strings.Repeat("x", tailLineBytes); got != want {
			t.Errorf("termination message of %d bytes, want the summary and the line cut to %d bytes", len(got), tailLineBytes)
		}
	})
	t.Run("the command's own message is kept", func(t *testing.T) {
		r := newTestRun(t, nil, `echo 'quota exceeded for tenant x' > "$1/termination-log"; echo noise >&2; exit 4`)
		if code := Run(context.Background(), r.cfg); code != 4 {
			t.Errorf("exit code %d, want 4", code)
		}
		if got, want := r.termination(t), "quota exceeded for tenant x\n"; got != want {
			t.Errorf("termination message %q, want %q", got, want)
		}
	})
}

func TestFailureMessageFits(t *testing.T) {
	summary := "sh exited with code 1"
	var lines []string
	for i := range 20 {
		lines = append(lines, fmt.Sprintf("%02d %s", i, bytes.Repeat([]byte("é"), 250)))
	}
	got := failureMessage(summary, lines)
	if len(got) > MaxFailureMessageBytes || !strings.HasPrefix(got, summary+"\n") || !strings.HasSuffix(got, lines[19]) {
		t.Errorf("failureMessage: %d bytes, starts %.30q, ends %.10q", len(got), got, got[len(got)-10:])
	}
	if got := failureMessage(summary, nil); got != summary {
		t.Errorf("failureMessage with no lines = %q", got)
	}
}

func TestTerminationLogUnwritable(t *testing.T) {
	r := newTestRun(t, nil, `echo '{"a": 1}'`)
	r.cfg.TerminationLog = filepath.Join(r.dir, "no", "such", "dir")
	if code := Run(context.Background(), r.cfg); code != ExitResult {
		t.Errorf("exit code %d, want %d: a result that cannot be written is lost", code, ExitResult)
	}
	if _, err := os.Stat(r.cfg.TerminationLog); err == nil {
		t.Error("a termination log appeared")
	}
}
