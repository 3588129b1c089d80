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
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseProgressLine(t *testing.T) {
	long := strings.Repeat("é", 200) // 400 bytes
	for _, tc := range []struct {
		line string
		want Progress
	}{
		{"::progress 45", Progress{Percent: 45}},
		{"::progress 45%", Progress{Percent: 45}},
		{"::progress 0", Progress{Percent: 0}},
		{"::progress 100", Progress{Percent: 100}},
		{"::progress 99.9 almost", Progress{Percent: 99, Step: "almost"}},
		{"::progress 45 transcoding", Progress{Percent: 45, Step: "transcoding"}},
		{"::progress 45 transcoding frame 1200/2600", Progress{Percent: 45, Step: "transcoding frame 1200/2600"}},
		{"::progress 45 transcoding: frame 1200/2600", Progress{Percent: 45, Step: "transcoding", Message: "frame 1200/2600"}},
		{"::progress 45 : frame 1200/2600", Progress{Percent: 45, Message: "frame 1200/2600"}},
		{"::progress 10 fetching: http://example.com/a.mov: 3 of 9 MB", Progress{Percent: 10, Step: "fetching", Message: "http://example.com/a.mov: 3 of 9 MB"}},
		{"::progress 10 see http://example.com/a", Progress{Percent: 10, Step: "see http://example.com/a"}},
		{"::progress\t7\t  upload  :  part 2  ", Progress{Percent: 7, Step: "upload", Message: "part 2"}},
		{"::progress 5 ::", Progress{Percent: 5, Step: "::"}},
		{"::progress 5 " + long + ": " + long + long + long, Progress{Percent: 5, Step: strings.Repeat("é", 128), Message: strings.Repeat("é", 512)}},
		{"::progress 5 bad \xff byte", Progress{Percent: 5, Step: "bad \uFFFD byte"}},
	} {
		got, err := parseProgressLine([]byte(tc.line))
		if err != nil {
			t.Errorf("%q: %v", tc.line, err)
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%q (-want +got):\n%s", tc.line, diff)
		}
	}
}

func TestParseProgressLineRejects(t *testing.T) {
	for _, line := range []string{"::progress", "::progress ", "::progress 101", "::progress -1", "::progress abc",
		"::progress 1e2", "::progress 50%%", "::progress . dot", "::progress 1.2.3", "::progress NaN", "::progress 45,5"} {
		if _, err := parseProgressLine([]byte(line)); err == nil || err == errNotProgress {
			t.Errorf("%q: got %v, want a malformed-progress error", line, err)
		}
	}
	for _, line := range []string{"::progressive 40", "progress 40", " ::progress 40", "::PROGRESS 40", "", "45"} {
		if _, err := parseProgressLine([]byte(line)); err != errNotProgress {
			t.Errorf("%q: got %v, want errNotProgress", line, err)
		}
	}
}
