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

package chaos

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/asyncjob/asyncjob/test/localcluster"
	"github.com/asyncjob/asyncjob/test/restclient"
	"github.com/asyncjob/asyncjob/test/stack"
)

// TestSlowAPIServer: the API replicas reach kube-apiserver through a proxy
// that delays every chunk by 15 s, beyond the documented 10 s deadline.
// Requests that need the API server (a submission, a read of a job the
// cache does not know, a TokenReview to authenticate) answer 503 with
// Retry-After within the deadline, not when the API server finally answers;
// reads from the cache answer at once. Without the latency, and after every
// connection through the proxy is cut, the API recovers by itself.
func TestSlowAPIServer(t *testing.T) {
	var proxy *localcluster.Proxy
	var proxyKubeconfig string
	e := start(t, stack.Options{BeforeStart: func(_ context.Context, s *stack.Stack) (err error) {
		if proxy, err = s.Cluster.NewProxy(); err != nil {
			return err
		}
		if proxyKubeconfig, err = s.Cluster.KubeconfigViaProxy(proxy); err != nil {
			return err
		}
		s.AddAPIArgs("--kubeconfig=" + proxyKubeconfig)
		return nil
	}})
	t.Cleanup(func() { _ = proxy.Close() })
	ctx := context.Background()

	// A third API process, authenticating with TokenReviews through the proxy.
	addr := "127.0.0.1:" + freePort(t)
	review, err := localcluster.StartProcess(e.s.Dir(), "api-tokenreview", e.s.Binary(), "api",
		"--kubeconfig="+proxyKubeconfig, "--bind-address="+addr, "--auth-mode=tokenreview",
		"--tenant-namespace-template=tenant-{tenant}")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = review.Stop(10 * time.Second) })
	if err := localcluster.WaitReady(ctx, review, 2*time.Minute, func(ctx context.Context) bool {
		resp, _, err := (&restclient.Client{Base: "http://" + addr, HTTP: http.DefaultClient}).Do(ctx, http.MethodGet, "/readyz", nil)
		return err == nil && resp.StatusCode == http.StatusOK
	}); err != nil {
		t.Fatal(err)
	}
	reviewClient := &restclient.Client{Base: "http://" + addr, Key: "not-a-kubernetes-token", HTTP: &http.Client{Timeout: time.Minute}}

	known := mustSubmit(t, e, typeOK, 0)
	if _, err := e.waitStatus(ctx, known, 3*time.Minute, "COMPLETED"); err != nil {
		t.Fatal(err)
	}

	proxy.SetLatency(15 * time.Second)
	t.Log("slow API server: 15 s latency on every chunk through the proxy")
	for _, c := range e.clients {
		c.HTTP.Timeout = time.Minute // the answer's time is measured, not cut
		expectUnavailableInTime(t, c, http.MethodPost, "/v1/jobs", submitBody(typeOK, 1))
		expectUnavailableInTime(t, c, http.MethodGet, "/v1/jobs/6f1c6c1e-4f0e-4a53-9a8e-2b8f0f0f7a21", nil)
		began := time.Now()
		resp, raw, err := c.Do(ctx, http.MethodGet, "/v1/jobs/"+known, nil)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Errorf("GET a known job via %s while the API server is slow: %v %s, want 200 from the cache", c.Base, err, statusOf(resp, raw))
		}
		t.Logf("slow API server: cached GET via %s answered in %s", c.Base, time.Since(began).Round(time.Millisecond))
	}
	expectUnavailableInTime(t, reviewClient, http.MethodGet, "/v1/jobs", nil)

	proxy.SetLatency(0)
	proxy.Cut()
	t.Log("slow API server: latency removed, every proxied connection cut")
	for _, c := range e.clients {
		err := wait.PollUntilContextTimeout(ctx, time.Second, 3*time.Minute, true, func(ctx context.Context) (bool, error) {
			resp, _, err := c.Do(ctx, http.MethodGet, "/v1/jobs?limit=1", nil)
			return err == nil && resp.StatusCode == http.StatusOK, nil
		})
		if err != nil {
			t.Fatalf("%s did not recover: %v", c.Base, err)
		}
	}
	fresh := mustSubmit(t, e, typeOK, 2)
	if _, err := e.waitStatus(ctx, fresh, 5*time.Minute, "COMPLETED"); err != nil {
		t.Error(err)
	}
	// The TokenReview answers again: an unknown token is 401, not 503.
	err = wait.PollUntilContextTimeout(ctx, time.Second, 3*time.Minute, true, func(ctx context.Context) (bool, error) {
		resp, _, err := reviewClient.Do(ctx, http.MethodGet, "/v1/jobs", nil)
		return err == nil && resp.StatusCode == http.StatusUnauthorized, nil
	})
	if err != nil {
		t.Errorf("the TokenReview API did not recover: %v", err)
	}
}

// expectUnavailableInTime sends one request and fails t unless it answers
// 503 with Retry-After within the deadline (plus slack for a busy machine).
func expectUnavailableInTime(t *testing.T, c *restclient.Client, method, path string, body any) {
	t.Helper()
	began := time.Now()
	resp, raw, err := c.DoWithHeader(context.Background(), method, path, body, http.Header{"Idempotency-Key": {"slow-" + time.Now().Format(time.RFC3339Nano)}})
	took := time.Since(began)
	switch {
	case err != nil:
		t.Errorf("%s %s via %s: %v after %s", method, path, c.Base, err, took)
	case resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "":
		t.Errorf("%s %s via %s: %d %s after %s, want 503 with Retry-After", method, path, c.Base, resp.StatusCode, raw, took)
	case took > kubeDeadline+outageSlack:
		t.Errorf("%s %s via %s: 503 after %s, past the %s deadline", method, path, c.Base, took, kubeDeadline)
	}
	t.Logf("slow API server: %s %s via %s answered %s in %s", method, path, c.Base, statusOf(resp, nil), took.Round(100*time.Millisecond))
}

func freePort(t *testing.T) string {
	t.Helper()
	p, err := localcluster.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return strconv.Itoa(p)
}
