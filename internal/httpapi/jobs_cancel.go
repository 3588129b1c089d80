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

	"github.com/asyncjob/asyncjob/api/v1alpha1"
)

// cancelJob handles POST /v1/jobs/{id}/cancel by setting spec.cancel; the
// controller then deletes the Job with foreground propagation. Repeating it is
// harmless: 202 while the job stops, 200 once it is CANCELLED.
func (s *Server) cancelJob(c *gin.Context) error {
	aj, err := s.lookupJob(c)
	if err != nil {
		return err
	}
	switch aj.Status.State {
	case v1alpha1.StateCancelled:
		s.jobHeaders(c, aj)
		return writeJSON(c, http.StatusOK, toJob(aj))
	case v1alpha1.StateCompleted, v1alpha1.StateFailed:
		return newError(problemJobFinished, "job %s is already %s and cannot be cancelled", aj.Name, statusOf(aj.Status.State))
	}
	if !aj.Spec.Cancel && aj.DeletionTimestamp == nil {
		if err := s.store.requestCancel(c.Request.Context(), aj); err != nil {
			return err
		}
	}
	c.Header("Location", jobPath(aj.Name))
	s.jobHeaders(c, aj)
	return writeJSON(c, http.StatusAccepted, toJob(aj))
}
