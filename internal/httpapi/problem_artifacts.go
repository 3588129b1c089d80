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

import "net/http"

// The problem types of the artifact store (uploads, jobs_create_multipart.go).
var (
	problemArtifactsNotConfigured = problemType{"artifacts-not-configured", "Artifact store not configured", http.StatusNotImplemented, "ARTIFACTS_NOT_CONFIGURED"}
	problemArtifactsUnavailable   = problemType{"artifacts-unavailable", "Artifact store unavailable", http.StatusServiceUnavailable, "ARTIFACTS_UNAVAILABLE"}
	problemMalformedMultipart     = problemType{"malformed-multipart", "Malformed multipart body", http.StatusBadRequest, "MALFORMED_MULTIPART"}
	problemUploadInProgress       = problemType{"upload-in-progress", "Upload with this Idempotency-Key in progress", http.StatusConflict, "UPLOAD_IN_PROGRESS"}
)

// artifactsRetryAfter is the Retry-After of artifacts-unavailable, in seconds.
const artifactsRetryAfter = 5

func errArtifactsNotConfigured() *apiError {
	return newError(problemArtifactsNotConfigured, "this server has no artifact store, so it takes no files and no job of a type with files")
}

func errArtifactsUnavailable(cause error) *apiError {
	return newError(problemArtifactsUnavailable, "the artifact store is unavailable; retry later").
		withRetryAfter(artifactsRetryAfter).withCause(cause)
}
