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
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"k8s.io/apimachinery/pkg/types"

	"github.com/asyncjob/asyncjob/api/v1alpha1"
)

// awaitFinished serves Prefer: wait=N on POST /v1/jobs (RFC 7240 4.3): it
// holds the answer until aj finishes or N seconds pass, and returns the job
// to answer with and whether it finished. The wait is served by the hub, so
// a held request costs no API call; the finished job is read from the cache.
func (s *Server) awaitFinished(c *gin.Context, aj *v1alpha1.AsyncJob) (*v1alpha1.AsyncJob, bool) {
	wait := preferredWait(c.Request.Header)
	if wait == 0 {
		return aj, false
	}
	if s.hub.isClosed() {
		return aj, false // shutting down: answer now, without holding
	}
	c.Header(headerPreferenceApplied, "wait="+strconv.Itoa(wait))
	if aj.Status.State.IsFinished() {
		return aj, true
	}
	key := types.NamespacedName{Namespace: aj.Namespace, Name: aj.Name}
	ev := s.holdFor(unboundedContext(c.Request.Context()), key, time.Duration(wait)*time.Second,
		func(ev *jobEvent) bool { return ev.deleted || ev.finished() })
	if latest, ok := s.reread(c, aj); ok {
		aj = latest
	}
	return aj, ev != nil && aj.Status.State.IsFinished()
}

// holdUnchanged serves Prefer: wait=N on a conditional GET /v1/jobs/{id}: while
// aj's representation still has an ETag in If-None-Match, the answer waits
// until it changes or N seconds pass (then the caller answers 304). It returns
// the job to answer with.
func (s *Server) holdUnchanged(c *gin.Context, aj *v1alpha1.AsyncJob) (*v1alpha1.AsyncJob, error) {
	inm := c.GetHeader("If-None-Match")
	wait := preferredWait(c.Request.Header)
	if wait == 0 || inm == "" || inm == "*" {
		return aj, nil
	}
	cur, err := render(aj)
	if err != nil {
		return nil, err
	}
	etag, queued, err := s.queuedETag(c.Request.Context(), aj, cur.etag) // queue_view.go
	if err != nil {
		return nil, err
	}
	if !etagMatches(inm, etag) || s.hub.isClosed() {
		return aj, nil // changed already, or shutting down: answer now
	}
	c.Header(headerPreferenceApplied, "wait="+strconv.Itoa(wait))
	key := types.NamespacedName{Namespace: aj.Namespace, Name: aj.Name}
	if s.holdFor(unboundedContext(c.Request.Context()), key, time.Duration(wait)*time.Second,
		func(ev *jobEvent) bool { return ev.deleted || queued || !etagMatches(inm, ev.etag) }) == nil {
		return aj, nil
	}
	id, _, err := s.namespaceOf(c)
	if err != nil {
		return nil, err
	}
	ctx := s.freshContext(c)
	// A job deleted meanwhile is not found now, as a plain GET would say.
	return s.store.getJob(ctx, aj.Namespace, id.Tenant, aj.Name)
}

// reread reads aj again after a hold, from the cache (the hub's event came
// from the same informer, so the cache has it).
func (s *Server) reread(c *gin.Context, aj *v1alpha1.AsyncJob) (*v1alpha1.AsyncJob, bool) {
	latest, err := s.store.getJob(s.freshContext(c), aj.Namespace, aj.Labels[v1alpha1.LabelTenant], aj.Name)
	return latest, err == nil
}

// freshContext gives the request a new Kubernetes deadline after a hold, which
// may have outlasted the first one; the rest of the handler uses it too. It
// is released when the request ends.
func (s *Server) freshContext(c *gin.Context) context.Context {
	unbounded := unboundedContext(c.Request.Context())
	ctx, cancel := context.WithTimeout(unbounded, s.cfg.KubeTimeout)
	context.AfterFunc(unbounded, cancel)
	ctx = context.WithValue(ctx, unboundedContextKey{}, unbounded)
	c.Request = c.Request.WithContext(ctx)
	return ctx
}

// varyPrefer marks a response that depends on the Prefer header (RFC 9110 12.5.5).
func varyPrefer(c *gin.Context) { c.Writer.Header().Add("Vary", headerPrefer) }
