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
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// identity is an authenticated caller.
type identity struct {
	// Tenant owns the caller's jobs; it is a DNS label.
	Tenant string
	// Subject names the caller for logs (never a credential).
	Subject string
}

// Authenticator turns a request into an identity: APIKeyAuthenticator,
// TokenReviewAuthenticator or NoAuthenticator. What it needs from the cluster
// it reads through the server's store, like every handler.
type Authenticator interface {
	// authenticate returns errUnauthenticated (possibly wrapped) for missing
	// or wrong credentials; any other error means the credentials could not be
	// checked (e.g. the API server is unreachable).
	authenticate(ctx context.Context, kube *store, r *http.Request) (identity, error)
	// scheme is the auth-scheme named in WWW-Authenticate on 401s.
	scheme() string
}

// errUnauthenticated marks a request whose credentials are missing or wrong.
var errUnauthenticated = errors.New("unauthenticated")

// identityKey is the typed context key under which the identity is stored.
type identityKey struct{}

// bearerScheme is the auth-scheme of every mode: credentials are bearer tokens.
const bearerScheme = "Bearer"

// realm names the protection space in WWW-Authenticate (RFC 9110 11.6.1).
const realm = "asyncjob"

// authMiddleware authenticates every request of the group it is installed on.
func authMiddleware(a Authenticator, kube *store) gin.HandlerFunc {
	return handle(func(c *gin.Context) error {
		id, err := a.authenticate(c.Request.Context(), kube, c.Request)
		if errors.Is(err, errUnauthenticated) {
			return newError(problemUnauthenticated, "send a valid credential as 'Authorization: %s <token>'", a.scheme()).
				withHeader("WWW-Authenticate", a.scheme()+` realm="`+realm+`"`)
		}
		if err != nil {
			return err
		}
		// Both places: handlers read the request context; the access log reads
		// gin's keys after the chain, when the request has been replaced.
		c.Set(identityKey{}, id)
		c.Request = c.Request.WithContext(context.WithValue(c.Request.Context(), identityKey{}, id))
		c.Next()
		return nil
	})
}

// identityFrom returns the caller authenticated by authMiddleware.
func identityFrom(ctx context.Context) (identity, bool) {
	id, ok := ctx.Value(identityKey{}).(identity)
	return id, ok
}

// bearerToken extracts the credential of an "Authorization: Bearer x" header.
func bearerToken(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, bearerScheme) {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}
