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
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	corev1 "k8s.io/api/core/v1"

	"github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/internal/paramschema"
)

// The problem types of GET /v1/jobs/{id}/logs.
var (
	problemLogsNotReady = problemType{"logs-not-ready", "Job logs not available yet", http.StatusConflict, "LOGS_NOT_READY"}
	problemNoLogs       = problemType{"no-logs", "Job has no logs", http.StatusConflict, "NO_LOGS"}
)

// The query parameters of GET /v1/jobs/{id}/logs, named as kubectl's
// PodLogOptions name them.
const (
	queryFollow     = "follow"
	queryTailLines  = "tailLines"
	queryLimitBytes = "limitBytes"
	queryAttempt    = "attempt"
)

// headerAttempt names the attempt whose log the body is.
const headerAttempt = "Job-Attempt"

// logMediaType is the body's type: the container's output, as it wrote it.
const logMediaType = "text/plain; charset=utf-8"

// logQuery is a parsed GET /v1/jobs/{id}/logs query.
type logQuery struct {
	follow     bool
	tailLines  *int64
	limitBytes *int64
	attempt    int // 0: the latest
}

// parseLogQuery validates the query on its own and reports every bad
// parameter at once, each as a field error whose pointer names it.
func parseLogQuery(q url.Values) (logQuery, error) {
	var lq logQuery
	var errs []paramschema.FieldError
	add := func(name, detail string) {
		errs = append(errs, paramschema.FieldError{Pointer: pointerTo(name), Detail: detail})
	}
	// integer parses one parameter that must be at least min.
	integer := func(name string, min int64) *int64 {
		n, err := strconv.ParseInt(q.Get(name), 10, 64)
		if err != nil || n < min {
			add(name, fmt.Sprintf("must be an integer of at least %d", min))
			return nil
		}
		return &n
	}
	for name, values := range q {
		switch name {
		case queryFollow, queryTailLines, queryLimitBytes, queryAttempt:
			if len(values) > 1 {
				add(name, "may be given once")
				continue
			}
		default:
			add(name, "unknown query parameter; allowed: follow, tailLines, limitBytes, attempt")
			continue
		}
		switch name {
		case queryFollow:
			switch values[0] {
			case "true":
				lq.follow = true
			case "false":
			default:
				add(name, "must be true or false")
			}
		case queryTailLines:
			lq.tailLines = integer(name, 0)
		case queryLimitBytes:
			lq.limitBytes = integer(name, 1)
		case queryAttempt:
			if n := integer(name, 1); n != nil {
				lq.attempt = int(min(*n, int64(maxAttempt)))
			}
		}
	}
	if len(errs) > 0 {
		sortFieldErrors(errs)
		e := newError(problemInvalidQuery, "the query has %d invalid parameter(s); see errors", len(errs))
		e.fields = errs
		return lq, e
	}
	return lq, nil
}

// maxAttempt bounds attempt numbers: far above any backoffLimit, and an int
// on every platform.
const maxAttempt = 1 << 20

// getLogs handles GET /v1/jobs/{id}/logs: one attempt's container log as
// text/plain, the latest attempt's unless attempt=N says otherwise. With
// follow=true the body streams until the container ends or the client goes.
func (s *Server) getLogs(c *gin.Context) error {
	q, err := parseLogQuery(c.Request.URL.Query())
	if err != nil {
		return err
	}
	aj, err := s.lookupJob(c)
	if err != nil {
		return err
	}
	ctx := c.Request.Context()
	pods, err := s.store.jobPods(ctx, aj)
	if err != nil {
		return err
	}
	req, err := s.pickAttempt(c, aj, pods, q)
	if err != nil {
		return err
	}
	// The stream must outlive the request's Kubernetes deadline, not the
	// client: it takes the request's own context, which ends when the client
	// goes away, and that ends the stream from the API server.
	rc, err := s.store.openLog(unboundedContext(ctx), aj.Namespace, req, s.cfg.KubeTimeout)
	if err != nil {
		return err
	}
	defer func() { _ = rc.Close() }()

	// The body lasts as long as the log: lift the server's write deadline, if
	// it has one, for this response only. (net/http already clears the read
	// deadline while a handler runs.) Writers that cannot set deadlines
	// (tests' recorders) have none to lift.
	if err := http.NewResponseController(c.Writer).SetWriteDeadline(time.Time{}); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	c.Header("Content-Type", logMediaType)
	c.Header("X-Content-Type-Options", "nosniff")
	c.Header("Cache-Control", "no-store")
	c.Header(headerAttempt, strconv.Itoa(req.attempt))
	c.Status(http.StatusOK)
	c.Writer.WriteHeaderNow()
	if q.follow {
		c.Writer.Flush() // the client sees the 200 before the first line
	}
	if err := copyLog(c.Writer, rc, q.follow); err != nil {
		// Too late for a problem: the status is sent. A client that went
		// away is the usual cause, worth a debug line only.
		s.cfg.Log.V(1).Info("log stream ended early", "job", aj.Name, "attempt", req.attempt, "error", err.Error())
	}
	return nil
}

// pickAttempt chooses the pod and container to read: attempt q.attempt
// (pods are oldest first), or the latest, and the template's first container,
// the worker (never the entrypoint's init container). It answers with a
// problem when there is nothing to read yet, or nothing any more.
func (s *Server) pickAttempt(c *gin.Context, aj *v1alpha1.AsyncJob, pods []corev1.Pod, q logQuery) (logRequest, error) {
	if len(pods) == 0 {
		if aj.Status.State.IsFinished() || aj.Spec.Cancel {
			return logRequest{}, newError(problemNoLogs, "job %s is %s and has no pod left; its logs are gone",
				aj.Name, statusOf(aj.Status.State))
		}
		return logRequest{}, newError(problemLogsNotReady, "job %s has no pod yet; its logs start once its container runs", aj.Name).
			withRetryAfter(s.pollSeconds(c, aj))
	}
	attempt := q.attempt
	if attempt == 0 {
		attempt = len(pods)
	}
	if attempt > len(pods) {
		e := newError(problemValidationFailed, "job %s has %d attempt(s) with a pod; see errors", aj.Name, len(pods))
		e.fields = []paramschema.FieldError{{Pointer: pointerTo(queryAttempt),
			Detail: fmt.Sprintf("must be between 1 and %d, the attempts whose pod exists", len(pods))}}
		return logRequest{}, e
	}
	pod := &pods[attempt-1]
	if len(pod.Spec.Containers) == 0 {
		return logRequest{}, errors.New("a job's pod without containers")
	}
	req := logRequest{pod: pod.Name, container: pod.Spec.Containers[0].Name, attempt: attempt,
		follow: q.follow, tailLines: q.tailLines, limitBytes: q.limitBytes}
	if started, waiting := containerStarted(pod, req.container); !started {
		if pod.Status.Phase == corev1.PodFailed || pod.Status.Phase == corev1.PodSucceeded {
			return logRequest{}, newError(problemNoLogs, "attempt %d of job %s ended before its container started", attempt, aj.Name)
		}
		detail := fmt.Sprintf("the container of attempt %d of job %s has not started yet", attempt, aj.Name)
		if waiting != "" {
			detail += " (" + waiting + ")"
		}
		return logRequest{}, newError(problemLogsNotReady, "%s; retry later", detail).
			withRetryAfter(s.pollSeconds(c, aj))
	}
	return req, nil
}

// containerStarted reports whether the pod's container has run (a log can
// exist), and otherwise the reason it waits (Kubernetes' short reason, such as
// ContainerCreating or ImagePullBackOff), if any.
func containerStarted(pod *corev1.Pod, name string) (bool, string) {
	i := slices.IndexFunc(pod.Status.ContainerStatuses, func(cs corev1.ContainerStatus) bool { return cs.Name == name })
	if i < 0 {
		if pod.Spec.NodeName == "" {
			return false, "waiting for a node"
		}
		return false, ""
	}
	st := pod.Status.ContainerStatuses[i].State
	if st.Running != nil || st.Terminated != nil {
		return true, ""
	}
	if st.Waiting != nil {
		return false, st.Waiting.Reason
	}
	return false, ""
}

// copyLog copies the log to w; with flush, each chunk is flushed as it
// arrives, so a followed log reaches the client line by line.
func copyLog(w gin.ResponseWriter, src io.Reader, flush bool) error {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return werr
			}
			if flush {
				w.Flush()
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// unboundedContextKey holds, in a request's context, the request's context
// before kubeTimeout bounded it.
type unboundedContextKey struct{}

// unboundedContext is ctx's request context without the Kubernetes deadline:
// still cancelled when the client goes away or the server shuts down.
func unboundedContext(ctx context.Context) context.Context {
	if u, ok := ctx.Value(unboundedContextKey{}).(context.Context); ok {
		return u
	}
	return ctx
}
