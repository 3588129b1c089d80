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
	"encoding/base64"
	"encoding/json"
	"time"
)

// pageToken is where the previous page ended, in the list's order (newest
// first: creationTimestamp descending, then name descending), plus a
// fingerprint of the filters it was issued for. Resuming after a position
// rather than at an offset keeps pages stable while jobs are added: new jobs
// sort before every position already handed out, so they can neither shift
// later pages nor appear twice.
type pageToken struct {
	Version int    `json:"v"`
	Created int64  `json:"c"` // creationTimestamp, Unix seconds
	Name    string `json:"n"`
	Filter  string `json:"f"`
}

const pageTokenVersion = 1

// encode makes the token opaque and URL-safe.
func (t pageToken) encode() string {
	b, _ := json.Marshal(t) // a struct of strings and ints cannot fail
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodePageToken parses a token from encode; ok=false for anything else.
func decodePageToken(s string) (pageToken, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return pageToken{}, false
	}
	var t pageToken
	if err := json.Unmarshal(b, &t); err != nil || t.Version != pageTokenVersion || t.Name == "" {
		return pageToken{}, false
	}
	return t, true
}

// after reports whether an item at (created, name) comes after the token's
// position in newest-first order.
func (t pageToken) after(created time.Time, name string) bool {
	c := created.Unix()
	if c != t.Created {
		return c < t.Created
	}
	return name < t.Name
}
