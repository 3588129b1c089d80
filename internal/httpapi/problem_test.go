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
	"net"
	"net/http"
	"regexp"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestProblemTypesAreWellFormed(t *testing.T) {
	code := regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)
	seen := map[string]bool{}
	for _, p := range problemTypes {
		if !code.MatchString(p.Code) || p.Title == "" || p.Status < 400 || http.StatusText(p.Status) == "" {
			t.Errorf("problem type %+v", p)
		}
		if seen[p.Slug] || seen[p.Code] {
			t.Errorf("duplicate %s / %s", p.Slug, p.Code)
		}
		seen[p.Slug], seen[p.Code] = true, true
	}
}

func TestFromKube(t *testing.T) {
	gr := schema.GroupResource{Group: "asyncjob.io", Resource: "asyncjobs"}
	cases := []struct {
		err  error
		want problemType
	}{
		{&net.OpError{Op: "dial", Err: errors.New("connection refused")}, problemUnavailable},
		{fmt.Errorf("wrapped: %w", context.DeadlineExceeded), problemUnavailable},
		{apierrors.NewServiceUnavailable("x"), problemUnavailable},
		{apierrors.NewTimeoutError("x", 1), problemUnavailable},
		{apierrors.NewTooManyRequests("x", 1), problemUnavailable},
		{apierrors.NewForbidden(gr, "x", errors.New("rbac")), problemInternal},
		{apierrors.NewBadRequest("x"), problemInternal},
		{newError(problemJobNotFound, "x"), problemJobNotFound},
	}
	for _, tc := range cases {
		got := classify(fromKube(tc.err, kubeAnswers{}))
		if got.kind != tc.want {
			t.Errorf("%v: %s, want %s", tc.err, got.kind.Code, tc.want.Code)
		}
		if got.kind == problemUnavailable && got.retryAfter == 0 {
			t.Errorf("%v: 503 without Retry-After", tc.err)
		}
	}
	if p := classify(errors.New("secret internal detail")).toProblem("/x"); p.Detail == "secret internal detail" || p.Status != 500 {
		t.Errorf("internal error leaked: %+v", p)
	}
}
