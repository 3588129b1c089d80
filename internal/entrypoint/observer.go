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
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/go-logr/logr"
)

// Failure messages quote the last lines of the command's output.
const (
	tailLines     = 20
	tailLineBytes = 512
)

// observer reads the command's output lines (from both streams, concurrently)
// and keeps what the entrypoint needs from them: progress, the last JSON
// object line of stdout, and the last lines of each stream. Every method is
// cheap and never blocks on the network: progress goes to the reporter, which
// only stores it.
type observer struct {
	log      logr.Logger
	reporter *reporter // nil when callbacks are disabled

	mu            sync.Mutex
	ffmpeg        ffmpegProgress
	percent       int32 // the last percent reported, from either format
	lastJSON      []byte
	lastJSONLarge bool // the last JSON-looking line was longer than MaxResultBytes
	stdoutTail    tail
	stderrTail    tail
	warnedFormat  bool
}

func newObserver(log logr.Logger, r *reporter, ffmpegDuration time.Duration) *observer {
	o := &observer{log: log, reporter: r}
	o.ffmpeg.explicit = ffmpegDuration
	return o
}

func (o *observer) stdoutLine(line []byte, truncated bool) { o.line(line, truncated, true) }
func (o *observer) stderrLine(line []byte, truncated bool) { o.line(line, truncated, false) }

func (o *observer) line(line []byte, truncated, stdout bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	t := &o.stderrTail
	if stdout {
		t = &o.stdoutTail
	}
	if truncated {
		// Too long to be progress; it may be an oversize result.
		if stdout && bytes.HasPrefix(bytes.TrimLeft(line, " \t"), []byte("{")) {
			o.lastJSON, o.lastJSONLarge = o.lastJSON[:0], true
		}
		t.add(line)
		return
	}
	p, err := parseProgressLine(line)
	switch {
	case err == nil:
		o.report(p)
		return
	case err != errNotProgress:
		if !o.warnedFormat { // once: the command's own output must stay readable
			o.warnedFormat = true
			o.log.Info("Ignoring a malformed progress line", "error", err.Error(), "line", clip(string(line), 200))
		}
		return
	}
	if p, ok := o.ffmpeg.line(line, o.percent); ok {
		o.report(p)
		return
	}
	if stdout {
		if trimmed := bytes.TrimSpace(line); len(trimmed) >= 2 && trimmed[0] == '{' && trimmed[len(trimmed)-1] == '}' && json.Valid(trimmed) {
			o.lastJSON, o.lastJSONLarge = append(o.lastJSON[:0], trimmed...), false
		}
	}
	t.add(line)
}

func (o *observer) report(p Progress) {
	o.percent = p.Percent
	if o.reporter != nil {
		o.reporter.set(p)
	}
}

// result returns the last JSON object line of stdout, or large when that line
// was longer than MaxResultBytes; nil when there was none.
func (o *observer) result() (line []byte, large bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.lastJSON) == 0 {
		return nil, o.lastJSONLarge
	}
	return bytes.Clone(o.lastJSON), false
}

// lastLines returns the last lines of stderr, or of stdout when stderr had none.
func (o *observer) lastLines() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.stderrTail.lines) > 0 {
		return o.stderrTail.ordered()
	}
	return o.stdoutTail.ordered()
}

// tail keeps the last tailLines lines, each cut to tailLineBytes.
type tail struct {
	lines []string
	next  int
}

func (t *tail) add(line []byte) {
	if len(line) > tailLineBytes+utf8.UTFMax {
		line = line[:tailLineBytes+utf8.UTFMax]
	}
	s := clip(strings.TrimRight(string(line), " \t"), tailLineBytes)
	if s == "" {
		return
	}
	if len(t.lines) < tailLines {
		t.lines = append(t.lines, s)
		return
	}
	t.lines[t.next] = s
	t.next = (t.next + 1) % tailLines
}

func (t *tail) ordered() []string {
	return append(append([]string(nil), t.lines[t.next:]...), t.lines[:t.next]...)
}
