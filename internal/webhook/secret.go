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

// Package webhook holds what the REST API and the controller share about
// Standard Webhooks (https://www.standardwebhooks.com): the tenant's signing
// secret as it is kept in a Kubernetes Secret, and its rotation.
package webhook

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"time"
)

// The tenant's signing secret lives in one Secret in the tenant's namespace.
const (
	// SecretName is the Secret holding a tenant's signing secrets.
	SecretName = "asyncjob-webhook-signing"
	// KeyCurrent holds the secret that signs every delivery.
	KeyCurrent = "current"
	// KeyPrevious holds the secret replaced by the last rotation; it signs too
	// until KeyPreviousExpiresAt, so receivers can switch without a gap.
	KeyPrevious = "previous"
	// KeyPreviousExpiresAt is the end of the grace period, RFC 3339.
	KeyPreviousExpiresAt = "previousExpiresAt"

	// SecretPrefix starts every secret, as the specification recommends.
	SecretPrefix = "whsec_"
	// secretBytes is the key length: the specification asks for 24 to 64 bytes.
	secretBytes = 32
)

// DefaultRotationGrace is how long the previous secret keeps signing after a rotation.
const DefaultRotationGrace = 24 * time.Hour

// ErrNoSecret: the Secret data holds no valid current secret.
var ErrNoSecret = errors.New("webhook: no signing secret")

// NewSecret returns a fresh random "whsec_" secret.
func NewSecret() (string, error) {
	b := make([]byte, secretBytes)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return SecretPrefix + base64.StdEncoding.EncodeToString(b), nil
}

// NewSecretData returns the data of a new tenant Secret.
func NewSecretData() (map[string][]byte, error) {
	s, err := NewSecret()
	if err != nil {
		return nil, err
	}
	return map[string][]byte{KeyCurrent: []byte(s)}, nil
}

// Secrets is a tenant's signing state read from its Secret.
type Secrets struct {
	// Current signs every delivery.
	Current string
	// Previous signs too while Now is before PreviousExpiresAt.
	Previous          string
	PreviousExpiresAt time.Time
}

// Parse reads a tenant Secret's data.
func Parse(data map[string][]byte) (Secrets, error) {
	s := Secrets{Current: string(data[KeyCurrent])}
	if !validSecret(s.Current) {
		return Secrets{}, ErrNoSecret
	}
	if prev := string(data[KeyPrevious]); validSecret(prev) {
		if t, err := time.Parse(time.RFC3339, string(data[KeyPreviousExpiresAt])); err == nil {
			s.Previous, s.PreviousExpiresAt = prev, t
		}
	}
	return s, nil
}

// Active returns the secrets that sign at now: the current one, then the
// previous one during its grace period.
func (s Secrets) Active(now time.Time) []string {
	out := []string{s.Current}
	if s.Previous != "" && now.Before(s.PreviousExpiresAt) {
		out = append(out, s.Previous)
	}
	return out
}

// Rotate returns the Secret data after a rotation at now: a new current
// secret, and the old current one kept as previous for grace.
func Rotate(data map[string][]byte, now time.Time, grace time.Duration) (map[string][]byte, error) {
	old, err := Parse(data)
	if err != nil {
		return NewSecretData()
	}
	fresh, err := NewSecret()
	if err != nil {
		return nil, err
	}
	return map[string][]byte{
		KeyCurrent:           []byte(fresh),
		KeyPrevious:          []byte(old.Current),
		KeyPreviousExpiresAt: []byte(now.Add(grace).UTC().Format(time.RFC3339)),
	}, nil
}

func validSecret(s string) bool {
	raw, ok := strings.CutPrefix(s, SecretPrefix)
	if !ok {
		return false
	}
	b, err := base64.StdEncoding.DecodeString(raw)
	return err == nil && len(b) >= 24 && len(b) <= 64
}
