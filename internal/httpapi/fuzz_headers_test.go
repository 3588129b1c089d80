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
	"strings"
	"testing"

	"github.com/google/uuid"
	"k8s.io/apimachinery/pkg/util/validation"
)

// FuzzIdempotencyKey: a key the API accepts becomes the AsyncJob's name, so it
// must map to a valid Kubernetes object name, the same one every time, and a
// different one for another tenant; a key it refuses is outside 1-255 visible
// ASCII characters.
func FuzzIdempotencyKey(f *testing.F) {
	for _, k := range []string{"k", "order-42", strings.Repeat("x", 255), strings.Repeat("x", 256), "", "tab\tkey", "é", " ", "~"} {
		f.Add(k)
	}
	f.Fuzz(func(t *testing.T, key string) {
		if !validIdempotencyKey(key) {
			if key != "" && len(key) <= maxIdempotencyKeyLength && !strings.ContainsFunc(key, func(r rune) bool { return r < 0x20 || r > 0x7e }) {
				t.Fatalf("refused a key of visible ASCII: %q", key)
			}
			return
		}
		id := jobIDForKey("acme", key)
		if msgs := validation.IsDNS1123Subdomain(id); len(msgs) > 0 {
			t.Fatalf("key %q -> job id %q is not an object name: %v", key, id, msgs)
		}
		if _, err := uuid.Parse(id); err != nil {
			t.Fatalf("key %q -> job id %q is not a UUID", key, id)
		}
		if jobIDForKey("acme", key) != id {
			t.Fatalf("key %q: job id not deterministic", key)
		}
		if jobIDForKey("other", key) == id {
			t.Fatalf("key %q: two tenants share a job id", key)
		}
	})
}

// FuzzIfNoneMatch: If-None-Match matches only "*" or a list holding the ETag
// (W/ or not: the weak comparison), and a list that ends with it always does.
func FuzzIfNoneMatch(f *testing.F) {
	const etag = `"0123456789abcdef0123456789abcdef"`
	for _, h := range []string{"", "*", etag, "W/" + etag, `"a", ` + etag, `"a",,"b"`, " * ", `W/`, `,`} {
		f.Add(h)
	}
	f.Fuzz(func(t *testing.T, header string) {
		if etagMatches(header, etag) && strings.TrimSpace(header) != "*" && !strings.Contains(header, etag) {
			t.Fatalf("%q matched an ETag it does not hold", header)
		}
		if etagMatches(header, `"other"`) && strings.TrimSpace(header) != "*" && !strings.Contains(header, `"other"`) {
			t.Fatalf("%q matched another ETag it does not hold", header)
		}
		if !etagMatches(header+","+etag, etag) {
			t.Fatalf("%q followed by the ETag does not match", header)
		}
	})
}

// FuzzBearerToken: the credential taken from Authorization is never empty,
// never carries the scheme or surrounding spaces, and only comes from the
// Bearer scheme (any case).
func FuzzBearerToken(f *testing.F) {
	for _, h := range []string{"Bearer abc", "bearer abc", "BEARER  abc ", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearerabc", "", " Bearer x", "Bearer a b"} {
		f.Add(h)
	}
	f.Fuzz(func(t *testing.T, header string) {
		r := &http.Request{Header: http.Header{"Authorization": {header}}}
		token, ok := bearerToken(r)
		if !ok {
			if token != "" {
				t.Fatalf("%q: refused but returned %q", header, token)
			}
			return
		}
		if token == "" || token != strings.TrimSpace(token) {
			t.Fatalf("%q: token %q", header, token)
		}
		if len(header) < 7 || !strings.EqualFold(header[:7], "bearer ") || !strings.HasSuffix(strings.TrimSpace(header), token) {
			t.Fatalf("%q: token %q does not come from a Bearer credential", header, token)
		}
	})
}
