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
	"fmt"
	"net/http"
	"strings"

	authenticationv1 "k8s.io/api/authentication/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

// tenantGroupPrefix marks the Kubernetes group that names a user's tenant:
// a user in group "asyncjob.io/tenant:acme" belongs to tenant acme.
const tenantGroupPrefix = "asyncjob.io/tenant:"

// TokenReviewAuthenticator verifies Kubernetes bearer tokens with a TokenReview.
// A service account's tenant is its namespace; any other user's tenant comes
// from a group named tenantGroupPrefix+tenant. Identities that map to no tenant
// are refused.
type TokenReviewAuthenticator struct {
	// Audiences, when set, are the audiences a token must be valid for.
	Audiences []string
}

func (a *TokenReviewAuthenticator) scheme() string { return bearerScheme }

func (a *TokenReviewAuthenticator) authenticate(ctx context.Context, kube *store, r *http.Request) (identity, error) {
	token, ok := bearerToken(r)
	if !ok {
		return identity{}, errUnauthenticated
	}
	// Cached, and limited per client address on refusals: auth_cache.go.
	review, err := kube.reviews.review(ctx, kube, r, token, a.Audiences)
	if err != nil {
		return identity{}, err
	}
	if !review.Authenticated {
		return identity{}, errUnauthenticated
	}
	tenant := tenantOfUser(review.User)
	if tenant == "" {
		return identity{}, fmt.Errorf("user %q maps to no tenant: %w", review.User.Username, errUnauthenticated)
	}
	return identity{Tenant: tenant, Subject: review.User.Username}, nil
}

// tenantOfUser maps a reviewed user to a tenant, or "".
func tenantOfUser(u authenticationv1.UserInfo) string {
	if rest, ok := strings.CutPrefix(u.Username, "system:serviceaccount:"); ok {
		ns, _, _ := strings.Cut(rest, ":")
		return ns
	}
	for _, g := range u.Groups {
		if t, ok := strings.CutPrefix(g, tenantGroupPrefix); ok && len(validation.IsDNS1123Label(t)) == 0 {
			return t
		}
	}
	return ""
}
