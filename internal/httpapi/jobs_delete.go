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
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// deleteJob handles DELETE /v1/jobs/{id}: the AsyncJob is deleted with
// foreground propagation, so its Job and pods go first (the garbage collector
// removes them; blockOwnerDeletion holds the AsyncJob until then). While that
// runs the job is still readable with deleting=true and DELETE answers 202 again;
// once it is gone, 404.
func (s *Server) deleteJob(c *gin.Context) error {
	aj, err := s.lookupJob(c)
	if err != nil {
		return err
	}
	if aj.DeletionTimestamp == nil {
		if err := s.store.deleteJob(c.Request.Context(), aj); err != nil {
			return err
		}
		// Show the deleting mark; the API server set it, the cache may lag.
		now := metav1.Now()
		aj.DeletionTimestamp = &now
	}
	return writeJSON(c, http.StatusAccepted, toJob(aj))
}
