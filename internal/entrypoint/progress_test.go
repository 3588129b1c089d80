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
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestLineProgressReachesTheCallback(t *testing.T) {
	srv := newCallbackServer(t, nil)
	script := `echo "starting"
echo "::progress 10 download: a.mov"
echo "::progress 150 out of range"
echo "a log line" >&2
echo "::progress 60 transcode: frame 1200/2600"
echo "done"`
	r := newTestRun(t, srv, script)
	if code := Run(context.Background(), r.cfg); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	// The output is passed through untouched, progress lines included.
	if want := "starting\n::progress 10 download: a.mov\n::progress 150 out of range\n::progress 60 transcode: frame 1200/2600\ndone\n"; r.stdout.String() != want {
		t.Errorf("stdout %q, want %q", r.stdout.String(), want)
	}
	if want := "a log line\n"; r.stderr.String() != want {
		t.Errorf("stderr %q, want %q", r.stderr.String(), want)
	}
	got := srv.progress(t)
	// The first report goes out at once, the last when the command exits;
	// with an hour's interval nothing else may come in between.
	if len(got) == 0 || len(got) > 2 {
		t.Fatalf("%d progress callbacks, want 1 or 2: %+v", len(got), got)
	}
	if diff := cmp.Diff(Progress{Percent: 60, Step: "transcode", Message: "frame 1200/2600"}, got[len(got)-1]); diff != "" {
		t.Errorf("last progress (-want +got):\n%s", diff)
	}
	for _, p := range got {
		if p.Percent == 150 {
			t.Errorf("an out-of-range progress line was sent: %+v", p)
		}
	}
}

func TestLineProgressOnStderr(t *testing.T) {
	srv := newCallbackServer(t, nil)
	r := newTestRun(t, srv, `echo "::progress 70 on stderr" >&2`)
	if code := Run(context.Background(), r.cfg); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	if diff := cmp.Diff([]Progress{{Percent: 70, Step: "on stderr"}}, srv.progress(t)); diff != "" {
		t.Errorf("progress (-want +got):\n%s", diff)
	}
}

func TestProgressIsCoalesced(t *testing.T) {
	srv := newCallbackServer(t, nil)
	// 5050 distinct reports, as fast as sh prints them.
	script := `i=0; while [ $i -le 100 ]; do j=0; while [ $j -lt 50 ]; do echo "::progress $i step $i: line $j"; j=$((j+1)); done; i=$((i+1)); done`
	r := newTestRun(t, srv, script)
	if code := Run(context.Background(), r.cfg); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	if n := strings.Count(r.stdout.String(), "\n"); n != 5050 {
		t.Errorf("%d lines of output passed through, want 5050", n)
	}
	got := srv.progress(t)
	if len(got) == 0 || len(got) > 2 {
		t.Fatalf("%d progress callbacks for 5050 reports, want 1 or 2 (the first, and the last at exit)", len(got))
	}
	if diff := cmp.Diff(Progress{Percent: 100, Step: "step 100", Message: "line 49"}, got[len(got)-1]); diff != "" {
		t.Errorf("last progress (-want +got):\n%s", diff)
	}
}

func TestProgressIntervalLetsLaterReportsThrough(t *testing.T) {
	srv := newCallbackServer(t, nil)
	// Each report waits until the callback has the one before, so with no
	// interval every one of them must be sent.
	script := `for p in 10 20 30; do echo "::progress $p"; while [ ! -f "$1/got-$p" ]; do sleep 0.01; done; done`
	var r *testRun
	srv.answer = func(_ int, _ *http.Request, body []byte) int {
		var p Progress
		_ = json.Unmarshal(body, &p)
		_ = os.WriteFile(filepath.Join(r.dir, fmt.Sprintf("got-%d", p.Percent)), nil, 0o644)
		return http.StatusNoContent
	}
	r = newTestRun(t, srv, script)
	r.cfg.ProgressInterval = 0
	if code := Run(context.Background(), r.cfg); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	if diff := cmp.Diff([]int32{10, 20, 30}, percents(srv.progress(t))); diff != "" {
		t.Errorf("percents sent (-want +got):\n%s", diff)
	}
}

func TestFFmpegProgressThroughRun(t *testing.T) {
	srv := newCallbackServer(t, nil)
	fixtures, err := filepath.Abs(filepath.Join("testdata", "ffmpeg"))
	if err != nil {
		t.Fatal(err)
	}
	r := newTestRun(t, srv, `cat "$2/progress-stderr.txt" >&2; cat "$2/progress-stdout.txt"`)
	r.cfg.Command = append(r.cfg.Command, fixtures)
	r.cfg.FFmpegDuration = 4 * time.Second // the two streams race; an explicit duration does not
	if code := Run(context.Background(), r.cfg); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	want, _ := os.ReadFile(filepath.Join(fixtures, "progress-stdout.txt"))
	if r.stdout.String() != string(want) {
		t.Errorf("stdout was not passed through unchanged")
	}
	got := srv.progress(t)
	if len(got) == 0 {
		t.Fatal("no progress callback")
	}
	if diff := cmp.Diff(Progress{Percent: 100, Step: "ffmpeg", Message: "00:00:04.01 of 00:00:04.00, frame 100, speed 0.994x"}, got[len(got)-1]); diff != "" {
		t.Errorf("last progress (-want +got):\n%s", diff)
	}
}

// TestOutputIsCopiedLive: a line (and a partial line) reaches the
// entrypoint's stdout while the command is still running, not at its end.
func TestOutputIsCopiedLive(t *testing.T) {
	r := newTestRun(t, newCallbackServer(t, nil), `echo "::progress 5 waiting"; printf 'line one\nprompt> '; while [ ! -f "$1/go-on" ]; do sleep 0.01; done; echo rest`)
	done := make(chan int)
	go func() { done <- Run(context.Background(), r.cfg) }()
	for deadline := time.Now().Add(time.Minute); !strings.HasSuffix(r.stdout.String(), "prompt> "); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("stdout so far %q: the command's output is held back", r.stdout.String())
		}
	}
	if err := os.WriteFile(filepath.Join(r.dir, "go-on"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if code := <-done; code != 0 {
		t.Fatalf("exit code %d", code)
	}
	if want := "::progress 5 waiting\nline one\nprompt> rest\n"; r.stdout.String() != want {
		t.Errorf("stdout %q, want %q", r.stdout.String(), want)
	}
}
