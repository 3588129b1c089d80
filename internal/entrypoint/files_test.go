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
	"crypto/rand"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// newFilesRun configures a run against api with the job's files: inputs
// downloaded into <dir>/inputs, outputs matching patterns (relative ones
// against <dir>/outputs) uploaded. $ASYNCJOB_OUTPUTS_DIR is set for the
// command as the controller sets it.
func newFilesRun(t *testing.T, api *workerAPI, script string, inputs []string, patterns ...string) *testRun {
	t.Helper()
	r := newTestRun(t, nil, script)
	r.cfg.CallbackURL, r.cfg.JobID = api.URL, testJobID
	r.cfg.InputsDir = filepath.Join(r.dir, "inputs")
	r.cfg.OutputsDir = filepath.Join(r.dir, "outputs")
	r.cfg.Inputs = inputs
	for _, p := range patterns {
		if !filepath.IsAbs(p) {
			p = filepath.Join(r.cfg.OutputsDir, p)
		}
		r.cfg.Outputs = append(r.cfg.Outputs, p)
	}
	r.cfg.TransferRetry = 10 * time.Second
	t.Setenv(EnvOutputsDir, r.cfg.OutputsDir)
	t.Setenv(EnvInputsDir, r.cfg.InputsDir)
	return r
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// leftovers lists what is in dir besides want: a download leaves no
// temporary file behind.
func leftovers(t *testing.T, dir string, want ...string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var extra []string
	for _, e := range entries {
		if !strings.Contains(" "+strings.Join(want, " ")+" ", " "+e.Name()+" ") {
			extra = append(extra, e.Name())
		}
	}
	return extra
}

// TestFilesInAndOut: the inputs are downloaded into the inputs directory,
// whole, before the command starts there; what it writes to the outputs
// directory is uploaded with its bytes and media type before Run returns,
// and its result is still kept.
func TestFilesInAndOut(t *testing.T) {
	clip := randomBytes(t, 3<<20+17) // several reads, not a multiple of any buffer
	api := newWorkerAPI(t, map[string][]byte{"clip.mov": clip, "notes.txt": []byte("hello\n")})
	r := newFilesRun(t, api, `set -e
pwd > "$ASYNCJOB_OUTPUTS_DIR/pwd.txt"
cat notes.txt notes.txt > "$ASYNCJOB_OUTPUTS_DIR/twice.txt"
cp clip.mov "$ASYNCJOB_OUTPUTS_DIR/clip.webm"
: > "$ASYNCJOB_OUTPUTS_DIR/empty.bin"
mkdir "$ASYNCJOB_OUTPUTS_DIR/subdir"
echo '{"ok":true}'`, []string{"clip.mov", "notes.txt"}, "*")

	if code := Run(context.Background(), r.cfg); code != 0 {
		t.Fatalf("exit code %d, want 0; termination message %q", code, r.termination(t))
	}
	if got := r.termination(t); got != `{"ok":true}` {
		t.Errorf("termination message %q, want the result", got)
	}
	for name, want := range map[string]struct {
		body        []byte
		contentType string
	}{
		"pwd.txt":   {[]byte(r.cfg.InputsDir + "\n"), "text/plain; charset=utf-8"},
		"twice.txt": {[]byte("hello\nhello\n"), "text/plain; charset=utf-8"},
		"clip.webm": {clip, "video/webm"},
		"empty.bin": {nil, "application/octet-stream"},
	} {
		got, ok := api.output(name)
		switch {
		case !ok:
			t.Errorf("output %s was not uploaded", name)
		case !bytes.Equal(got.body, want.body):
			t.Errorf("output %s: %d bytes uploaded, not the %d the command wrote", name, len(got.body), len(want.body))
		case got.contentType != want.contentType:
			t.Errorf("output %s: Content-Type %q, want %q", name, got.contentType, want.contentType)
		case got.contentLength != int64(len(want.body)):
			t.Errorf("output %s: Content-Length %d, want %d (streamed with its length, not chunked)", name, got.contentLength, len(want.body))
		}
	}
	if diff := cmp.Diff([]string{"clip.webm", "empty.bin", "pwd.txt", "twice.txt"}, api.outputNames()); diff != "" {
		t.Errorf("outputs (-want +got), the directory is not one:\n%s", diff)
	}
	for name, want := range map[string][]byte{"clip.mov": clip, "notes.txt": []byte("hello\n")} {
		if got, err := os.ReadFile(filepath.Join(r.cfg.InputsDir, name)); err != nil || !bytes.Equal(got, want) {
			t.Errorf("input %s: %d bytes, %v; want the %d served", name, len(got), err, len(want))
		}
	}
	if extra := leftovers(t, r.cfg.InputsDir, "clip.mov", "notes.txt"); extra != nil {
		t.Errorf("the inputs directory also holds %v", extra)
	}
	if got := api.requests("/inputs/clip.mov", "/inputs/notes.txt"); len(got) != 2 {
		t.Errorf("input requests %v, want one each", got)
	}
}

// TestInputDigestMismatch: content that does not match its ETag is not kept
// and fails the job at once (no retry: the same bytes would come again),
// without running the command.
func TestInputDigestMismatch(t *testing.T) {
	api := newWorkerAPI(t, map[string][]byte{"clip.mov": []byte("not what was uploaded")})
	api.etag["clip.mov"] = `"` + strings.Repeat("ab", 32) + `"`
	r := newFilesRun(t, api, `: > "$1/ran"`, []string{"clip.mov"})
	if code := Run(context.Background(), r.cfg); code != ExitFiles {
		t.Errorf("exit code %d, want %d", code, ExitFiles)
	}
	msg := r.termination(t)
	for _, want := range []string{"asyncjob-entrypoint: could not download the input clip.mov: ", "SHA-256", "not the " + strings.Repeat("ab", 32), "the command did not run"} {
		if !strings.Contains(msg, want) {
			t.Errorf("termination message %q does not say %q", msg, want)
		}
	}
	if _, err := os.Stat(filepath.Join(r.dir, "ran")); err == nil {
		t.Error("the command ran")
	}
	if extra := leftovers(t, r.cfg.InputsDir); extra != nil {
		t.Errorf("the inputs directory holds %v, want nothing", extra)
	}
	if got := api.requests("/inputs/clip.mov"); len(got) != 1 {
		t.Errorf("requests %v, want one", got)
	}
}

// TestInputRefused: an input the API does not serve (404), or a token it
// refuses (401), fails the job at once, without running the command.
func TestInputRefused(t *testing.T) {
	for _, tc := range []struct {
		name, token, why string
	}{
		{"not found", testToken, "404 Not Found (no such input)"},
		{"bad token", "another-jobs-token", "401 Unauthorized (a valid worker token is required)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api := newWorkerAPI(t, map[string][]byte{"other.mov": []byte("x")})
			input := "clip.mov"
			if tc.token != testToken {
				input = "other.mov"
			}
			r := newFilesRun(t, api, `: > "$1/ran"`, []string{input})
			if err := os.WriteFile(r.cfg.TokenFile, []byte(tc.token), 0o600); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			if code := Run(context.Background(), r.cfg); code != ExitFiles {
				t.Errorf("exit code %d, want %d", code, ExitFiles)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %v: a refusal is not retried", d)
			}
			if msg, want := r.termination(t), "could not download the input "+input+": the API answered "+tc.why+"; the command did not run"; !strings.Contains(msg, want) {
				t.Errorf("termination message %q, want it to say %q", msg, want)
			}
			if strings.Contains(r.termination(t), tc.token) || strings.Contains(r.stderr.String(), tc.token) {
				t.Error("the token is in the termination message or the log")
			}
			if _, err := os.Stat(filepath.Join(r.dir, "ran")); err == nil {
				t.Error("the command ran")
			}
		})
	}
}

// TestTransientFailuresAreRetried: a 503 (with Retry-After) and a 429 on the
// download and on the upload are retried; the job then succeeds with the
// right bytes.
func TestTransientFailuresAreRetried(t *testing.T) {
	api := newWorkerAPI(t, map[string][]byte{"clip.mov": []byte("input bytes")})
	api.fault = func(r *http.Request, n int) int {
		switch {
		case n == 1:
			return http.StatusServiceUnavailable
		case n == 2 && r.Method == http.MethodPut:
			return http.StatusTooManyRequests
		}
		return 0
	}
	r := newFilesRun(t, api, `cat clip.mov clip.mov > "$ASYNCJOB_OUTPUTS_DIR/out.bin"`, []string{"clip.mov"}, "out.bin")
	if code := Run(context.Background(), r.cfg); code != 0 {
		t.Fatalf("exit code %d, want 0; termination message %q", code, r.termination(t))
	}
	want := []string{
		"GET /v1/jobs/job-1/inputs/clip.mov 503", "GET /v1/jobs/job-1/inputs/clip.mov 200",
		"PUT /v1/jobs/job-1/outputs/out.bin 503", "PUT /v1/jobs/job-1/outputs/out.bin 429", "PUT /v1/jobs/job-1/outputs/out.bin 201",
	}
	if diff := cmp.Diff(want, api.requests("/inputs/clip.mov", "/outputs/out.bin")); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	if got, _ := api.output("out.bin"); string(got.body) != "input bytesinput bytes" {
		t.Errorf("uploaded %q", got.body)
	}
}

// TestUnreachableAPIGivesUp: with nothing listening, a download is retried
// for TransferRetry, then fails the job.
func TestUnreachableAPIGivesUp(t *testing.T) {
	api := newWorkerAPI(t, nil)
	r := newFilesRun(t, api, `: > "$1/ran"`, []string{"clip.mov"})
	r.cfg.CallbackURL = closedPort(t)
	r.cfg.TransferRetry = 1500 * time.Millisecond
	start := time.Now()
	if code := Run(context.Background(), r.cfg); code != ExitFiles {
		t.Errorf("exit code %d, want %d", code, ExitFiles)
	}
	if d := time.Since(start); d < r.cfg.TransferRetry || d > r.cfg.TransferRetry+30*time.Second {
		t.Errorf("gave up after %v, want about %v (and at most one backoff delay more)", d, r.cfg.TransferRetry)
	}
	if msg, want := r.termination(t), "asyncjob-entrypoint: could not download the input clip.mov: the API could not be reached; the command did not run"; msg != want {
		t.Errorf("termination message %q, want %q", msg, want)
	}
	if strings.Contains(r.termination(t), "127.0.0.1") {
		t.Error("the termination message names the API's address")
	}
	if _, err := os.Stat(filepath.Join(r.dir, "ran")); err == nil {
		t.Error("the command ran")
	}
}

// TestOutputTooLarge: the API refuses an output (413): the job fails with a
// message naming the file and the API's reason, no result is kept, and the
// refusal is not retried.
func TestOutputTooLarge(t *testing.T) {
	api := newWorkerAPI(t, nil)
	api.maxOutputBytes = 1 << 20
	r := newFilesRun(t, api, `head -c 3000000 /dev/zero > "$ASYNCJOB_OUTPUTS_DIR/big.webm"; echo '{"ok":true}'`, nil, "*.webm")
	if code := Run(context.Background(), r.cfg); code != ExitFiles {
		t.Errorf("exit code %d, want %d", code, ExitFiles)
	}
	want := "asyncjob-entrypoint: could not upload the output " + filepath.Join(r.cfg.OutputsDir, "big.webm") + ": the API answered 413 Request Entity Too Large (an output may have at most 1048576 bytes)"
	if msg := r.termination(t); msg != want {
		t.Errorf("termination message %q, want %q", msg, want)
	}
	if got := api.requests("/outputs/big.webm"); len(got) != 1 {
		t.Errorf("requests %v, want one", got)
	}
	if names := api.outputNames(); names != nil {
		t.Errorf("stored %v", names)
	}
}

// TestNoUploadsWhenTheCommandFails: a failed command's files are not
// outputs; the failure is reported as without files.
func TestNoUploadsWhenTheCommandFails(t *testing.T) {
	api := newWorkerAPI(t, nil)
	r := newFilesRun(t, api, `echo partial > "$ASYNCJOB_OUTPUTS_DIR/out.txt"; echo "it broke" >&2; exit 3`, nil, "*", "out.txt")
	if code := Run(context.Background(), r.cfg); code != 3 {
		t.Errorf("exit code %d, want 3", code)
	}
	if got := r.termination(t); got != "sh exited with code 3\nit broke" {
		t.Errorf("termination message %q", got)
	}
	if got := api.requests("/outputs/out.txt"); got != nil {
		t.Errorf("requests %v, want none", got)
	}
}

// TestOutputPatterns: a glob that matches nothing is no error; a literal
// path that is missing, or not a regular file, is, and so are outputs
// that cannot be artifacts (two of one name, an input's name, an invalid
// name). None of them uploads anything.
func TestOutputPatterns(t *testing.T) {
	t.Run("glob without matches", func(t *testing.T) {
		api := newWorkerAPI(t, nil)
		r := newFilesRun(t, api, `echo '{"ok":true}'`, nil, "*.webm", "/nonexistent/*")
		if code := Run(context.Background(), r.cfg); code != 0 {
			t.Fatalf("exit code %d, want 0; termination message %q", code, r.termination(t))
		}
		if got := r.termination(t); got != `{"ok":true}` {
			t.Errorf("termination message %q, want the result", got)
		}
		if got := api.requests(); got != nil {
			t.Errorf("requests %v, want none", got)
		}
	})
	for _, tc := range []struct {
		name, script string
		inputs       []string
		patterns     []string
		why          string
	}{
		{"missing literal", `:`, nil, []string{"out.webm"}, "the output OUT/out.webm was not produced"},
		{"literal directory", `mkdir "$ASYNCJOB_OUTPUTS_DIR/d"`, nil, []string{"d"}, "the output OUT/d is not a regular file"},
		{"same name twice", `mkdir "$ASYNCJOB_OUTPUTS_DIR/d"; : > "$ASYNCJOB_OUTPUTS_DIR/a.txt"; : > "$ASYNCJOB_OUTPUTS_DIR/d/a.txt"`, nil, []string{"*.txt", "d/*.txt"}, "the outputs OUT/a.txt and OUT/d/a.txt have the same name a.txt"},
		{"an input's name", `cp clip.mov "$ASYNCJOB_OUTPUTS_DIR/"`, []string{"clip.mov"}, []string{"*"}, "the output OUT/clip.mov has the name of an input"},
		{"invalid name", `: > "$ASYNCJOB_OUTPUTS_DIR/a b.txt"`, nil, []string{"*"}, `the output OUT/a b.txt: invalid artifact name "a b.txt"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api := newWorkerAPI(t, map[string][]byte{"clip.mov": []byte("x")})
			r := newFilesRun(t, api, tc.script, tc.inputs, tc.patterns...)
			if code := Run(context.Background(), r.cfg); code != ExitFiles {
				t.Errorf("exit code %d, want %d", code, ExitFiles)
			}
			want := "asyncjob-entrypoint: " + strings.ReplaceAll(tc.why, "OUT", r.cfg.OutputsDir)
			if msg := r.termination(t); !strings.HasPrefix(msg, want) {
				t.Errorf("termination message %q, want it to start with %q", msg, want)
			}
			if got := api.requests("/outputs/a.txt", "/outputs/clip.mov", "/outputs/a b.txt"); got != nil {
				t.Errorf("requests %v, want none", got)
			}
		})
	}
}

// TestFilesNeedCallbacks: a job with files and no callbacks fails before
// its command runs, as does an output pattern that is not one.
func TestFilesNeedCallbacks(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Config)
		why  string
	}{
		{"no callback URL", func(c *Config) { c.CallbackURL = "" }, "callbacks are disabled"},
		{"bad pattern", func(c *Config) { c.Outputs = []string{"/out/[a"} }, `ASYNCJOB_OUTPUTS: "/out/[a" is not a path pattern`},
		{"bad input name", func(c *Config) { c.Inputs = []string{"../etc/passwd"} }, `ASYNCJOB_INPUTS: invalid artifact name "../etc/passwd"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api := newWorkerAPI(t, map[string][]byte{"clip.mov": []byte("x")})
			r := newFilesRun(t, api, `: > "$1/ran"`, []string{"clip.mov"}, "*")
			tc.edit(&r.cfg)
			if code := Run(context.Background(), r.cfg); code != ExitUsage {
				t.Errorf("exit code %d, want %d", code, ExitUsage)
			}
			if msg := r.termination(t); !strings.Contains(msg, tc.why) {
				t.Errorf("termination message %q, want it to say %q", msg, tc.why)
			}
			if _, err := os.Stat(filepath.Join(r.dir, "ran")); err == nil {
				t.Error("the command ran")
			}
			if got := api.requests(); got != nil {
				t.Errorf("requests %v, want none", got)
			}
		})
	}
}

// TestSignalWhileDownloading: the kubelet's SIGTERM (a cancelled job)
// during a download ends it at once, as it would have ended the command,
// which then never runs.
func TestSignalWhileDownloading(t *testing.T) {
	api := newWorkerAPI(t, map[string][]byte{"clip.mov": []byte("x")})
	requested, release := make(chan struct{}), make(chan struct{})
	t.Cleanup(func() { close(release) }) // before the server closes
	api.fault = func(r *http.Request, _ int) int {
		close(requested)
		select { // an API that never answers
		case <-r.Context().Done():
		case <-release:
		}
		return http.StatusServiceUnavailable
	}
	r := newFilesRun(t, api, `: > "$1/ran"`, []string{"clip.mov"})
	done := make(chan int)
	go func() { done <- Run(context.Background(), r.cfg) }()
	<-requested // Run has registered for signals before it downloads
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-done:
		if got != 128+15 {
			t.Errorf("exit code %d, want 143", got)
		}
	case <-time.After(time.Minute): // only keeps a broken test from hanging
		t.Fatal("the signal did not end the download")
	}
	if msg, want := r.termination(t), "asyncjob-entrypoint: stopped by signal 15 (terminated) while downloading the inputs; the command did not run"; msg != want {
		t.Errorf("termination message %q, want %q", msg, want)
	}
	if _, err := os.Stat(filepath.Join(r.dir, "ran")); err == nil {
		t.Error("the command ran")
	}
}

// TestCorruptedUploadIsSentAgain: the API's answer shows it stored other
// bytes than were sent; the entrypoint uploads the file again.
func TestCorruptedUploadIsSentAgain(t *testing.T) {
	api := newWorkerAPI(t, nil)
	api.corruptOnce = true
	r := newFilesRun(t, api, `printf 'the output' > "$ASYNCJOB_OUTPUTS_DIR/out.txt"`, nil, "out.txt")
	if code := Run(context.Background(), r.cfg); code != 0 {
		t.Fatalf("exit code %d, want 0; termination message %q", code, r.termination(t))
	}
	if got := api.requests("/outputs/out.txt"); len(got) != 2 {
		t.Errorf("requests %v, want two", got)
	}
	if got, _ := api.output("out.txt"); string(got.body) != "the output" {
		t.Errorf("stored %q", got.body)
	}
}

// TestRelativeOutputPattern: a relative pattern is taken from the command's
// working directory, the inputs directory.
func TestRelativeOutputPattern(t *testing.T) {
	api := newWorkerAPI(t, map[string][]byte{"clip.mov": []byte("x")})
	r := newFilesRun(t, api, `echo here > made-here.txt`, []string{"clip.mov"})
	r.cfg.Outputs = []string{"made-*.txt"}
	if code := Run(context.Background(), r.cfg); code != 0 {
		t.Fatalf("exit code %d, want 0; termination message %q", code, r.termination(t))
	}
	if got, ok := api.output("made-here.txt"); !ok || string(got.body) != "here\n" {
		t.Errorf("made-here.txt: %q, %v", got.body, ok)
	}
}

// TestNoFilesNeedNoCallbacks: the controller sets ASYNCJOB_INPUTS and
// ASYNCJOB_OUTPUTS to [] for a job without files; such a job runs without
// callbacks as before.
func TestNoFilesNeedNoCallbacks(t *testing.T) {
	cfg, err := ConfigFromEnv(func(k string) string {
		return map[string]string{EnvInputs: "[]", EnvOutputs: "[]"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	r := newTestRun(t, nil, `echo '{"ok":true}'`)
	r.cfg.Inputs, r.cfg.Outputs = cfg.Inputs, cfg.Outputs
	if code := Run(context.Background(), r.cfg); code != 0 {
		t.Fatalf("exit code %d, want 0; termination message %q", code, r.termination(t))
	}
	if got := r.termination(t); got != `{"ok":true}` {
		t.Errorf("termination message %q, want the result", got)
	}
}
