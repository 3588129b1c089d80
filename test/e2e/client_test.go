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

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/asyncjob/asyncjob/internal/httpapi"
	"github.com/asyncjob/asyncjob/test/restclient"
)

// restClient is the tests' REST client, with helpers that fail the test.
type restClient struct {
	restclient.Client
}

// submit POSTs a job and returns its id; anything but 202 fails the test.
func (c *restClient) submit(t *testing.T, jobType string, params map[string]any) string {
	t.Helper()
	resp, raw, err := c.Do(context.Background(), http.MethodPost, "/v1/jobs", map[string]any{"type": jobType, "parameters": params})
	if err != nil {
		t.Fatalf("POST /v1/jobs: %v", err)
	}
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST /v1/jobs: %d %s", resp.StatusCode, raw)
	}
	var job httpapi.Job
	if err := json.Unmarshal(raw, &job); err != nil {
		t.Fatalf("POST /v1/jobs: %v in %s", err, raw)
	}
	if loc := resp.Header.Get("Location"); loc != "/v1/jobs/"+job.ID {
		t.Fatalf("Location %q for job %s", loc, job.ID)
	}
	return job.ID
}

// withHeader is the client sending one more request header (an Idempotency-Key).
func (c *restClient) withHeader(name, value string) *restClient {
	cp := *c
	cp.HTTP = &http.Client{Timeout: c.HTTP.Timeout, Transport: headerTransport{name, value, http.DefaultTransport}}
	return &cp
}

type headerTransport struct {
	name, value string
	next        http.RoundTripper
}

func (h headerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.Header.Set(h.name, h.value)
	return h.next.RoundTrip(req)
}

// get reads a job; ok is false on 404.
func (c *restClient) get(ctx context.Context, id string) (job httpapi.Job, ok bool, err error) {
	resp, raw, err := c.Do(ctx, http.MethodGet, "/v1/jobs/"+id, nil)
	if err != nil {
		return job, false, err
	}
	switch resp.StatusCode {
	case http.StatusOK:
		return job, true, json.Unmarshal(raw, &job)
	case http.StatusNotFound:
		return job, false, nil
	default:
		return job, false, fmt.Errorf("GET /v1/jobs/%s: %d %s", id, resp.StatusCode, raw)
	}
}

// waitFor polls a job, as a client following Retry-After would (faster, to keep
// the suite short), until cond holds. The timeout bounds a hang; it measures nothing.
func (c *restClient) waitFor(t *testing.T, id string, timeout time.Duration, what string, cond func(j httpapi.Job, found bool) bool) httpapi.Job {
	t.Helper()
	var last httpapi.Job
	var lastFound bool
	var lastErr error
	err := wait.PollUntilContextTimeout(context.Background(), 250*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		last, lastFound, lastErr = c.get(ctx, id)
		return lastErr == nil && cond(last, lastFound), nil
	})
	if err != nil {
		t.Fatalf("job %s: waiting for %s: last status %q (found %v), error %v\n%s", id, what, last.Status, lastFound, lastErr, describe(id))
	}
	return last
}

func (c *restClient) waitStatus(t *testing.T, id string, want httpapi.Status, timeout time.Duration) httpapi.Job {
	t.Helper()
	return c.waitFor(t, id, timeout, string(want), func(j httpapi.Job, found bool) bool { return found && j.Status == want })
}
