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
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// DefaultSchedule is the Standard Webhooks specification's example: after the
// first attempt fails, retry after each of these delays in turn, then give up
// (about three days in all).
var DefaultSchedule = Schedule{
	5 * time.Second, 5 * time.Minute, 30 * time.Minute,
	2 * time.Hour, 5 * time.Hour, 10 * time.Hour,
	14 * time.Hour, 20 * time.Hour, 24 * time.Hour,
}

// Jitter spreads retries by up to this fraction either way, so that the
// deliveries of jobs that failed together do not come back together.
const Jitter = 0.1

// MaxRetryAfter bounds a receiver's Retry-After: a longer one is cut to it.
const MaxRetryAfter = 24 * time.Hour

// Schedule is the delays between attempts: the first attempt is immediate,
// retry n (1-based) waits Schedule[n-1] after the attempt before it.
type Schedule []time.Duration

// ParseSchedule reads a comma-separated list of durations ("1s,2s,3s").
func ParseSchedule(s string) (Schedule, error) {
	var out Schedule
	for _, f := range strings.Split(s, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(f))
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("webhook retry schedule: %q is not a positive duration", f)
		}
		out = append(out, d)
	}
	return out, nil
}

// Next returns the delay before the next attempt after failed attempts of the
// schedule so far (1 after the first attempt), or false when the schedule is
// over. jitter is in [-1, 1) (a random draw, passed in to keep this pure); it
// moves the delay by up to Jitter of it. retryAfter, the receiver's
// Retry-After (0 when none), is honoured: the delay is never shorter, up to
// MaxRetryAfter.
func (s Schedule) Next(failed int, jitter float64, retryAfter time.Duration) (time.Duration, bool) {
	if failed < 1 || failed > len(s) {
		return 0, false
	}
	base := s[failed-1]
	d := base + time.Duration(float64(base)*Jitter*jitter)
	return max(d, min(retryAfter, MaxRetryAfter)), true
}

// ParseRetryAfter reads a Retry-After header (RFC 9110 §10.2.3): delay
// seconds or an HTTP-date. It returns 0 when absent, malformed or past.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		if n > int64(MaxRetryAfter/time.Second) {
			return MaxRetryAfter
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return min(t.Sub(now), MaxRetryAfter)
	}
	return 0
}
