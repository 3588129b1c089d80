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

	"github.com/asyncjob/asyncjob/internal/artifact"
)

// The problem types of the artifact routes (docs/artifacts.md).
var (
	problemArtifactsNotConfigured = problemType{"artifacts-not-configured", "Artifacts are not configured", http.StatusNotImplemented, "ARTIFACTS_NOT_CONFIGURED"}
	problemArtifactsUnavailable   = problemType{"artifacts-unavailable", "Artifact store temporarily unavailable", http.StatusServiceUnavailable, "ARTIFACTS_UNAVAILABLE"}
	problemArtifactNotFound       = problemType{"artifact-not-found", "Artifact not found", http.StatusNotFound, "ARTIFACT_NOT_FOUND"}
	problemInvalidArtifactName    = problemType{"invalid-artifact-name", "Invalid artifact name", http.StatusBadRequest, "INVALID_ARTIFACT_NAME"}
	problemArtifactNameTaken      = problemType{"artifact-name-taken", "Artifact name already taken", http.StatusConflict, "ARTIFACT_NAME_TAKEN"}
	problemRangeNotSatisfiable    = problemType{"range-not-satisfiable", "Range not satisfiable", http.StatusRequestedRangeNotSatisfiable, "RANGE_NOT_SATISFIABLE"}
	problemPreconditionFailed     = problemType{"precondition-failed", "Precondition failed", http.StatusPreconditionFailed, "PRECONDITION_FAILED"}
	problemIncompleteBody         = problemType{"incomplete-body", "Request body incomplete", http.StatusBadRequest, "INCOMPLETE_BODY"}
	problemMalformedMultipart     = problemType{"malformed-multipart", "Malformed multipart body", http.StatusBadRequest, "MALFORMED_MULTIPART"}
	problemUploadInProgress       = problemType{"upload-in-progress", "Upload with this Idempotency-Key in progress", http.StatusConflict, "UPLOAD_IN_PROGRESS"}
)

// artifactsNotConfigured answers a route that needs the store on a server
// started without --artifact-store-url.
func artifactsNotConfigured() *apiError {
	return newError(problemArtifactsNotConfigured, "this API server has no artifact store (--artifact-store-url); files cannot be stored or read")
}

// artifactsUnavailable answers a store that failed; its error is only logged.
func artifactsUnavailable(err error) *apiError {
	return newError(problemArtifactsUnavailable, "the artifact store is temporarily unavailable; retry later").
		withRetryAfter(unavailableRetryAfter).withCause(err)
}

func artifactNotFound(job, name string) *apiError {
	return newError(problemArtifactNotFound, "job %s has no artifact %q; GET /v1/jobs/%s/artifacts lists them", job, name, job)
}

// fromStore is the one place an artifact.Store error becomes an API error.
// A file its job records but the store does not have (removed by a cancel
// that is being recorded) is not found; anything the store does not answer
// with one of its own errors is the store being unavailable.
func fromStore(err error, job, name string) error {
	var ae *apiError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ae):
		return ae
	case errors.Is(err, artifact.ErrNotFound), errors.Is(err, artifact.ErrInvalidName):
		return artifactNotFound(job, name)
	}
	return artifactsUnavailable(err)
}
