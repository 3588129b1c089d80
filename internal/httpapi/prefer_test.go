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
	"net/http"
	"strconv"
	"testing"
)

// TestPreferredWait: RFC 7240 parsing of wait: case-insensitive token, among
// other preferences and parameters, first occurrence wins, clamped to 60,
// anything malformed ignored.
func TestPreferredWait(t *testing.T) {
	for _, tc := range []struct {
		values []string
		want   int
	}{
		{nil, 0},
		{[]string{"wait=10"}, 10},
		{[]string{"WAIT=10"}, 10},
		{[]string{"wait = 10"}, 10},
		{[]string{`wait="10"`}, 10},
		{[]string{"respond-async, wait=5"}, 5},
		{[]string{"respond-async", "wait=7"}, 7},
		{[]string{"wait=7;foo=bar, handling=strict"}, 7},
		{[]string{"wait=3, wait=9"}, 3},
		{[]string{"wait=3", "wait=9"}, 3},
		{[]string{`foo="a,wait=9", wait=4`}, 4},
		{[]string{"wait=60"}, 60},
		{[]string{"wait=61"}, 60},
		{[]string{"wait=99999999999999999999999"}, 60},
		{[]string{"wait=0005"}, 5},
		{[]string{"wait=0"}, 0},
		{[]string{"wait="}, 0},
		{[]string{"wait"}, 0},
		{[]string{"wait=-5"}, 0},
		{[]string{"wait=5s"}, 0},
		{[]string{"wait=1.5"}, 0},
		{[]string{`wait="5`}, 0},
		{[]string{"wa it=5"}, 0},
		{[]string{"waiting=5"}, 0},
	} {
		h := http.Header{}
		for _, v := range tc.values {
			h.Add(headerPrefer, v)
		}
		if got := preferredWait(h); got != tc.want {
			t.Errorf("Prefer %q: wait %d, want %d", tc.values, got, tc.want)
		}
	}
}

// FuzzPrefer: any Prefer header parses without panicking to a wait in
// [0, 60], and a plain wait=N among other preferences is read as N clamped.
func FuzzPrefer(f *testing.F) {
	for _, s := range []string{"wait=10", "respond-async, wait=5", `a="x,y";b, WAIT = 3`, "wait=\"", "\\\"", ",,;;==", "wait=99999999999999999999"} {
		f.Add(s, uint8(7))
	}
	f.Fuzz(func(t *testing.T, v string, n uint8) {
		h := http.Header{headerPrefer: {v}}
		if w := preferredWait(h); w < 0 || w > maxWaitSeconds {
			t.Fatalf("Prefer %q: wait %d", v, w)
		}
		h = http.Header{headerPrefer: {"wait=" + strconv.Itoa(int(n)), v}}
		if w := preferredWait(h); w != min(int(n), maxWaitSeconds) {
			t.Fatalf("Prefer wait=%d then %q: wait %d", n, v, w)
		}
	})
}
