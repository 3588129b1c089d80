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
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"strings"

	"k8s.io/apimachinery/pkg/types"
)

// APIKeyAuthenticator checks "Authorization: Bearer <key>" against a Secret.
//
// Each entry of the Secret's data names a tenant and holds the lowercase hex
// SHA-256 of one API key, so the Secret never holds a usable key. The entry's
// name is the tenant, optionally followed by "." and a label of the operator's
// choice ("acme", "acme.2026-11"), so a tenant can have several keys at once and
// keys rotate without a restart: add the new entry, move clients, delete the old.
// The Secret is read through the informer cache on each request.
type APIKeyAuthenticator struct {
	Secret types.NamespacedName
}

func (a *APIKeyAuthenticator) scheme() string { return bearerScheme }

func (a *APIKeyAuthenticator) authenticate(ctx context.Context, kube *store, r *http.Request) (identity, error) {
	key, ok := bearerToken(r)
	if !ok {
		return identity{}, errUnauthenticated
	}
	entries, err := kube.apiKeyHashes(ctx, a.Secret)
	if err != nil {
		return identity{}, err
	}
	sum := sha256.Sum256([]byte(key))
	presented := []byte(hex.EncodeToString(sum[:]))
	matched := ""
	// Compare against every entry, in constant time each, so the response time
	// does not tell which entry (or how much of a hash) matched.
	for name, stored := range entries {
		want := []byte(strings.ToLower(strings.TrimSpace(string(stored))))
		if subtle.ConstantTimeCompare(presented, want) == 1 {
			matched = name
		}
	}
	if matched == "" {
		return identity{}, errUnauthenticated
	}
	tenant, _, _ := strings.Cut(matched, ".")
	return identity{Tenant: tenant, Subject: "apikey:" + matched}, nil
}

// HashAPIKey is what an operator stores in the Secret for key: the lowercase hex
// SHA-256 (also: printf %s "$KEY" | sha256sum).
func HashAPIKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}
