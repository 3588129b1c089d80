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
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"sort"

	"github.com/gin-gonic/gin"

	"github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/internal/artifact"
	"github.com/asyncjob/asyncjob/internal/paramschema"
)

// jobPartName is the form name of an upload's first part, the submit request.
const jobPartName = "job"

// maxUploadFiles is spec.inputs' MaxItems.
const maxUploadFiles = 32

// isMultipartForm reports whether the Content-Type is multipart/form-data.
func isMultipartForm(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "multipart/form-data"
}

// createJobMultipart handles POST /v1/jobs with multipart/form-data: the job
// part first, decoded and validated like a JSON submission (type, schema,
// quota) before any file is read, then each file part streamed to the
// artifact store under the job's id, which is chosen first. Nothing is held
// whole in memory (mime/multipart's streaming reader, not ParseMultipartForm,
// which spools to memory and disk). Any failure once a file reached the
// store removes what this request stored: a rejected upload leaves no file
// and no AsyncJob.
func (s *Server) createJobMultipart(c *gin.Context) error {
	if s.cfg.Artifacts == nil {
		return artifactsNotConfigured()
	}
	id, ns, err := s.namespaceOf(c)
	if err != nil {
		return err
	}
	key, hasKey, err := idempotencyKeyOf(c)
	if err != nil {
		return err
	}
	body := newUploadBody(c.Writer, c.Request, s.cfg.ArtifactLimits.MaxRequestBytes)
	c.Request.Body = body
	mr, err := c.Request.MultipartReader()
	if err != nil {
		return newError(problemMalformedMultipart, "the multipart/form-data Content-Type needs a boundary parameter")
	}
	raw, err := s.readJobPart(mr, body)
	if err != nil {
		return err
	}
	ctx := c.Request.Context()
	sub, err := s.prepareSubmission(ctx, id, ns, raw, key, hasKey, true)
	if err != nil {
		return err
	}
	if hasKey {
		// A replay must not touch the original job's files: answer it
		// from the parts' hashes, storing nothing.
		existing, ok, err := s.store.jobByName(ctx, ns, sub.jobID)
		if err != nil {
			return err
		}
		if ok {
			return s.replayUpload(c, sub, existing, mr, body)
		}
	}

	stored := &storedInputs{st: s.cfg.Artifacts, ns: ns, job: sub.jobID, shared: hasKey}
	// The upload runs under the request's own context (the Kubernetes
	// deadline would cut it), ended when the client goes away.
	uploadCtx := unboundedContext(ctx)
	created, taken, hash, err := s.storeAndCreate(uploadCtx, c, sub, mr, body, stored)
	if err != nil || taken {
		stored.remove(uploadCtx, func(err error) {
			s.cfg.Log.Error(err, "could not remove the files of a rejected upload", "namespace", ns, "job", sub.jobID)
		})
	}
	if err != nil {
		return err
	}
	return s.answerSubmission(c, sub, created, taken, hash)
}

// storeAndCreate stores the files, checks the input parameters against them,
// and creates the AsyncJob with spec.inputs. It answers the created job (or,
// taken, the one holding its id) and this upload's hash.
func (s *Server) storeAndCreate(ctx context.Context, c *gin.Context, sub *submission, mr *multipart.Reader, body *uploadBody, stored *storedInputs) (*v1alpha1.AsyncJob, bool, string, error) {
	limit := s.cfg.ArtifactLimits.MaxFileBytes
	inputs, err := eachFile(mr, body, sub, func(name, contentType string, r io.Reader) (v1alpha1.Artifact, error) {
		a, err := stored.put(ctx, name, contentType, r, limit)
		switch {
		case err == nil:
			return a, nil
		case body.failed():
			return a, body.readError()
		case errors.Is(err, artifact.ErrTooLarge):
			return a, newError(problemPayloadTooLarge, "file %q is larger than %d bytes, the limit per file", name, limit)
		case errors.Is(err, artifact.ErrExists):
			return a, newError(problemUploadInProgress, "another request with this Idempotency-Key is uploading; retry once it is done").withRetryAfter(1)
		case ctx.Err() != nil:
			return a, newError(problemMalformedMultipart, "the client went away before the upload was complete").withCause(err)
		}
		return a, artifactsUnavailable(err)
	})
	if err != nil {
		return nil, false, "", err
	}
	if fe := checkInputParameters(sub.jt.obj, sub.req.Parameters, inputNames(inputs)); len(fe) > 0 {
		ve := newError(problemValidationFailed, "the request has %d invalid field(s); see errors", len(fe))
		ve.fields = fe
		return nil, false, "", ve
	}
	hash := uploadHash(sub.hash, inputs)
	aj := sub.newAsyncJob(hash)
	aj.Spec.Inputs = inputs
	// The upload may have outlasted the request's Kubernetes deadline.
	created, taken, err := s.store.createJob(s.freshContext(c), aj)
	return created, taken, hash, err
}

// replayUpload answers a repeated Idempotency-Key whose job exists: the files
// are read and hashed, not stored, and the request is a replay when job part
// and files are the same as the original's.
func (s *Server) replayUpload(c *gin.Context, sub *submission, existing *v1alpha1.AsyncJob, mr *multipart.Reader, body *uploadBody) error {
	limit := s.cfg.ArtifactLimits.MaxFileBytes
	inputs, err := eachFile(mr, body, sub, func(name, contentType string, r io.Reader) (v1alpha1.Artifact, error) {
		h := sha256.New()
		n, err := io.Copy(h, io.LimitReader(r, limit+1))
		switch {
		case err != nil || body.failed():
			return v1alpha1.Artifact{}, body.readError()
		case n > limit:
			return v1alpha1.Artifact{}, newError(problemPayloadTooLarge, "file %q is larger than %d bytes, the limit per file", name, limit)
		}
		return v1alpha1.Artifact{Name: name, Size: n, SHA256: hex.EncodeToString(h.Sum(nil)), ContentType: contentType}, nil
	})
	if err != nil {
		return err
	}
	s.freshContext(c)
	return s.answerSubmission(c, sub, existing, true, uploadHash(sub.hash, inputs))
}

// readJobPart reads the first part, which must be the job (at most
// MaxBodyBytes, like a JSON body).
func (s *Server) readJobPart(mr *multipart.Reader, body *uploadBody) ([]byte, error) {
	part, err := mr.NextPart()
	if err != nil {
		if body.failed() {
			return nil, body.readError()
		}
		return nil, newError(problemMalformedMultipart, "the body has no parts; the first must be %q, the JSON submit request", jobPartName)
	}
	if part.FormName() != jobPartName {
		return nil, newError(problemMalformedMultipart, "the first part is %q; it must be %q, the JSON submit request", part.FormName(), jobPartName)
	}
	raw, err := io.ReadAll(io.LimitReader(part, s.cfg.MaxBodyBytes+1))
	if err != nil {
		return nil, body.readError()
	}
	if int64(len(raw)) > s.cfg.MaxBodyBytes {
		return nil, newError(problemPayloadTooLarge, "the %q part is larger than %d bytes", jobPartName, s.cfg.MaxBodyBytes)
	}
	return raw, nil
}

// eachFile hands each file part after the job part to save, in order, and
// returns what save answered. A part's form name is its artifact name.
func eachFile(mr *multipart.Reader, body *uploadBody, sub *submission, save func(name, contentType string, r io.Reader) (v1alpha1.Artifact, error)) ([]v1alpha1.Artifact, error) {
	var inputs []v1alpha1.Artifact
	seen := map[string]bool{}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return inputs, nil
		}
		if err != nil {
			if body.failed() {
				return nil, body.readError()
			}
			return nil, newError(problemMalformedMultipart, "the multipart/form-data body is malformed after %d file(s)", len(inputs))
		}
		name := part.FormName()
		if err := checkFilePart(sub, name, seen, len(inputs)); err != nil {
			return nil, err
		}
		seen[name] = true
		a, err := save(name, partContentType(part), part)
		if err != nil {
			return nil, err
		}
		inputs = append(inputs, a)
	}
}

// checkFilePart refuses a file before any of it is read: a type that takes
// no files, a name that is not an artifact name or is repeated, one file too many.
func checkFilePart(sub *submission, name string, seen map[string]bool, count int) error {
	field := func(ptr, format string, args ...any) error {
		ve := newError(problemValidationFailed, format, args...)
		ve.fields = []paramschema.FieldError{{Pointer: ptr, Detail: fmt.Sprintf(format, args...)}}
		return ve
	}
	switch {
	case !hasArtifacts(sub.jt.obj):
		return field("/type", "type %q takes no files; submit it as application/json", sub.req.Type)
	case artifact.ValidName(name) != nil:
		return newError(problemValidationFailed, "file part %q: a file's form name is its name: 1-255 letters, digits, '.', '_' or '-', not starting with '.' nor ending in .attrs", name)
	case seen[name]:
		return newError(problemValidationFailed, "file %q is uploaded twice", name)
	case count >= maxUploadFiles:
		return newError(problemValidationFailed, "at most %d files may be uploaded with a job", maxUploadFiles)
	}
	return nil
}

// partContentType is a file part's media type, when it names a valid one
// (curl sends application/octet-stream unless told otherwise).
func partContentType(part *multipart.Part) string {
	ct := part.Header.Get("Content-Type")
	if _, _, err := mime.ParseMediaType(ct); err != nil || len(ct) > 255 {
		return ""
	}
	return ct
}

func inputNames(inputs []v1alpha1.Artifact) map[string]bool {
	names := make(map[string]bool, len(inputs))
	for _, a := range inputs {
		names[a.Name] = true
	}
	return names
}

// uploadHash fingerprints an upload for Idempotency-Key replays: the job
// part's hash and each file's name and SHA-256, in name order. Without
// files it is the job part's hash, the same as the JSON request's.
func uploadHash(jobHash string, inputs []v1alpha1.Artifact) string {
	if len(inputs) == 0 {
		return jobHash
	}
	files := make([]string, 0, len(inputs))
	for _, a := range inputs {
		files = append(files, a.Name+" "+a.SHA256)
	}
	sort.Strings(files)
	var b bytes.Buffer
	b.WriteString(jobHash)
	for _, f := range files {
		b.WriteString("\n" + f)
	}
	sum := sha256.Sum256(b.Bytes())
	return hex.EncodeToString(sum[:])
}
