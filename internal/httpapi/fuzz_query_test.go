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
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
)

// parseQuery runs parseListQuery on GET /v1/jobs?rawQuery.
func parseQuery(rawQuery string) (listFilter, error) {
	c, _ := gin.CreateTestContext(httptest.NewRecorder())
	c.Request = &http.Request{Method: http.MethodGet, URL: &url.URL{Path: "/v1/jobs", RawQuery: rawQuery}}
	return parseListQuery(c)
}

// FuzzListQuery: any query string of GET /v1/jobs either parses into a
// bounded filter or is refused with a 400 invalid-query or invalid-page-token
// problem; a page token the server issues for a parsed filter is accepted with
// that same query.
func FuzzListQuery(f *testing.F) {
	valid := pageToken{Version: pageTokenVersion, Created: 1763900000, Name: "6f1c6c1e-4f0e-4a53-9a8e-2b8f0f0f7a21"}
	for _, s := range []string{
		"", "limit=5", "limit=0", "limit=1000", "limit=-1", "limit=1e3",
		"status=PENDING,RUNNING&status=FAILED", "status=pending", "type=convert&type=x",
		"label=project%3Dx&label=project%3Dx", "label=project%3Dx&label=project%3Dy", "label=noequals",
		"pageToken=" + valid.encode(), "pageToken=!!", "pageToken=e30", "unknown=1", "%zz", "limit=5;x=1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, rawQuery string) {
		filter, err := parseQuery(rawQuery)
		if err != nil {
			var ae *apiError
			if !errors.As(err, &ae) || (ae.kind != problemInvalidQuery && ae.kind != problemInvalidPageToken) {
				t.Fatalf("?%s: error %v is not a 400 query problem", rawQuery, err)
			}
			return
		}
		if filter.limit < 1 || filter.limit > maxPageSize {
			t.Fatalf("?%s: limit %d outside [1, %d]", rawQuery, filter.limit, maxPageSize)
		}
		if errs := validateLabels(filter.labels); len(filter.labels) <= maxLabels && len(errs) > 0 {
			t.Fatalf("?%s: accepted invalid label filters %v", rawQuery, errs)
		}
		// The next page's request: the same query with the token the server
		// would hand out for it.
		q, _ := url.ParseQuery(rawQuery)
		tok := pageToken{Version: pageTokenVersion, Created: 1, Name: "x", Filter: filter.fingerprint()}
		q.Set(queryPageToken, tok.encode())
		next, err := parseQuery(q.Encode())
		if err != nil {
			t.Fatalf("?%s: the next page's query was refused: %v", rawQuery, err)
		}
		if next.fingerprint() != filter.fingerprint() || next.token == nil || *next.token != tok {
			t.Fatalf("?%s: the next page's filter differs", rawQuery)
		}
	})
}

// FuzzPageToken: decoding any string never panics; what decodes is a token
// this API could have issued, and re-encodes to a string that decodes the same.
func FuzzPageToken(f *testing.F) {
	for _, tok := range []pageToken{
		{Version: pageTokenVersion, Created: 1763900000, Name: "6f1c6c1e-4f0e-4a53-9a8e-2b8f0f0f7a21", Filter: "0123456789abcdef"},
		{Version: pageTokenVersion, Created: -1, Name: "a"},
		{Version: 2, Name: "x"},
		{Version: pageTokenVersion},
	} {
		f.Add(tok.encode())
	}
	for _, s := range []string{"", "!!", "e30", "bnVsbA", "eyJ2IjoxLCJuIjoieCJ9", "eyJ2IjoxLCJuIjoieCIsIm4iOiIifQ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tok, ok := decodePageToken(s)
		if !ok {
			return
		}
		if tok.Version != pageTokenVersion || tok.Name == "" {
			t.Fatalf("%q decoded to a token the API never issues: %+v", s, tok)
		}
		again, ok := decodePageToken(tok.encode())
		if !ok || again != tok {
			t.Fatalf("%q: %+v re-encoded decodes to %+v, %v", s, tok, again, ok)
		}
	})
}

// FuzzPageTokenEncode: every token the server can issue (a job name and a
// filter fingerprint, which are valid UTF-8) decodes to itself and is URL-safe.
func FuzzPageTokenEncode(f *testing.F) {
	f.Add(int64(1763900000), "6f1c6c1e-4f0e-4a53-9a8e-2b8f0f0f7a21", "0123456789abcdef")
	f.Add(int64(-62135596800), "a", "")
	f.Fuzz(func(t *testing.T, created int64, name, filter string) {
		if name == "" || !utf8.ValidString(name) || !utf8.ValidString(filter) {
			return // never issued
		}
		tok := pageToken{Version: pageTokenVersion, Created: created, Name: name, Filter: filter}
		s := tok.encode()
		if url.QueryEscape(s) != s {
			t.Fatalf("token %q is not URL-safe", s)
		}
		got, ok := decodePageToken(s)
		if !ok || got != tok {
			t.Fatalf("%+v decoded to %+v, %v", tok, got, ok)
		}
	})
}
