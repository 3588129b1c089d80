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

	"github.com/gin-gonic/gin"

	"github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/internal/artifact"
)

// getJob handles GET and HEAD /v1/jobs/{id}.
func (s *Server) getJob(c *gin.Context) error {
	aj, err := s.lookupJob(c)
	if err != nil {
		return err
	}
	varyPrefer(c)
	// If-None-Match with Prefer: wait=N is a long-poll (jobs_wait.go).
	if aj, err = s.holdUnchanged(c, aj); err != nil {
		return err
	}
	s.jobHeaders(c, aj)
	return s.writeJob(c, aj) // jobs_read_etag.go
}

// getResult handles GET /v1/jobs/{id}/result: the result of a completed job,
// otherwise a problem that says why there is none and whether to come back.
func (s *Server) getResult(c *gin.Context) error {
	aj, err := s.lookupJob(c)
	if err != nil {
		return err
	}
	switch statusOf(aj.Status.State) {
	case StatusCompleted:
		s.jobHeaders(c, aj)
		result := completedResult(aj, toArtifacts(aj.Name, artifact.Output, aj.Status.Outputs))
		if result == nil {
			result = []byte("null")
		}
		return writeJSON(c, http.StatusOK, rawJSON(result))
	case StatusPending, StatusRunning:
		return newError(problemResultNotReady, "job %s is %s; poll %s and come back once it is COMPLETED",
			aj.Name, statusOf(aj.Status.State), jobPath(aj.Name)).withRetryAfter(s.pollSeconds(c, aj))
	default:
		return newError(problemNoResult, "job %s is %s and will never have a result; %s says why",
			aj.Name, statusOf(aj.Status.State), jobPath(aj.Name))
	}
}

// lookupJob finds the caller's job named by the :id path parameter.
func (s *Server) lookupJob(c *gin.Context) (*v1alpha1.AsyncJob, error) {
	if err := requireNoBody(c); err != nil {
		return nil, err
	}
	id, ns, err := s.namespaceOf(c)
	if err != nil {
		return nil, err
	}
	return s.store.getJob(c.Request.Context(), ns, id.Tenant, c.Param("id"))
}

// requireNoBody refuses a body on methods whose semantics do not define one
// (GET, HEAD, DELETE): a client sending one likely expects it to matter.
func requireNoBody(c *gin.Context) error {
	if c.Request.Method == http.MethodPost {
		return nil
	}
	if c.Request.ContentLength > 0 || len(c.Request.TransferEncoding) > 0 {
		return newError(problemUnexpectedBody, "%s %s takes no request body", c.Request.Method, c.FullPath())
	}
	return nil
}

// rawJSON marshals as its bytes, verbatim.
type rawJSON []byte

func (r rawJSON) MarshalJSON() ([]byte, error) { return r, nil }
