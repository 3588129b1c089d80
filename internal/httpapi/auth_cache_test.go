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
	"net/http"
	"sync/atomic"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
)

// countingReviews wraps a real client to envtest and counts the TokenReviews
// it sends to the API server.
func countingReviews(t *testing.T) (client.Client, *atomic.Int64) {
	t.Helper()
	if testEnv == nil {
		t.Skip("envtest is not available (-short without KUBEBUILDER_ASSETS)")
	}
	real, err := client.NewWithWatch(testEnv.Config, client.Options{Scheme: testEnv.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	var n atomic.Int64
	return interceptor.NewClient(real, interceptor.Funcs{
		Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			if _, ok := obj.(*authenticationv1.TokenReview); ok {
				n.Add(1)
			}
			return c.Create(ctx, obj, opts...)
		},
	}), &n
}

// TestTokenReviewsAreCachedAndFailuresLimited: many requests with one valid
// token cost one TokenReview; requests without a credential cost none; a
// flood of bad tokens from one address costs a review per 401 and turns into
// 429s with Retry-After before reaching the API server, while the valid,
// cached token keeps working.
func TestTokenReviewsAreCachedAndFailuresLimited(t *testing.T) {
	counting, reviews := countingReviews(t)
	h := newHarness(t, func(c *Config) {
		c.Client = counting
		c.Authenticator = &TokenReviewAuthenticator{}
	})
	ctx := context.Background()
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: h.tenantA, Name: "client"}}
	h.must(h.env.Client.Create(ctx, sa))
	tr := &authenticationv1.TokenRequest{}
	h.must(h.env.Client.SubResource("token").Create(ctx, sa, tr))
	valid := "Bearer " + tr.Status.Token

	for range 30 {
		h.request(http.MethodGet, "/v1/types", "", nil, "Authorization", valid).expect(t, http.StatusOK)
	}
	if got := reviews.Load(); got != 1 {
		t.Errorf("30 requests with one token cost %d TokenReviews, want 1", got)
	}

	for range 30 {
		h.request(http.MethodGet, "/v1/types", "", nil).expect(t, http.StatusUnauthorized)
	}
	if got := reviews.Load(); got != 1 {
		t.Errorf("requests without a credential cost %d TokenReviews", got-1)
	}

	before := reviews.Load()
	const flood = 3 * failedReviewBurst
	refused, limited := 0, 0
	for i := range flood {
		r := h.request(http.MethodGet, "/v1/types", "", nil, "Authorization", "Bearer bad-"+randomSuffix()+string(rune('a'+i%26)))
		switch r.StatusCode {
		case http.StatusUnauthorized:
			refused++
		case http.StatusTooManyRequests:
			limited++
			if p := r.problem(t); p.Code != problemRateLimited.Code || r.Header.Get("Retry-After") == "" {
				t.Errorf("429 problem %+v, Retry-After %q", p, r.Header.Get("Retry-After"))
			}
		default:
			t.Fatalf("bad token: status %d %s", r.StatusCode, r.body)
		}
	}
	if got := reviews.Load() - before; got != int64(refused) {
		t.Errorf("%d refused tokens cost %d TokenReviews, want one each", refused, got)
	}
	if limited == 0 || refused >= flood {
		t.Errorf("a flood of %d bad tokens: %d refused, %d rate limited; want it limited", flood, refused, limited)
	}
	// The address's failures do not lock out the valid token it has cached.
	h.request(http.MethodGet, "/v1/types", "", nil, "Authorization", valid).expect(t, http.StatusOK)
}

// TestReviewKeyHidesTheToken: the cache key is a hash, and depends on the
// audiences as well as the token.
func TestReviewKeyHidesTheToken(t *testing.T) {
	a, b := reviewKey("tok", nil), reviewKey("tok", []string{"x"})
	if a == b {
		t.Error("the audiences do not change the key")
	}
	if reviewKey("tok", nil) != a {
		t.Error("the key is not deterministic")
	}
	if string(a[:]) == "tok" || len(a) != 32 {
		t.Error("the key is not a SHA-256")
	}
}
