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
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	corev1 "k8s.io/api/core/v1"

	"github.com/asyncjob/asyncjob/internal/webhook"
)

// WebhookSecret is the body of GET /v1/webhooks/secret and of a rotation:
// the tenant's signing secret, and the one it replaced while that still signs.
type WebhookSecret struct {
	Secret                  string     `json:"secret"`
	PreviousSecret          string     `json:"previousSecret,omitempty"`
	PreviousSecretExpiresAt *time.Time `json:"previousSecretExpiresAt,omitempty"`
}

// getWebhookSecret handles GET /v1/webhooks/secret, creating the tenant's
// secret on first use.
func (s *Server) getWebhookSecret(c *gin.Context) error {
	if err := requireNoBody(c); err != nil {
		return err
	}
	noStore(c)
	_, ns, err := s.namespaceOf(c)
	if err != nil {
		return err
	}
	sec, err := s.store.signingSecret(c.Request.Context(), ns)
	if err != nil {
		return err
	}
	return writeSecret(c, http.StatusOK, sec)
}

// rotateWebhookSecret handles POST /v1/webhooks/secret/rotate: a new current
// secret; the old one keeps signing for WebhookRotationGrace.
func (s *Server) rotateWebhookSecret(c *gin.Context) error {
	noStore(c)
	_, ns, err := s.namespaceOf(c)
	if err != nil {
		return err
	}
	sec, err := s.store.rotateSigningSecret(c.Request.Context(), ns, time.Now(), s.cfg.WebhookRotationGrace)
	if err != nil {
		return err
	}
	return writeSecret(c, http.StatusOK, sec)
}

// noStore keeps secrets out of every cache, on errors too (RFC 9111 5.2.2.5).
func noStore(c *gin.Context) { c.Header("Cache-Control", "no-store") }

func writeSecret(c *gin.Context, status int, sec *corev1.Secret) error {
	parsed, err := webhook.Parse(sec.Data)
	if err != nil {
		// Not ours, or damaged: say so without its content.
		return newError(problemInternal, "the server could not complete the request").withCause(err)
	}
	body := WebhookSecret{Secret: parsed.Current}
	if active := parsed.Active(time.Now()); len(active) > 1 {
		exp := parsed.PreviousExpiresAt.UTC()
		body.PreviousSecret, body.PreviousSecretExpiresAt = active[1], &exp
	}
	return writeJSON(c, status, body)
}
