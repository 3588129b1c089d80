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

package webhook

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// DefaultTimeout bounds one attempt, from dialling to the end of the answer's headers.
const DefaultTimeout = 10 * time.Second

// maxResponseRead is how much of an answer's body is read (so that the
// connection can be reused) before it is discarded; it is never stored.
const maxResponseRead = 4 << 10

// Sender posts deliveries: no redirects followed, no environment proxy (a
// proxy would dial for us, past the destination policy), and every
// connection's address checked against the policy when it is dialled.
type Sender struct {
	client *http.Client
	policy Policy
	now    func() time.Time
}

// NewSender returns a Sender whose attempts are bounded by timeout (DefaultTimeout when zero).
func NewSender(p Policy, timeout time.Duration) *Sender {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	d := &net.Dialer{Timeout: timeout, Control: p.Control}
	t := &http.Transport{
		Proxy:                 nil,
		DialContext:           d.DialContext,
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
		MaxIdleConns:          16,
		IdleConnTimeout:       30 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	return &Sender{
		client: &http.Client{
			Transport: t,
			Timeout:   timeout,
			// A 3xx is the answer: a redirect could point anywhere.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		policy: p,
		now:    time.Now,
	}
}

// errRefused is the attempt's error when the destination policy refuses it.
const errRefused = "destination refused"

// Outcome is what one attempt came to.
type Outcome struct {
	// StatusCode of the answer; 0 when none came.
	StatusCode int
	// Duration from sending to the answer or the error.
	Duration time.Duration
	// Error says why the attempt did not deliver, in words safe to show the
	// tenant (never the receiver's body); empty on a 2xx.
	Error string
	// Refused: the destination policy refused the address; never retried.
	Refused bool
	// RetryAfter is the receiver's Retry-After, 0 when none.
	RetryAfter time.Duration
}

// Send makes one attempt: POST body with headers to url.
func (s *Sender) Send(ctx context.Context, url string, headers http.Header, body []byte) Outcome {
	// Checked again here, not only at submission: an operator's default URL
	// or an older job's may not have been.
	if err := s.policy.CheckURL(url); err != nil {
		return Outcome{Error: errRefused, Refused: true}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return Outcome{Error: errRefused, Refused: true}
	}
	req.Header = headers.Clone()
	start := s.now()
	resp, err := s.client.Do(req)
	took := s.now().Sub(start)
	if err != nil {
		return Outcome{Duration: took, Error: describe(err), Refused: errors.Is(err, ErrRefusedDestination)}
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseRead))
	_ = resp.Body.Close()
	o := Outcome{StatusCode: resp.StatusCode, Duration: took}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		o.Error = fmt.Sprintf("HTTP %d", resp.StatusCode)
		o.RetryAfter = ParseRetryAfter(resp.Header.Get("Retry-After"), s.now())
	}
	return o
}

// describe turns a transport error into a short message without addresses
// or internal detail.
func describe(err error) string {
	var ne net.Error
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	var recordErr tls.RecordHeaderError
	switch {
	case errors.Is(err, ErrRefusedDestination):
		return errRefused
	case errors.As(err, &dnsErr):
		return "the host name does not resolve"
	case errors.As(err, &certErr):
		return "the server's TLS certificate does not verify"
	case errors.As(err, &recordErr):
		return "the server does not speak TLS"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timed out"
	case errors.Is(err, context.Canceled):
		return "cancelled"
	default:
		var op *net.OpError
		if errors.As(err, &op) && op.Op == "dial" {
			return "connection failed"
		}
		return "request failed"
	}
}
