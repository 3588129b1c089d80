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
	"crypto/sha256"
	"net/http"
	"strings"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	"k8s.io/apimachinery/pkg/util/cache"
)

// TokenReview results are cached so that a client sending many requests with
// one token costs one review per TTL, not one per request. A token accepted is
// trusted for reviewSuccessTTL after its review: a revoked token (its service
// account deleted) keeps working that long, which docs/api.md states. A
// refused token is remembered for the shorter reviewFailureTTL: a refusal
// cannot let anyone in, and remembering it keeps a client retrying a bad
// token off the API server, but short, so a token refused while its issuer's
// keys rotate is retried soon. Errors (the API server unreachable) are never
// cached: the next request asks again.
const (
	reviewSuccessTTL  = 10 * time.Second
	reviewFailureTTL  = 2 * time.Second
	reviewCacheLength = 4096
)

// reviewCache maps sha256(audiences, token) to a review's status. Keys are
// hashes, so the cache (and anything that dumps it) never holds a token.
type reviewCache struct {
	lru      *cache.LRUExpireCache
	failures *failureLimiter
}

func newReviewCache() *reviewCache {
	return &reviewCache{lru: cache.NewLRUExpireCache(reviewCacheLength), failures: newFailureLimiter()}
}

func reviewKey(token string, audiences []string) [sha256.Size]byte {
	return sha256.Sum256([]byte(strings.Join(audiences, ",") + "\x00" + token))
}

// review answers from the cache or, unless r's address has sent too many
// refused tokens (429), asks the API server through kube.
func (rc *reviewCache) review(ctx context.Context, kube *store, r *http.Request, token string, audiences []string) (authenticationv1.TokenReviewStatus, error) {
	key := reviewKey(token, audiences)
	if v, ok := rc.lru.Get(key); ok {
		status := v.(authenticationv1.TokenReviewStatus)
		if !status.Authenticated {
			rc.failures.failed(r)
		}
		return status, nil
	}
	if err := rc.failures.check(r); err != nil {
		return authenticationv1.TokenReviewStatus{}, err
	}
	status, err := kube.reviewToken(ctx, token, audiences)
	if err != nil {
		return status, err
	}
	ttl := reviewSuccessTTL
	if !status.Authenticated {
		ttl = reviewFailureTTL
		rc.failures.failed(r)
	}
	rc.lru.Add(key, status, ttl)
	return status, nil
}
