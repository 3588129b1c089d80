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
	"net/http"

	"github.com/gin-gonic/gin"
)

// healthz answers while the process serves requests at all.
func (s *Server) healthz(c *gin.Context) {
	c.Data(http.StatusOK, "application/json", []byte(`{"status":"ok"}`))
}

// readyz answers 200 only once the informer cache has synced: before that, reads
// would answer 404 for jobs that exist.
func (s *Server) readyz(c *gin.Context) error {
	if !s.cfg.Ready() {
		return newError(problemNotReady, "the job cache has not synced yet").withRetryAfter(1)
	}
	c.Data(http.StatusOK, "application/json", []byte(`{"status":"ready"}`))
	return nil
}
