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
	"math"
	"net"
	"net/http"
	"time"

	"golang.org/x/time/rate"
	"k8s.io/apimachinery/pkg/util/cache"
)

// The limit on refused TokenReviews per client address: a burst, refilled at
// a rate per second.
const (
	failedReviewRate  = 1.0
	failedReviewBurst = 20
	// failedReviewAddresses bounds the addresses tracked; the least recently
	// seen are forgotten first (and start again with a full bucket).
	failedReviewAddresses = 10000
	failedReviewIdleTTL   = 10 * time.Minute
)

// failureLimiter is a token bucket per client address that only refused
// tokens drain. Once an address has sent failedReviewBurst tokens the API
// server refused (refilled at failedReviewRate per second), a token from it
// that is not already cached as valid answers 429 without a TokenReview: a
// flood of bad tokens costs the API server at most the burst and the rate.
// A missing credential never reaches the API server, and a cached valid token
// is never refused, so neither drains nor is stopped by it. The address is the
// connection's peer: no proxy header is trusted.
type failureLimiter struct {
	lru *cache.LRUExpireCache
}

func newFailureLimiter() *failureLimiter {
	return &failureLimiter{lru: cache.NewLRUExpireCache(failedReviewAddresses)}
}

func (l *failureLimiter) bucket(r *http.Request) *rate.Limiter {
	addr, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		addr = r.RemoteAddr
	}
	if v, ok := l.lru.Get(addr); ok {
		return v.(*rate.Limiter)
	}
	lim := rate.NewLimiter(failedReviewRate, failedReviewBurst)
	l.lru.Add(addr, lim, failedReviewIdleTTL)
	return lim
}

// check refuses the request with 429 while its address's bucket is empty.
func (l *failureLimiter) check(r *http.Request) error {
	now := time.Now()
	tokens := l.bucket(r).TokensAt(now)
	if tokens >= 1 {
		return nil
	}
	wait := (1 - tokens) / failedReviewRate
	return newError(problemRateLimited, "too many requests with invalid credentials from this address; retry later").
		withRetryAfter(max(1, int(math.Ceil(wait))))
}

// failed records a refused token.
func (l *failureLimiter) failed(r *http.Request) { l.bucket(r).Allow() }
