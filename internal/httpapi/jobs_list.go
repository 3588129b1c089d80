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
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/asyncjob/asyncjob/api/v1alpha1"
)

// Page sizes of GET /v1/jobs.
const (
	defaultPageSize = 20
	maxPageSize     = 100
)

// listQueryParams are the query parameters GET /v1/jobs understands; any other
// is refused so a typo does not silently widen the result.
var listQueryParams = map[string]bool{queryStatus: true, queryType: true, queryLabel: true, queryLimit: true, queryPageToken: true}

// The query parameters of GET /v1/jobs.
const (
	queryStatus    = "status"
	queryType      = "type"
	queryLabel     = "label"
	queryLimit     = "limit"
	queryPageToken = "pageToken"
)

// jobList is a page of jobs.
type jobList struct {
	Items         []Job  `json:"items"`
	NextPageToken string `json:"nextPageToken,omitempty"`
}

// listFilter is a parsed GET /v1/jobs query.
type listFilter struct {
	statuses map[v1alpha1.AsyncJobState]bool
	typ      string
	labels   map[string]string
	limit    int
	token    *pageToken
}

// parseListQuery validates the query of GET /v1/jobs.
func parseListQuery(c *gin.Context) (listFilter, error) {
	q := c.Request.URL.Query()
	f := listFilter{limit: defaultPageSize, labels: map[string]string{}}
	for name := range q {
		if !listQueryParams[name] {
			return f, newError(problemInvalidQuery, "unknown query parameter %q; allowed: status, type, label, limit, pageToken", name)
		}
	}
	for _, v := range q[queryStatus] {
		for _, s := range strings.Split(v, ",") {
			state, ok := stateOf(Status(s))
			if !ok {
				return f, newError(problemInvalidQuery, "status %q is not one of PENDING, RUNNING, COMPLETED, FAILED, CANCELLED", s)
			}
			if f.statuses == nil {
				f.statuses = map[v1alpha1.AsyncJobState]bool{}
			}
			f.statuses[state] = true
		}
	}
	if len(q[queryType]) > 1 {
		return f, newError(problemInvalidQuery, "type may be given once")
	}
	f.typ = q.Get(queryType)
	for _, v := range q[queryLabel] {
		k, val, ok := strings.Cut(v, "=")
		if !ok || len(validateLabels(map[string]string{k: val})) > 0 {
			return f, newError(problemInvalidQuery, "label %q must be key=value with a valid label key and value", v)
		}
		if prev, dup := f.labels[k]; dup && prev != val {
			return f, newError(problemInvalidQuery, "label %q is given twice with different values", k)
		}
		f.labels[k] = val
	}
	if v := q.Get(queryLimit); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return f, newError(problemInvalidQuery, "limit must be a non-negative integer (default %d, at most %d)", defaultPageSize, maxPageSize)
		}
		switch {
		case n == 0:
			n = defaultPageSize
		case n > maxPageSize:
			n = maxPageSize
		}
		f.limit = n
	}
	if v := q.Get(queryPageToken); v != "" {
		t, ok := decodePageToken(v)
		if !ok {
			return f, newError(problemInvalidPageToken, "pageToken is not a token this API issued; start again without it")
		}
		if t.Filter != f.fingerprint() {
			return f, newError(problemInvalidPageToken, "the filters changed since this pageToken was issued; keep them or start again without pageToken")
		}
		f.token = &t
	}
	return f, nil
}

// fingerprint identifies the filters (not the limit, which may change between pages).
func (f listFilter) fingerprint() string {
	parts := make([]string, 0, len(f.statuses)+1+len(f.labels))
	for s := range f.statuses {
		parts = append(parts, "s="+string(s))
	}
	parts = append(parts, "t="+f.typ)
	for k, v := range f.labels {
		parts = append(parts, "l="+k+"="+v)
	}
	sort.Strings(parts)
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(sum[:8])
}

// listJobs handles GET /v1/jobs, newest first.
func (s *Server) listJobs(c *gin.Context) error {
	f, err := parseListQuery(c)
	if err != nil {
		return err
	}
	id, ns, err := s.namespaceOf(c)
	if err != nil {
		return err
	}
	// One more than the page: if it exists, there is a next page.
	jobs, err := s.store.listPage(c.Request.Context(), ns, id.Tenant, f, f.limit+1)
	if err != nil {
		return err
	}
	page := jobList{Items: make([]Job, 0, min(len(jobs), f.limit))}
	for _, aj := range jobs[:min(len(jobs), f.limit)] {
		page.Items = append(page.Items, s.jobView(c.Request.Context(), aj))
	}
	if len(jobs) > f.limit {
		last := jobs[f.limit-1]
		page.NextPageToken = pageToken{Version: pageTokenVersion, Created: last.CreationTimestamp.Unix(), Name: last.Name, Filter: f.fingerprint()}.encode()
	}
	return writeJSON(c, http.StatusOK, page)
}

// newerFirst is the list order: creationTimestamp descending, then name
// descending so jobs created in the same second have a total order.
func newerFirst(a, b *v1alpha1.AsyncJob) bool {
	ca, cb := a.CreationTimestamp.Unix(), b.CreationTimestamp.Unix()
	if ca != cb {
		return ca > cb
	}
	return a.Name > b.Name
}

// stateForFilter treats a job with no state yet as Pending, like the REST status.
func stateForFilter(aj *v1alpha1.AsyncJob) v1alpha1.AsyncJobState {
	if aj.Status.State == "" {
		return v1alpha1.StatePending
	}
	return aj.Status.State
}
