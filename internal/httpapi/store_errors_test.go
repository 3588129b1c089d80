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
	"bytes"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// TestFromKubeStorageUnavailable: what kube-apiserver answers while etcd is
// down or restarting, as it builds those answers, becomes 503 with
// Retry-After and no internal text; a 500 about anything else stays a 500.
func TestFromKubeStorageUnavailable(t *testing.T) {
	gr := schema.GroupResource{Group: "asyncjob.io", Resource: "asyncjobs"}
	for _, tc := range []struct {
		name string
		err  error
		want int
	}{
		{"etcd request timed out", apierrors.NewInternalError(errors.New("etcdserver: request timed out")), http.StatusServiceUnavailable},
		{"etcd leader changed", apierrors.NewInternalError(errors.New("etcdserver: leader changed")), http.StatusServiceUnavailable},
		{"etcd unreachable", apierrors.NewInternalError(errors.New("rpc error: code = Unavailable desc = connection error: desc = \"transport: Error while dialing: dial tcp 127.0.0.1:2379: connect: connection refused\"")), http.StatusServiceUnavailable},
		{"storage deadline", apierrors.NewInternalError(errors.New("context deadline exceeded")), http.StatusServiceUnavailable},
		{"server timeout", apierrors.NewServerTimeout(gr, "create", 1), http.StatusServiceUnavailable},
		{"timeout", apierrors.NewTimeoutError("request did not complete within requested timeout", 1), http.StatusServiceUnavailable},
		{"too many requests", apierrors.NewTooManyRequests("slow down", 1), http.StatusServiceUnavailable},
		{"service unavailable", apierrors.NewServiceUnavailable("etcd is down"), http.StatusServiceUnavailable},
		{"another internal error", apierrors.NewInternalError(errors.New("admission webhook exploded")), http.StatusInternalServerError},
		{"forbidden", apierrors.NewForbidden(gr, "x", errors.New("no")), http.StatusInternalServerError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ae *apiError
			if !errors.As(fromKube(tc.err, kubeAnswers{}), &ae) {
				t.Fatalf("fromKube(%v) is not an API error", tc.err)
			}
			if ae.kind.Status != tc.want {
				t.Errorf("fromKube(%v): %d, want %d", tc.err, ae.kind.Status, tc.want)
			}
			if tc.want == http.StatusServiceUnavailable && ae.retryAfter == 0 {
				t.Errorf("fromKube(%v): no Retry-After", tc.err)
			}
		})
	}
}

// etcdDownChild marks the child test process of TestEtcdDownIsUnavailable,
// which stops its own envtest's etcd.
const etcdDownChild = "ASYNCJOB_TEST_ETCD_DOWN_CHILD"

// TestEtcdDownIsUnavailable: with etcd down behind a running kube-apiserver
// (whose 500s then say "etcdserver: request timed out" or "context deadline
// exceeded"), a submission answers 503 with Retry-After and no internal text,
// not 500; reads of known jobs keep answering from the cache. Stopping etcd
// ends envtest for good, so the test runs in a child process with an envtest
// of its own.
func TestEtcdDownIsUnavailable(t *testing.T) {
	if testEnv == nil {
		t.Skip("envtest is not available")
	}
	if os.Getenv(etcdDownChild) == "" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestEtcdDownIsUnavailable$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), etcdDownChild+"=1")
		out, err := cmd.CombinedOutput()
		if err != nil || !bytes.Contains(out, []byte("--- PASS: TestEtcdDownIsUnavailable")) {
			t.Fatalf("the child test process (its own envtest, whose etcd it stops) failed: %v\n%s", err, out)
		}
		return
	}
	// The production deadline: with it kube-apiserver answers first.
	h := newHarness(t, func(c *Config) { c.KubeTimeout = DefaultKubeTimeout })
	known := h.submit(h.tenantA, nil)
	h.waitListed(h.tenantA, 1)
	h.must(testEnv.StopEtcd())

	body := map[string]any{"type": h.typ, "parameters": map[string]any{"input": "https://example.com/a", "format": "webm"}}
	r := h.request(http.MethodPost, "/v1/jobs", h.tenantA, body, "Idempotency-Key", "etcd-down").expect(t, http.StatusServiceUnavailable)
	if p := r.problem(t); p.Code != problemUnavailable.Code || r.Header.Get("Retry-After") == "" {
		t.Errorf("problem %+v, Retry-After %q", p, r.Header.Get("Retry-After"))
	}
	for _, internal := range []string{"etcd", "deadline", "Internal error", "rpc error"} {
		if bytes.Contains(r.body, []byte(internal)) {
			t.Errorf("the 503 leaks %q: %s", internal, r.body)
		}
	}
	h.request(http.MethodGet, "/v1/jobs/"+known.ID, h.tenantA, nil).expect(t, http.StatusOK)
}
