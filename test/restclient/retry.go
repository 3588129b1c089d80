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

package restclient

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Submission is what a good client's submission of one job went through.
type Submission struct {
	// Key is the Idempotency-Key sent with every attempt.
	Key string
	// ID is the job's id, from the first 202; empty if none came.
	ID string
	// Attempts counts requests sent; Failures describes each attempt that
	// was not a 202 (status or transport error), in order.
	Attempts int
	Failures []string
	// Refused is set when the API answered a status a retry cannot change
	// (a 4xx other than 408 and 429): the client gives up at once.
	Refused bool
	// Accepted is when the 202 arrived.
	Accepted time.Time
}

// RetryPolicy is how a good client retries a submission.
type RetryPolicy struct {
	// Timeout bounds each attempt (it should exceed the API's documented
	// 10 s deadline for its Kubernetes calls).
	Timeout time.Duration
	// MaxWait caps one wait between attempts, whatever Retry-After says.
	MaxWait time.Duration
	// GiveUp bounds the whole submission.
	GiveUp time.Duration
}

// SubmitRetrying POSTs body to /v1/jobs with one Idempotency-Key until an
// answer is final, as a good client does: on a transport error, a timeout, a
// 408, 429 or 5xx it waits (Retry-After, capped by MaxWait; else 500 ms) and
// sends the same request with the same key again, each time to the next of
// replicas (clients of one API behind a load balancer). It stops at a 202,
// at another 4xx, or after GiveUp.
func SubmitRetrying(ctx context.Context, replicas []*Client, first int, key string, body any, p RetryPolicy) Submission {
	ctx, cancel := context.WithTimeout(ctx, p.GiveUp)
	defer cancel()
	s := Submission{Key: key}
	header := http.Header{"Idempotency-Key": {key}}
	for i := first; ctx.Err() == nil; i++ {
		c := replicas[i%len(replicas)]
		s.Attempts++
		actx, acancel := context.WithTimeout(ctx, p.Timeout)
		resp, raw, err := c.DoWithHeader(actx, http.MethodPost, "/v1/jobs", body, header)
		acancel()
		wait := 500 * time.Millisecond
		switch {
		case err != nil:
			s.Failures = append(s.Failures, fmt.Sprintf("%s: %v", c.Base, err))
		case resp.StatusCode == http.StatusAccepted:
			var job struct {
				ID string `json:"id"`
			}
			if err := json.Unmarshal(raw, &job); err != nil || job.ID == "" {
				s.Failures = append(s.Failures, fmt.Sprintf("%s: 202 with body %s", c.Base, raw))
				s.Refused = true
				return s
			}
			s.ID, s.Accepted = job.ID, time.Now()
			return s
		case resp.StatusCode == http.StatusRequestTimeout || resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
			s.Failures = append(s.Failures, fmt.Sprintf("%s: %d %s", c.Base, resp.StatusCode, raw))
			if secs, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && secs > 0 {
				wait = time.Duration(secs) * time.Second
			}
		default:
			s.Failures = append(s.Failures, fmt.Sprintf("%s: %d %s", c.Base, resp.StatusCode, raw))
			s.Refused = true
			return s
		}
		select {
		case <-ctx.Done():
		case <-time.After(min(wait, p.MaxWait)):
		}
	}
	return s
}

// Status reads a job's status through any replica that answers: "" and an
// error when none does, found false on 404.
func Status(ctx context.Context, replicas []*Client, first int, id string) (status string, found bool, err error) {
	for i := range replicas {
		c := replicas[(first+i)%len(replicas)]
		resp, raw, err := c.Do(ctx, http.MethodGet, "/v1/jobs/"+id, nil)
		if err != nil {
			continue
		}
		switch resp.StatusCode {
		case http.StatusOK:
			var job struct {
				Status string `json:"status"`
			}
			if err := json.Unmarshal(raw, &job); err != nil {
				return "", false, err
			}
			return job.Status, true, nil
		case http.StatusNotFound:
			return "", false, nil
		}
	}
	return "", false, fmt.Errorf("no replica answered GET /v1/jobs/%s", id)
}
