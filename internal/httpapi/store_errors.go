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
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// unavailableRetryAfter is the Retry-After (seconds) sent with 503s: long enough
// for a restarted API server to come back, short enough not to stall clients.
const unavailableRetryAfter = 5

// kubeAnswers says what the API server's refusals mean for one call. The
// zero value means nothing in particular: every refusal is a 500.
type kubeAnswers struct {
	// notFound answers NotFound: the object the call is about does not exist.
	notFound *apiError
	// conflict answers Conflict: a precondition of the call no longer holds.
	conflict *apiError
}

// fromKube is the one place a failed Kubernetes call becomes an API error.
// Failures that mean "the API server is not answering" become 503 with
// Retry-After, so clients back off and the API recovers by itself once the API
// server is back; the refusals in answers become what answers says; anything
// else is a 500 whose cause is only logged.
func fromKube(err error, answers kubeAnswers) error {
	if err == nil {
		return nil
	}
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	switch {
	case isUnavailable(err):
		return newError(problemUnavailable, "the job store is temporarily unavailable; retry later").
			withRetryAfter(unavailableRetryAfter).withCause(err)
	case answers.notFound != nil && apierrors.IsNotFound(err):
		return answers.notFound
	case answers.conflict != nil && apierrors.IsConflict(err):
		return answers.conflict
	}
	return newError(problemInternal, "the server could not complete the request").withCause(err)
}

// isUnavailable reports whether err means the Kubernetes API could not be
// reached or could not answer in time, as opposed to answering "no".
func isUnavailable(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var status apierrors.APIStatus
	if !errors.As(err, &status) {
		// Not an answer from the API server: a transport error (connection
		// refused or reset, TLS, DNS). The server is unreachable.
		return !errors.Is(err, context.Canceled)
	}
	return apierrors.IsServiceUnavailable(err) || apierrors.IsServerTimeout(err) ||
		apierrors.IsTimeout(err) || apierrors.IsTooManyRequests(err) ||
		(apierrors.IsInternalError(err) && storageUnavailable(status.Status().Message))
}

// storageMessages are what kube-apiserver's 500s say when etcd, not the
// request, is the problem: etcd is down, restarting or has no leader. The
// API server has no more specific status for these, so the message decides.
var storageMessages = []string{
	"etcdserver: request timed out",
	"etcdserver: leader changed",
	"etcdserver: no leader",
	"etcdserver: too many requests",
	"etcdserver: server stopped",
	"code = Unavailable",
	"code = DeadlineExceeded",
	"context deadline exceeded",
	"connection refused",
	"connection reset",
}

func storageUnavailable(message string) bool {
	for _, m := range storageMessages {
		if strings.Contains(message, m) {
			return true
		}
	}
	return false
}
