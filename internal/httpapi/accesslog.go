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
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/go-logr/logr"
)

// unmatchedRoute labels requests that matched no route.
const unmatchedRoute = "unmatched"

// accessLog logs one line per request and records the metrics. It logs the
// path without the query and never any header: Authorization carries secrets.
func accessLog(log logr.Logger, m *metrics) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = unmatchedRoute
		}
		status := c.Writer.Status()
		elapsed := time.Since(start)
		m.requests.WithLabelValues(route, c.Request.Method, strconv.Itoa(status)).Inc()
		m.duration.WithLabelValues(route, c.Request.Method).Observe(elapsed.Seconds())
		kv := []any{keyMethod, c.Request.Method, "path", c.Request.URL.Path, keyRoute, route,
			"status", status, "durationMs", elapsed.Milliseconds(), "bytes", c.Writer.Size(), "remote", c.ClientIP()}
		if v, ok := c.Get(identityKey{}); ok {
			if id, ok := v.(identity); ok {
				kv = append(kv, "tenant", id.Tenant, "subject", id.Subject)
			}
		}
		log.V(1).Info("request", kv...)
	}
}

// recovery turns a panic into a 500 problem (via problemMiddleware) and logs it.
func recovery(log logr.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if r := recover(); r != nil {
				err := fmt.Errorf("panic: %v", r)
				log.Error(err, "handler panicked", "route", c.FullPath())
				_ = c.Error(newError(problemInternal, "the server could not complete the request").withCause(err))
				c.Abort()
			}
		}()
		c.Next()
	}
}
