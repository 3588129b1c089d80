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
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/time/rate"
)

// tenantLimiter is a token bucket per tenant. It is per replica on purpose: a
// shared limiter would cost a write to the cluster per request. With N replicas
// behind a load balancer a tenant gets up to N times the configured rate, which
// docs/api.md states; the unfinished-jobs bound, which matters for capacity, is
// cluster-wide.
type tenantLimiter struct {
	limit rate.Limit
	burst int

	mu       sync.Mutex
	limiters map[string]*rate.Limiter
}

func newTenantLimiter(perSecond float64, burst int) *tenantLimiter {
	if burst < 1 {
		burst = 1
	}
	return &tenantLimiter{limit: rate.Limit(perSecond), burst: burst, limiters: map[string]*rate.Limiter{}}
}

func (l *tenantLimiter) get(tenant string) *rate.Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	lim, ok := l.limiters[tenant]
	if !ok {
		lim = rate.NewLimiter(l.limit, l.burst)
		l.limiters[tenant] = lim
	}
	return lim
}

// middleware answers 429 with Retry-After once the tenant's bucket is empty.
func (l *tenantLimiter) middleware() gin.HandlerFunc {
	return handle(func(c *gin.Context) error {
		id, ok := identityFrom(c.Request.Context())
		if l.limit <= 0 || !ok {
			c.Next()
			return nil
		}
		now := time.Now()
		r := l.get(id.Tenant).ReserveN(now, 1)
		if delay := r.DelayFrom(now); delay > 0 {
			r.CancelAt(now) // a refused request must not use up a token
			return newError(problemRateLimited, "this client sent too many requests; retry later").
				withRetryAfter(int(math.Ceil(delay.Seconds())))
		}
		c.Next()
		return nil
	})
}
