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
	"net/url"
	"testing"
	"time"
)

func TestPageTokenRoundTrip(t *testing.T) {
	tok := pageToken{Version: pageTokenVersion, Created: 1763900000, Name: "6f1c6c1e-4f0e-4a53-9a8e-2b8f0f0f7a21", Filter: "abc"}
	s := tok.encode()
	if url.QueryEscape(s) != s {
		t.Errorf("%q is not URL-safe", s)
	}
	got, ok := decodePageToken(s)
	if !ok || got != tok {
		t.Errorf("decoded %+v, %v", got, ok)
	}
	for _, bad := range []string{"", "!!", "e30", pageToken{Version: 2, Name: "x"}.encode(), pageToken{Version: 1}.encode()} {
		if _, ok := decodePageToken(bad); ok {
			t.Errorf("accepted %q", bad)
		}
	}
}

func TestPageTokenAfter(t *testing.T) {
	tok := pageToken{Created: 100, Name: "m"}
	at := func(sec int64) time.Time { return time.Unix(sec, 0) }
	cases := []struct {
		created int64
		name    string
		want    bool
	}{
		{99, "z", true},   // older
		{101, "a", false}, // newer: inserted after the page was served
		{100, "l", true},  // same second, later in name order
		{100, "m", false}, // the token's own item
		{100, "n", false},
	}
	for _, tc := range cases {
		if got := tok.after(at(tc.created), tc.name); got != tc.want {
			t.Errorf("after(%d, %s) = %v", tc.created, tc.name, got)
		}
	}
}
