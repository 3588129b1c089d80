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
	"k8s.io/apimachinery/pkg/types"

	"github.com/asyncjob/asyncjob/api/v1alpha1"
)

// writeJob answers GET /v1/jobs/{id} with aj's representation. The ETag is
// always the SHA-256 of the exact bytes (docs/api.md), but the hub has most
// jobs already rendered and hashed, once per change (events_hub.go): when
// its rendering is of aj's resourceVersion and the job shows no place in
// line (which the hub's events do not carry), the answer reuses it, and a
// 304 costs neither a rendering nor a hash.
func (s *Server) writeJob(c *gin.Context, aj *v1alpha1.AsyncJob) error {
	ctx := c.Request.Context()
	var view *Job
	if st := aj.Status.State; st == "" || st == v1alpha1.StatePending {
		// Only a waiting job can have a place in line (queueOf, withQueue).
		v := s.jobView(ctx, aj)
		if v.Queue != nil {
			return writeJSON(c, http.StatusOK, v)
		}
		view = &v
	}
	key := types.NamespacedName{Namespace: aj.Namespace, Name: aj.Name}
	if data, etag, ok := s.hub.rendered(key, aj.ResourceVersion); ok &&
		(data != nil || etagMatches(c.GetHeader("If-None-Match"), etag)) {
		return writeRepresentation(c, http.StatusOK, data, etag)
	}
	if view == nil {
		v := s.jobView(ctx, aj)
		view = &v
	}
	return writeJSON(c, http.StatusOK, view)
}

// rendered is the job's latest event's data and ETag, when that event
// renders resourceVersion rv: it is of rv, or rv changed only hidden fields
// since. data is nil once the event has left the history (the ETag stays).
func (h *hub) rendered(key types.NamespacedName, rv string) (data []byte, etag string, ok bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	ev := h.latest[key]
	if ev == nil || rv == "" || (ev.id != rv && h.sameAs[key] != rv) {
		return nil, "", false
	}
	return ev.data, ev.etag, true
}
