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
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/internal/workertoken"
)

// problemJobGone answers a worker whose job is being deleted.
var problemJobGone = problemType{"job-gone", "Job is being deleted", http.StatusGone, "JOB_GONE"}

// workerJobKey is the typed context key of the job a worker token opened.
type workerJobKey struct{}

// workerAuth authenticates the worker routes: the bearer token must be the
// worker token (internal/workertoken) of the AsyncJob the URL names, in the
// namespace the token names, with that object's UID, so a token of another
// job, or of an earlier job of the same name, opens nothing. No client
// credential is accepted here, and no tenant is involved: the token is the
// job's own.
//
// Every refusal that could tell whether a job exists (no such job, a wrong
// token, a client credential) is the same 401. A job that the token does open
// but that is finished (409) or being deleted (410) is refused with a problem
// that says so; the entrypoint stops calling back after any of them.
func (s *Server) workerAuth() gin.HandlerFunc {
	return handle(func(c *gin.Context) error {
		refused := newError(problemUnauthenticated, "send this job's worker token (the file $ASYNCJOB_TOKEN_FILE) as 'Authorization: Bearer <token>'").
			withHeader("WWW-Authenticate", bearerScheme+` realm="`+realm+`-worker"`)
		if len(s.cfg.WorkerTokenKey) == 0 {
			refused.detail = "worker callbacks are not enabled on this API server (it has no --worker-token-key-file)"
			return refused
		}
		token, ok := bearerToken(c.Request)
		if !ok {
			return refused
		}
		ns, ok := workertoken.Parse(token)
		if !ok {
			return refused
		}
		aj, err := s.store.workerJob(c.Request.Context(), ns, c.Param("id"))
		if err != nil {
			return err
		}
		if aj == nil || !workertoken.Verify(s.cfg.WorkerTokenKey, token, aj.Namespace, aj.Name, string(aj.UID)) {
			return refused
		}
		switch {
		case aj.DeletionTimestamp != nil:
			return newError(problemJobGone, "job %s is being deleted; its worker can no longer report", aj.Name)
		case aj.Status.State.IsFinished():
			return newError(problemJobFinished, "job %s is already %s; its worker can no longer report", aj.Name, statusOf(aj.Status.State))
		}
		c.Request = c.Request.WithContext(context.WithValue(c.Request.Context(), workerJobKey{}, aj))
		c.Next()
		return nil
	})
}

// workerJobFrom returns the job workerAuth opened, as it was read then.
func workerJobFrom(ctx context.Context) (*v1alpha1.AsyncJob, bool) {
	aj, ok := ctx.Value(workerJobKey{}).(*v1alpha1.AsyncJob)
	return aj, ok
}

// refuseWorkerTokens keeps worker tokens off the client routes, whatever the
// authentication mode (--auth-mode=none accepts any credential): a worker
// token opens its job's callbacks only. It also keeps them from being sent
// on to a TokenReview.
func refuseWorkerTokens() gin.HandlerFunc {
	return handle(func(c *gin.Context) error {
		if token, ok := bearerToken(c.Request); ok && strings.HasPrefix(token, workertoken.Prefix) {
			return newError(problemUnauthenticated, "a worker token opens its job's progress and result callbacks only; send a client credential").
				withHeader("WWW-Authenticate", bearerScheme+` realm="`+realm+`"`)
		}
		c.Next()
		return nil
	})
}
