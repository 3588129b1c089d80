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
	"context"
	"errors"
	"mime"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/asyncjob/asyncjob/internal/artifact"
)

// getInput handles GET /v1/jobs/{id}/inputs/{name} (worker token only): the
// job's input, as a client downloads it (ETag "<sha256>", Range).
func (s *Server) getInput(c *gin.Context) error {
	aj, ok := workerJobFrom(c.Request.Context())
	if !ok {
		return errors.New("no worker job on a worker route")
	}
	if err := requireNoBody(c); err != nil {
		return err
	}
	name := c.Param("name")
	rec, ok := findRecord(aj.Spec.Inputs, name)
	if !ok {
		return newError(problemArtifactNotFound, "job %s has no input %q", aj.Name, name)
	}
	if s.cfg.Artifacts == nil {
		return artifactsNotConfigured()
	}
	return serveArtifact(c, s.cfg.Artifacts, aj, artifact.Input, rec)
}

// putOutput handles PUT /v1/jobs/{id}/outputs/{name} (worker token only):
// the body is streamed into the store (never whole in memory) with its
// Content-Type, then recorded in status.outputs, replacing an output of that
// name. 201 with the output, whether it is new or replaced, so that a
// retried PUT answers the same.
func (s *Server) putOutput(c *gin.Context) error {
	aj, ok := workerJobFrom(c.Request.Context())
	if !ok {
		return errors.New("no worker job on a worker route")
	}
	name := c.Param("name")
	if err := artifact.ValidName(name); err != nil {
		return newError(problemInvalidArtifactName, "%q cannot name an output: use 1-255 letters, digits, '.', '_' or '-', not starting with '.' nor ending in .attrs", name)
	}
	if refusal := outputRefusal(aj, name); refusal != nil {
		return refusal
	}
	st := s.cfg.Artifacts
	if st == nil {
		return artifactsNotConfigured()
	}
	contentType, err := outputContentType(c.GetHeader("Content-Type"))
	if err != nil {
		return err
	}
	limit := s.cfg.ArtifactLimits.MaxOutputBytes
	tooLarge := newError(problemPayloadTooLarge, "an output may have at most %d bytes (--artifact-max-output-bytes)", limit)
	if c.Request.ContentLength > limit {
		return tooLarge
	}
	body := newUploadBody(c.Writer, c.Request, limit+1) // Put enforces limit; this only moves the read deadline
	unbounded := unboundedContext(c.Request.Context())
	out, err := st.Put(unbounded, aj.Namespace, aj.Name, artifact.Output, name, body, artifact.PutOptions{MaxBytes: limit, ContentType: contentType})
	switch {
	case errors.Is(err, artifact.ErrTooLarge):
		return tooLarge
	case body.err != nil:
		return newError(problemIncompleteBody, "the body could not be read to its end; nothing was stored").withCause(body.err)
	case err != nil:
		return fromStore(err, aj.Name, name)
	}
	// The upload may have outlasted the request's Kubernetes deadline.
	ctx, cancel := context.WithTimeout(unbounded, s.cfg.KubeTimeout)
	defer cancel()
	if err := s.store.recordOutput(ctx, aj, out); err != nil {
		if _, existed := findRecord(aj.Status.Outputs, name); !existed {
			// Unrecorded, the file would only wait for the job's deletion.
			_ = st.Delete(ctx, aj.Namespace, aj.Name, artifact.Output, name)
		}
		return err
	}
	view := toArtifact(aj.Name, artifact.Output, out)
	c.Header("Location", view.Href)
	return writeJSON(c, http.StatusCreated, view)
}

// maxContentTypeBytes is v1alpha1.Artifact's contentType maxLength.
const maxContentTypeBytes = 255

// outputContentType is the media type an output is recorded with: the
// request's, normalised; application/octet-stream when it has none.
func outputContentType(header string) (string, error) {
	if header == "" {
		return "application/octet-stream", nil
	}
	mt, params, err := mime.ParseMediaType(header)
	formatted := mime.FormatMediaType(mt, params)
	if err != nil || formatted == "" || len(formatted) > maxContentTypeBytes {
		return "", newError(problemUnsupportedMediaType, "Content-Type %q is not a media type of at most %d bytes (type/subtype; parameters)", header, maxContentTypeBytes)
	}
	return formatted, nil
}
