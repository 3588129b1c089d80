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
	"fmt"
	"net/http"

	"github.com/asyncjob/asyncjob/internal/paramschema"
)

// problemBase prefixes every problem type URI. The URIs are identifiers
// (RFC 9457 3.1.1); docs/api.md documents each of them.
const problemBase = "https://asyncjob.io/problems/"

// problemMediaType is the RFC 9457 media type of every error body.
const problemMediaType = "application/problem+json"

// problemType is one documented kind of error: its title is stable, its detail
// varies per occurrence.
type problemType struct {
	Slug   string
	Title  string
	Status int
	Code   string
}

// URI is the problem type's identifier, the problem's `type` member.
func (p problemType) URI() string { return problemBase + p.Slug }

// The problem types the API can return. problemTypes lists them all; a test
// checks that docs/api.md and the OpenAPI document mention every one.
var (
	problemMalformedJSON        = problemType{"malformed-json", "Request body is not valid JSON", http.StatusBadRequest, "MALFORMED_JSON"}
	problemInvalidQuery         = problemType{"invalid-query", "Invalid query parameters", http.StatusBadRequest, "INVALID_QUERY"}
	problemInvalidPageToken     = problemType{"invalid-page-token", "Invalid page token", http.StatusBadRequest, "INVALID_PAGE_TOKEN"}
	problemInvalidIdempotency   = problemType{"invalid-idempotency-key", "Invalid Idempotency-Key header", http.StatusBadRequest, "INVALID_IDEMPOTENCY_KEY"}
	problemUnexpectedBody       = problemType{"unexpected-body", "Request body not allowed", http.StatusBadRequest, "UNEXPECTED_BODY"}
	problemUnauthenticated      = problemType{"unauthenticated", "Authentication required", http.StatusUnauthorized, "UNAUTHENTICATED"}
	problemJobNotFound          = problemType{"job-not-found", "Job not found", http.StatusNotFound, "JOB_NOT_FOUND"}
	problemJobExpired           = problemType{"job-expired", "Job removed after its time to live", http.StatusGone, "JOB_EXPIRED"}
	problemTypeNotFound         = problemType{"type-not-found", "Job type not found", http.StatusNotFound, "TYPE_NOT_FOUND"}
	problemRouteNotFound        = problemType{"route-not-found", "No such endpoint", http.StatusNotFound, "ROUTE_NOT_FOUND"}
	problemMethodNotAllowed     = problemType{"method-not-allowed", "Method not allowed", http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED"}
	problemJobFinished          = problemType{"job-already-finished", "Job already finished", http.StatusConflict, "JOB_ALREADY_FINISHED"}
	problemResultNotReady       = problemType{"result-not-ready", "Job result not ready yet", http.StatusConflict, "RESULT_NOT_READY"}
	problemNoResult             = problemType{"no-result", "Job has no result", http.StatusConflict, "NO_RESULT"}
	problemPayloadTooLarge      = problemType{"payload-too-large", "Request body too large", http.StatusRequestEntityTooLarge, "PAYLOAD_TOO_LARGE"}
	problemUnsupportedMediaType = problemType{"unsupported-media-type", "Unsupported media type", http.StatusUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE"}
	problemValidationFailed     = problemType{"validation-failed", "Request failed validation", http.StatusUnprocessableEntity, "VALIDATION_FAILED"}
	problemIdempotencyMismatch  = problemType{"idempotency-key-reused", "Idempotency-Key reused with a different request", http.StatusUnprocessableEntity, "IDEMPOTENCY_KEY_REUSED"}
	problemRateLimited          = problemType{"rate-limited", "Too many requests", http.StatusTooManyRequests, "RATE_LIMITED"}
	problemTooManyUnfinished    = problemType{"too-many-unfinished-jobs", "Too many unfinished jobs", http.StatusTooManyRequests, "TOO_MANY_UNFINISHED_JOBS"}
	problemInternal             = problemType{"internal", "Internal server error", http.StatusInternalServerError, "INTERNAL"}
	problemUnavailable          = problemType{"backend-unavailable", "Service temporarily unavailable", http.StatusServiceUnavailable, "BACKEND_UNAVAILABLE"}
	problemNotReady             = problemType{"not-ready", "Server not ready", http.StatusServiceUnavailable, "NOT_READY"}
	// Webhooks (webhook_deliveries.go, webhooks_secret.go).
	problemNoWebhook              = problemType{"job-has-no-webhook", "Job has no webhook", http.StatusConflict, "JOB_HAS_NO_WEBHOOK"}
	problemDeliveryNotFound       = problemType{"webhook-delivery-not-found", "Webhook delivery not found", http.StatusNotFound, "WEBHOOK_DELIVERY_NOT_FOUND"}
	problemSecretRotationConflict = problemType{"webhook-secret-conflict", "Signing secret changed concurrently", http.StatusConflict, "WEBHOOK_SECRET_CONFLICT"}
)

// problemTypes is every problem type the API can return.
var problemTypes = []problemType{
	problemMalformedJSON, problemInvalidQuery, problemInvalidPageToken, problemInvalidIdempotency,
	problemUnexpectedBody, problemUnauthenticated, problemJobNotFound, problemJobExpired, problemTypeNotFound,
	problemRouteNotFound, problemMethodNotAllowed, problemJobFinished, problemResultNotReady,
	problemNoResult, problemPayloadTooLarge, problemUnsupportedMediaType, problemValidationFailed,
	problemIdempotencyMismatch, problemRateLimited, problemTooManyUnfinished, problemInternal,
	problemUnavailable, problemNotReady,
	// Defined beside their routes: logs (jobs_logs.go), worker callbacks (auth_worker.go).
	problemLogsNotReady, problemNoLogs, problemJobGone,
	problemNoWebhook, problemDeliveryNotFound, problemSecretRotationConflict,
	// Artifacts and uploads (problem_artifacts.go).
	problemArtifactsNotConfigured, problemArtifactsUnavailable, problemArtifactNotFound, problemInvalidArtifactName,
	problemArtifactNameTaken, problemRangeNotSatisfiable, problemPreconditionFailed, problemIncompleteBody,
	problemMalformedMultipart, problemUploadInProgress,
}

// problemDetails is an RFC 9457 problem details object with this API's extension
// members: code (machine reason) and errors (field errors).
type problemDetails struct {
	Type     string                   `json:"type"`
	Title    string                   `json:"title"`
	Status   int                      `json:"status"`
	Detail   string                   `json:"detail,omitempty"`
	Instance string                   `json:"instance,omitempty"`
	Code     string                   `json:"code"`
	Errors   []paramschema.FieldError `json:"errors,omitempty"`
}

// apiError is the typed error handlers return. Only kind, detail, fields and
// the headers reach the client; cause is for the server's log.
type apiError struct {
	kind       problemType
	detail     string
	fields     []paramschema.FieldError
	retryAfter int               // seconds; 0 sends no Retry-After
	headers    map[string]string // extra response headers (Allow, Accept-Post, WWW-Authenticate)
	cause      error
}

func (e *apiError) Error() string {
	if e.cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.kind.Code, e.detail, e.cause)
	}
	return e.kind.Code + ": " + e.detail
}

func (e *apiError) Unwrap() error { return e.cause }

// newError builds an apiError with a client-facing detail.
func newError(kind problemType, format string, args ...any) *apiError {
	return &apiError{kind: kind, detail: fmt.Sprintf(format, args...)}
}

func (e *apiError) withCause(err error) *apiError  { e.cause = err; return e }
func (e *apiError) withRetryAfter(s int) *apiError { e.retryAfter = s; return e }
func (e *apiError) withHeader(k, v string) *apiError {
	if e.headers == nil {
		e.headers = map[string]string{}
	}
	e.headers[k] = v
	return e
}

// toProblem renders the error for the client. instance is the request path.
func (e *apiError) toProblem(instance string) problemDetails {
	return problemDetails{
		Type:     e.kind.URI(),
		Title:    e.kind.Title,
		Status:   e.kind.Status,
		Detail:   e.detail,
		Instance: instance,
		Code:     e.kind.Code,
		Errors:   e.fields,
	}
}
