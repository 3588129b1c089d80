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
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/asyncjob/asyncjob/api/v1alpha1"
)

// writeJSON writes v as application/json. Reads (GET, HEAD) get a strong ETag
// over the exact bytes sent, and 304 when the client's If-None-Match already
// has them (RFC 9110 13.1.2). Other methods get no ETag: their response is not
// the representation of the request's target.
func writeJSON(c *gin.Context, status int, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if c.Request.Method != http.MethodGet && c.Request.Method != http.MethodHead {
		c.Data(status, "application/json", body)
		return nil
	}
	return writeRepresentation(c, status, body, etagOf(body))
}

// writeRepresentation answers a read with body, whose ETag is etag (etagOf
// of those bytes, possibly computed before: jobs_read_etag.go); 304 when
// If-None-Match already has it. body may be nil only when the answer is
// sure to be 304 (etagMatches).
func writeRepresentation(c *gin.Context, status int, body []byte, etag string) error {
	c.Header("ETag", etag)
	if status == http.StatusOK && etagMatches(c.GetHeader("If-None-Match"), etag) {
		c.Status(http.StatusNotModified)
		return nil
	}
	c.Data(status, "application/json", body)
	return nil
}

// etagOf is the strong ETag of a representation's exact bytes.
func etagOf(body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + hex.EncodeToString(sum[:16]) + `"`
}

// etagMatches implements If-None-Match's weak comparison (RFC 9110 13.1.2).
func etagMatches(header, etag string) bool {
	header = strings.TrimSpace(header)
	if header == "" {
		return false
	}
	if header == "*" {
		return true
	}
	for _, candidate := range strings.Split(header, ",") {
		candidate = strings.TrimPrefix(strings.TrimSpace(candidate), "W/")
		if candidate == etag {
			return true
		}
	}
	return false
}

// jobHeaders sets the headers every job response carries: Retry-After (the
// type's polling hint) while the job is unfinished, Sunset once it is finished
// and its removal time is known.
func (s *Server) jobHeaders(c *gin.Context, aj *v1alpha1.AsyncJob) {
	if !aj.Status.State.IsFinished() {
		c.Header("Retry-After", strconv.Itoa(s.pollSeconds(c, aj)))
		return
	}
	if aj.Status.ExpireTime != nil {
		c.Header("Sunset", aj.Status.ExpireTime.UTC().Format(http.TimeFormat))
	}
}

// pollSeconds is the job's polling hint: the one frozen in its status.limits
// when the controller has started it (so a later edit of the type does not
// change a running job's answers), else its type's pollIntervalSeconds, else a
// default when the type is gone or has none.
func (s *Server) pollSeconds(c *gin.Context, aj *v1alpha1.AsyncJob) int {
	if l := aj.Status.Limits; l != nil && l.PollIntervalSeconds != nil && *l.PollIntervalSeconds > 0 {
		return int(*l.PollIntervalSeconds)
	}
	return pollOf(s.store.cachedType(c.Request.Context(), aj.Spec.Type))
}
