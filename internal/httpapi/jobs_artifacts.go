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
	"mime"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/internal/artifact"
)

// listArtifacts handles GET /v1/jobs/{id}/artifacts: the job's inputs, then
// its outputs, from the job's records alone (no store call).
func (s *Server) listArtifacts(c *gin.Context) error {
	aj, err := s.lookupJob(c)
	if err != nil {
		return err
	}
	items := append(toArtifacts(aj.Name, artifact.Input, aj.Spec.Inputs), toArtifacts(aj.Name, artifact.Output, aj.Status.Outputs)...)
	return writeJSON(c, http.StatusOK, artifactList{Items: items})
}

// artifactRedirect is the body of a 303 to a presigned URL.
type artifactRedirect struct {
	Location  string    `json:"location"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// getArtifact handles GET and HEAD /v1/jobs/{id}/artifacts/{name}: the file,
// or, with ArtifactLimits.Redirect on a store that presigns, 303 to a URL
// that downloads it without credentials until it expires.
func (s *Server) getArtifact(c *gin.Context) error {
	aj, err := s.lookupJob(c)
	if err != nil {
		return err
	}
	name := c.Param("name")
	rec, kind, ok := findArtifact(aj, name)
	if !ok {
		return artifactNotFound(aj.Name, name)
	}
	st := s.cfg.Artifacts
	if st == nil {
		return artifactsNotConfigured()
	}
	if limits := s.cfg.ArtifactLimits; limits.Redirect {
		expires := time.Now().Add(limits.URLExpiry).UTC().Truncate(time.Second)
		u, err := st.SignedURL(c.Request.Context(), aj.Namespace, aj.Name, kind, name, limits.URLExpiry)
		switch {
		case err == nil:
			// The URL is a credential for as long as it lasts: no cache keeps it.
			c.Header("Location", u)
			c.Header("Cache-Control", "no-store")
			return writeJSON(c, http.StatusSeeOther, artifactRedirect{Location: u, ExpiresAt: expires})
		case !errors.Is(err, artifact.ErrPresignUnsupported):
			return fromStore(err, aj.Name, name)
		}
		// A directory cannot presign: serve the file ourselves.
	}
	return serveArtifact(c, st, aj, kind, rec)
}

// serveArtifact streams one of aj's files with http.ServeContent over the
// store's seekable reader: Content-Length, Accept-Ranges, Range (206, 416),
// If-None-Match (304) and If-Range against the strong ETag "<sha256>" of the
// job's record. Errors ServeContent decides (416, 412) become problems.
func serveArtifact(c *gin.Context, st *artifact.Store, aj *v1alpha1.AsyncJob, kind artifact.Kind, rec v1alpha1.Artifact) error {
	// The download may take longer than the Kubernetes deadline; it ends
	// with the client.
	obj, err := st.Get(unboundedContext(c.Request.Context()), aj.Namespace, aj.Name, kind, rec.Name)
	if err != nil {
		return fromStore(err, aj.Name, rec.Name)
	}
	defer func() { _ = obj.Close() }()
	if obj.Size() != rec.Size {
		// Replaced by a PUT whose record is not written yet: the ETag would
		// not describe these bytes.
		return newError(problemArtifactsUnavailable, "artifact %q is being replaced; retry", rec.Name).withRetryAfter(1)
	}
	h := c.Writer.Header()
	h.Set("ETag", `"`+rec.SHA256+`"`)
	h.Set("Content-Type", contentTypeOf(rec))
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": rec.Name}))
	w := &contentErrorWriter{ResponseWriter: c.Writer}
	http.ServeContent(w, c.Request, "", obj.ModTime(), obj)
	if w.status == 0 {
		return nil
	}
	h.Del("Content-Disposition") // the problem is not the file
	switch w.status {
	case http.StatusRequestedRangeNotSatisfiable:
		// ServeContent set Content-Range: bytes */size, as RFC 9110 15.5.17 asks.
		return newError(problemRangeNotSatisfiable, "the Range does not overlap artifact %q, which has %d bytes", rec.Name, rec.Size)
	case http.StatusPreconditionFailed:
		return newError(problemPreconditionFailed, "artifact %q does not match If-Match or If-Unmodified-Since", rec.Name)
	}
	return errors.New("serving an artifact failed with status " + http.StatusText(w.status))
}

// contentErrorWriter lets http.ServeContent decide every status, and holds
// back the error statuses (>= 400) and their text/plain bodies, so that the
// handler answers them as problems like every other error.
type contentErrorWriter struct {
	gin.ResponseWriter
	status int // the held-back error status; 0: none
}

func (w *contentErrorWriter) WriteHeader(code int) {
	if code >= http.StatusBadRequest {
		w.status = code
		return
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *contentErrorWriter) Write(b []byte) (int, error) {
	if w.status != 0 {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

func (w *contentErrorWriter) WriteString(s string) (int, error) { return w.Write([]byte(s)) }
