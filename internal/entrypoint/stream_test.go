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
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
)

type seenLine struct {
	Line      string
	Truncated bool
}

func TestCopyLines(t *testing.T) {
	in := "first\r\nredrawn 1\rredrawn 2\r\n\n" + strings.Repeat("x", 10) + "\nlast, unterminated"
	var dst bytes.Buffer
	var got []seenLine
	// One byte per read: lines must survive being split across reads.
	copyLines(iotest.OneByteReader(strings.NewReader(in)), &dst, 8, func(line []byte, truncated bool) {
		got = append(got, seenLine{string(line), truncated})
	})
	if dst.String() != in {
		t.Errorf("copied %q, want the input unchanged", dst.String())
	}
	want := []seenLine{
		{"first", false},
		{"redrawn ", true}, // 9 bytes: cut to 8, reported once
		{"redrawn ", true},
		{"xxxxxxxx", true},
		{"last, un", true},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("lines (-want +got):\n%s", diff)
	}

	got = nil
	copyLines(strings.NewReader("a\rb\nc"), &dst, 100, func(line []byte, truncated bool) {
		got = append(got, seenLine{string(line), truncated})
	})
	if diff := cmp.Diff([]seenLine{{"a", false}, {"b", false}, {"c", false}}, got); diff != "" {
		t.Errorf("lines (-want +got):\n%s", diff)
	}
}

// failingWriter fails every write, like a stdout whose reader went away.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, iotest.ErrTimeout }

func TestCopyLinesKeepsReadingWhenTheCopyFails(t *testing.T) {
	var got []string
	copyLines(strings.NewReader("one\ntwo\n"), failingWriter{}, 100, func(line []byte, _ bool) {
		got = append(got, string(line))
	})
	if diff := cmp.Diff([]string{"one", "two"}, got); diff != "" {
		t.Errorf("lines (-want +got):\n%s", diff)
	}
}
