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

package entrypoint

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/util/wait"
)

const (
	// requestTimeout bounds one attempt of a callback.
	requestTimeout = 10 * time.Second
	// maxRetryAfter caps how long a Retry-After header makes a retry wait.
	maxRetryAfter = 30 * time.Second
	userAgent     = "asyncjob-entrypoint"
)

// callbackBackoff spaces the attempts of one callback: exponential from
// 500 ms, doubling, up to 30 s, each delay stretched by up to 50% at random
// so that the workers of many jobs do not retry in step.
var callbackBackoff = wait.Backoff{Duration: 500 * time.Millisecond, Factor: 2, Jitter: 0.5, Steps: 16, Cap: 30 * time.Second}

// callbacks calls the API server's worker callbacks of one job.
type callbacks struct {
	jobURL      string // {callback}/v1/jobs/{id}
	progressURL string
	resultURL   string
	token       string
	client      *http.Client
	backoff     wait.Backoff
	log         logr.Logger
}

func newCallbacks(base, jobID, token string, client *http.Client, log logr.Logger) (*callbacks, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%s must be an http or https URL, not %q", EnvCallbackURL, base)
	}
	if client == nil {
		client = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
	prefix := strings.TrimRight(base, "/") + "/v1/jobs/" + url.PathEscape(jobID)
	return &callbacks{
		jobURL:      prefix,
		progressURL: prefix + "/progress",
		resultURL:   prefix + "/result",
		token:       token,
		client:      client,
		backoff:     callbackBackoff,
		log:         log,
	}, nil
}

// statusError is a callback's answer other than 2xx.
type statusError struct {
	code       int
	retryAfter time.Duration
	// detail is the answer's problem detail (RFC 9457), if any: the API's
	// problems carry no internal error text, so it may be quoted.
	detail string
}

func (e *statusError) Error() string {
	return fmt.Sprintf("the callback answered %d %s", e.code, http.StatusText(e.code))
}

// permanent reports whether retrying err cannot help: a 4xx other than 408
// (timeout) and 429 (too many requests), or a malformed request.
func permanent(err error) bool {
	var se *statusError
	if errors.As(err, &se) {
		return se.code < 500 && se.code != http.StatusRequestTimeout && se.code != http.StatusTooManyRequests
	}
	var pe *permanentError
	var fe *fileError
	return errors.As(err, &pe) || (errors.As(err, &fe) && fe.permanent)
}

type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }

// send makes one attempt: method target with body as JSON and the job's token.
func (c *callbacks) send(ctx context.Context, method, target string, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, target, bytes.NewReader(body))
	if err != nil {
		return &permanentError{err}
	}
	req.Header.Set("Content-Type", "application/json")
	c.authorize(req)
	resp, err := c.client.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
		return nil
	}
	return statusOf(resp)
}

func (c *callbacks) authorize(req *http.Request) {
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("User-Agent", userAgent)
}

// statusOf reads an answer other than 2xx into a statusError.
func statusOf(resp *http.Response) *statusError {
	se := &statusError{code: resp.StatusCode}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
		se.retryAfter = min(time.Duration(s)*time.Second, maxRetryAfter)
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10)) // also lets the connection be reused
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/problem+json") {
		var problem struct {
			Detail string `json:"detail"`
		}
		if json.Unmarshal(body, &problem) == nil {
			se.detail = clip(problem.Detail, 256)
		}
	}
	return se
}

// retry calls attempt until it succeeds, fails permanently, or ctx ends,
// waiting between attempts as c.backoff says, but at least minDelay, and
// longer when the server asked for it with Retry-After. A closed stop ends it
// too, but only between attempts: one in flight is never cut off. It returns
// attempt's last error.
func (c *callbacks) retry(ctx context.Context, stop <-chan struct{}, what string, minDelay time.Duration, attempt func(context.Context) error) error {
	delay := c.backoff.DelayFunc()
	for n := 1; ; n++ {
		err := attempt(ctx)
		if err == nil || permanent(err) || ctx.Err() != nil {
			return err
		}
		d := max(delay(), minDelay)
		var se *statusError
		if errors.As(err, &se) {
			d = max(d, se.retryAfter)
		}
		c.log.Info("Callback failed, retrying", "callback", what, "attempt", n, "retryIn", d.Round(time.Millisecond).String(), "error", err.Error())
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-stop:
			t.Stop()
			return err
		case <-t.C:
		}
	}
}

// postProgress makes one attempt at reporting p.
func (c *callbacks) postProgress(ctx context.Context, p Progress) error {
	body, err := json.Marshal(p)
	if err != nil {
		return &permanentError{err}
	}
	return c.send(ctx, http.MethodPost, c.progressURL, body)
}

// putResult uploads a result, retrying until ctx ends.
func (c *callbacks) putResult(ctx context.Context, result []byte) error {
	return c.retry(ctx, nil, "result", 0, func(ctx context.Context) error {
		return c.send(ctx, http.MethodPut, c.resultURL, result)
	})
}
