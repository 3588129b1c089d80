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
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/internal/paramschema"
)

// createJob handles POST /v1/jobs: everything checkable is checked before the
// AsyncJob is created, and the create is the only write, so a failure leaves
// nothing half-created. A multipart/form-data body also carries files
// (jobs_create_multipart.go).
func (s *Server) createJob(c *gin.Context) error {
	if isMultipartForm(c.GetHeader("Content-Type")) {
		return s.createJobMultipart(c)
	}
	id, ns, err := s.namespaceOf(c)
	if err != nil {
		return err
	}
	if !isJSON(c.GetHeader("Content-Type")) {
		return newError(problemUnsupportedMediaType, "send the job as Content-Type: application/json, or with files as multipart/form-data").
			withHeader("Accept-Post", acceptPost)
	}
	key, hasKey, err := idempotencyKeyOf(c)
	if err != nil {
		return err
	}
	body, err := readBody(c, s.cfg.MaxBodyBytes)
	if err != nil {
		return err
	}
	ctx := c.Request.Context()
	sub, err := s.prepareSubmission(ctx, id, ns, body, key, hasKey, false)
	if err != nil {
		return err
	}
	aj, taken, err := s.store.createJob(ctx, sub.newAsyncJob(sub.hash))
	if err != nil {
		return err
	}
	return s.answerSubmission(c, sub, aj, taken, sub.hash)
}

// acceptPost is the Accept-Post hint of a 415 on POST /v1/jobs.
const acceptPost = "application/json, multipart/form-data"

// submission is a decoded and validated submit request, with everything
// known before the AsyncJob is created.
type submission struct {
	tenant, ns string
	req        submitRequest
	jt         submittable
	key        string
	hasKey     bool
	// hash fingerprints the JSON request (an upload adds its files, uploadHash).
	hash  string
	jobID string
	hook  *v1alpha1.WebhookSpec
}

// idempotencyKeyOf reads the Idempotency-Key header, if any.
func idempotencyKeyOf(c *gin.Context) (string, bool, error) {
	key, hasKey := c.Request.Header["Idempotency-Key"]
	if !hasKey {
		return "", false, nil
	}
	if len(key) != 1 || !validIdempotencyKey(key[0]) {
		return "", false, newError(problemInvalidIdempotency, "Idempotency-Key must be one value of 1 to %d visible ASCII characters", maxIdempotencyKeyLength)
	}
	return key[0], true, nil
}

// prepareSubmission decodes and validates the JSON submit request (the body,
// or an upload's job part) and checks the quota: all of it happens before
// anything is stored or created. withUploads says files may follow, so the
// type's input parameters are checked once they are known
// (checkInputParameters); without, each must be a URL.
func (s *Server) prepareSubmission(ctx context.Context, id identity, ns string, body []byte, key string, hasKey, withUploads bool) (*submission, error) {
	req, fieldErrs, err := decodeSubmitRequest(body)
	if err != nil {
		return nil, err
	}
	fieldErrs = s.checkWebhookURL(req.Webhook, fieldErrs)
	jt, fieldErrs, err := s.validateAgainstType(ctx, req, fieldErrs)
	if err != nil {
		return nil, err
	}
	if !withUploads {
		fieldErrs = append(fieldErrs, checkInputParameters(jt.obj, req.Parameters, nil)...)
		sortFieldErrors(fieldErrs)
	}
	if len(fieldErrs) > 0 {
		ve := newError(problemValidationFailed, "the request has %d invalid field(s); see errors", len(fieldErrs))
		ve.fields = fieldErrs
		return nil, ve
	}
	if hasArtifacts(jt.obj) && s.cfg.Artifacts == nil {
		return nil, artifactsNotConfigured()
	}
	if err := s.checkUnfinishedQuota(ctx, ns, id.Tenant); err != nil {
		return nil, err
	}
	hash, err := requestHash(req)
	if err != nil {
		return nil, err
	}
	jobID := uuid.NewString()
	if hasKey {
		jobID = jobIDForKey(id.Tenant, key)
	}
	hook, err := s.webhookSpec(ctx, ns, req.Webhook)
	if err != nil {
		return nil, err
	}
	return &submission{tenant: id.Tenant, ns: ns, req: req, jt: jt, key: key, hasKey: hasKey,
		hash: hash, jobID: jobID, hook: hook}, nil
}

// newAsyncJob is the AsyncJob the submission creates, fingerprinted by hash.
func (sub *submission) newAsyncJob(hash string) *v1alpha1.AsyncJob {
	aj := newAsyncJob(sub.ns, sub.jobID, sub.tenant, sub.req, hash)
	aj.Spec.Webhook = sub.hook
	if hasArtifacts(sub.jt.obj) {
		// The controller removes the job's files before the AsyncJob goes.
		aj.Finalizers = append(aj.Finalizers, v1alpha1.FinalizerArtifacts)
	}
	return aj
}

// answerSubmission answers a create: the new job (202, or 200 when it finished
// within Prefer: wait=N), or, when its id was taken, the original one if this
// is a replay of its Idempotency-Key.
func (s *Server) answerSubmission(c *gin.Context, sub *submission, aj *v1alpha1.AsyncJob, taken bool, hash string) error {
	if taken {
		if err := checkReplay(aj, sub.tenant, sub.hasKey, hash); err != nil {
			return err
		}
		c.Header("Idempotent-Replayed", "true")
	}
	c.Header("Location", jobPath(aj.Name))
	varyPrefer(c)
	aj, finished := s.awaitFinished(c, aj)
	if finished {
		// Finished within Prefer: wait=N: the answer is the finished job.
		c.Header("Content-Location", jobPath(aj.Name))
		s.jobHeaders(c, aj)
		return writeJSON(c, http.StatusOK, toJob(aj))
	}
	c.Header("Retry-After", strconv.Itoa(pollOf(sub.jt.obj)))
	s.jobHeaders(c, aj)
	return writeJSON(c, http.StatusAccepted, s.jobView(c.Request.Context(), aj))
}

// validateAgainstType adds the type's errors: unknown or not-ready type, and
// parameters that fail its schema (pointers prefixed with /parameters).
func (s *Server) validateAgainstType(ctx context.Context, req submitRequest, errs []paramschema.FieldError) (submittable, []paramschema.FieldError, error) {
	if req.Type == "" {
		return submittable{}, errs, nil
	}
	jt, ok, err := s.store.getType(ctx, req.Type)
	if err != nil {
		return submittable{}, nil, err
	}
	if !ok {
		errs = append(errs, paramschema.FieldError{Pointer: "/type", Detail: "unknown job type; GET /v1/types lists the types you can submit"})
		sortFieldErrors(errs)
		return jt, errs, nil
	}
	if req.Priority > jt.obj.Spec.MaxPriority {
		errs = append(errs, paramschema.FieldError{Pointer: "/priority", Detail: fmt.Sprintf("must be between 0 and %d, the type's maxPriority", jt.obj.Spec.MaxPriority)})
	}
	for _, fe := range jt.schema.Validate(req.Parameters) {
		errs = append(errs, paramschema.FieldError{Pointer: "/parameters" + fe.Pointer, Detail: fe.Detail})
	}
	sortFieldErrors(errs)
	return jt, errs, nil
}

// checkUnfinishedQuota refuses a new job while the tenant has MaxUnfinishedJobs
// unfinished ones. It counts from the cache, so it is a soft bound: concurrent
// submissions can overshoot it by the cache lag.
func (s *Server) checkUnfinishedQuota(ctx context.Context, ns, tenant string) error {
	if s.cfg.MaxUnfinishedJobs <= 0 {
		return nil
	}
	unfinished, err := s.store.unfinishedJobs(ctx, ns, tenant) // O(1): store_index.go
	if err != nil {
		return err
	}
	if unfinished >= s.cfg.MaxUnfinishedJobs {
		return newError(problemTooManyUnfinished, "this client already has %d unfinished jobs, the most allowed; wait for some to finish or cancel them", unfinished).
			withRetryAfter(defaultPollSeconds)
	}
	return nil
}

// newAsyncJob builds the AsyncJob for an accepted request.
func newAsyncJob(ns, id, tenant string, req submitRequest, hash string) *v1alpha1.AsyncJob {
	labels := map[string]string{v1alpha1.LabelTenant: tenant}
	for k, v := range req.Labels {
		labels[labelPrefix+k] = v
	}
	params := req.Parameters
	if len(params) == 0 {
		params = []byte("{}")
	}
	return &v1alpha1.AsyncJob{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: ns,
			Name:      id,
			Labels:    labels,
			Annotations: map[string]string{
				annotationRequestHash: hash,
				// Sub-second: the queue's order within one second (internal/queue).
				v1alpha1.AnnotationSubmittedAt: time.Now().UTC().Format(time.RFC3339Nano),
			},
		},
		Spec: v1alpha1.AsyncJobSpec{
			Type:       req.Type,
			Parameters: &apiextensionsv1.JSON{Raw: params},
			Priority:   req.Priority,
		},
	}
}

// readBody reads at most limit bytes of the body: 413 beyond that.
func readBody(c *gin.Context, limit int64) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, limit))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, newError(problemPayloadTooLarge, "the body is larger than %d bytes", limit)
	}
	if err != nil {
		return nil, newError(problemMalformedJSON, "the body could not be read")
	}
	return body, nil
}

// pollOf is a type's polling hint in seconds.
func pollOf(t *v1alpha1.AsyncJobType) int {
	if t != nil && t.Spec.PollIntervalSeconds > 0 {
		return int(t.Spec.PollIntervalSeconds)
	}
	return defaultPollSeconds
}
