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
	"strings"
)

// maxWaitSeconds bounds Prefer: wait=N; larger values are clamped to it.
const maxWaitSeconds = 60

// The headers of RFC 7240.
const (
	headerPrefer            = "Prefer"
	headerPreferenceApplied = "Preference-Applied"
)

// preferredWait is the client's Prefer: wait=N in seconds (RFC 7240 4.3),
// clamped to maxWaitSeconds; 0 when there is none or it is malformed, which
// RFC 7240 section 2 says to ignore rather than refuse.
func preferredWait(h http.Header) int {
	v, ok := preferences(h.Values(headerPrefer))["wait"]
	if !ok || !allDigits(v) {
		return 0
	}
	v = strings.TrimLeft(v, "0")
	if len(v) > 2 { // clamp without overflowing
		return maxWaitSeconds
	}
	n, _ := strconv.Atoi(v) // "" (all zeros) is 0
	return min(n, maxWaitSeconds)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// preferences parses Prefer field values (RFC 7240 section 2):
//
//	preference = token [ BWS "=" BWS word ] *( OWS ";" [ OWS parameter ] )
//
// into lowercased token -> value (quotes removed), parameters dropped. Only a
// token's first occurrence counts; an element that does not parse is skipped.
func preferences(values []string) map[string]string {
	out := map[string]string{}
	for _, v := range values {
		for _, elem := range splitOutsideQuotes(v, ',') {
			pref := splitOutsideQuotes(elem, ';')[0]
			name, val, hasVal := strings.Cut(pref, "=")
			name = strings.ToLower(strings.TrimSpace(name))
			if !isToken(name) {
				continue
			}
			if hasVal {
				var ok bool
				if val, ok = word(strings.TrimSpace(val)); !ok {
					continue
				}
			}
			if _, seen := out[name]; !seen {
				out[name] = val
			}
		}
	}
	return out
}

// word is a token or a quoted-string (RFC 9110 5.6.2, 5.6.4), unquoted.
func word(s string) (string, bool) {
	if !strings.HasPrefix(s, `"`) {
		return s, isToken(s)
	}
	if len(s) < 2 || !strings.HasSuffix(s, `"`) {
		return "", false
	}
	var b strings.Builder
	inner := s[1 : len(s)-1]
	for i := 0; i < len(inner); i++ {
		switch ch := inner[i]; {
		case ch == '\\' && i+1 < len(inner):
			i++
			b.WriteByte(inner[i])
		case ch == '"' || ch == '\\':
			return "", false
		default:
			b.WriteByte(ch)
		}
	}
	return b.String(), true
}

// splitOutsideQuotes splits s at sep where sep is not inside a quoted-string.
func splitOutsideQuotes(s string, sep byte) []string {
	var parts []string
	quoted, start := false, 0
	for i := 0; i < len(s); i++ {
		switch {
		case quoted && s[i] == '\\':
			i++
		case s[i] == '"':
			quoted = !quoted
		case !quoted && s[i] == sep:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}

// isToken reports whether s is an RFC 9110 token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}
