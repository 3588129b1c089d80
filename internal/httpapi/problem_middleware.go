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
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
	"github.com/go-logr/logr"
)

// handlerFunc is the shape of every endpoint: it writes the success response
// itself and returns any failure as an error for problemMiddleware.
type handlerFunc func(c *gin.Context) error

// handle adapts a handlerFunc to gin.
func handle(fn handlerFunc) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := fn(c); err != nil {
			_ = c.Error(err)
			c.Abort()
		}
	}
}

// problemMiddleware is the one place errors become responses: it turns the
// last error a handler recorded into an application/problem+json body. Errors
// it does not recognise are logged and answered with a generic 500 so internal
// text never reaches the client.
func problemMiddleware(log logr.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Next()
		if len(c.Errors) == 0 || c.Writer.Written() {
			return
		}
		ae := classify(c.Errors.Last().Err)
		switch {
		case ae.kind.Status == http.StatusServiceUnavailable:
			// Expected while the cache syncs or the Kubernetes API is away: worth
			// a line, not an error with a stack trace per request.
			log.Info("request answered 503", "method", c.Request.Method, "route", c.FullPath(), "code", ae.kind.Code)
		case ae.kind.Status >= http.StatusInternalServerError:
			log.Error(ae.cause, "request failed", "method", c.Request.Method, "route", c.FullPath(), "code", ae.kind.Code)
		}
		writeProblem(c, ae)
	}
}

// writeProblem writes ae as the response.
func writeProblem(c *gin.Context, ae *apiError) {
	for k, v := range ae.headers {
		c.Header(k, v)
	}
	if ae.retryAfter > 0 {
		c.Header("Retry-After", strconv.Itoa(ae.retryAfter))
	}
	body, err := json.Marshal(ae.toProblem(c.Request.URL.Path))
	if err != nil { // cannot happen for these types; keep the status anyway
		c.Status(ae.kind.Status)
		return
	}
	c.Data(ae.kind.Status, problemMediaType, body)
}

// classify maps any error to an apiError: errors that are not apiErrors are
// bugs or unexpected failures, answered with a generic 500 whose cause is only
// logged. The store turns Kubernetes errors into apiErrors (see fromKube).
func classify(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	return newError(problemInternal, "the server could not complete the request").withCause(err)
}
