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
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// Header names of Standard Webhooks v1.
const (
	HeaderID        = standardwebhooks.HeaderWebhookID
	HeaderTimestamp = standardwebhooks.HeaderWebhookTimestamp
	HeaderSignature = standardwebhooks.HeaderWebhookSignature
)

// UserAgent names the sender without a version, which would only help an
// attacker pick exploits.
const UserAgent = "asyncjob-webhooks"

// Payload is the body of every delivery: the event's type, when it happened,
// and the job as the REST API renders it at send time.
type Payload struct {
	Type      string    `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	Data      any       `json:"data"`
}

// Body encodes the payload; timestamp is the event's time, RFC 3339 in UTC.
func Body(eventType string, eventTime time.Time, data any) ([]byte, error) {
	return json.Marshal(Payload{Type: eventType, Timestamp: eventTime.UTC(), Data: data})
}

// Signature returns the webhook-signature header value: one "v1,<base64>"
// per secret, space-separated (during a rotation's grace period both the new
// and the previous secret sign, so a receiver with either verifies).
func Signature(id string, at time.Time, body []byte, secrets []string) (string, error) {
	if len(secrets) == 0 {
		return "", ErrNoSecret
	}
	sigs := make([]string, 0, len(secrets))
	for _, s := range secrets {
		wh, err := standardwebhooks.NewWebhook(s)
		if err != nil {
			return "", fmt.Errorf("webhook: a signing secret does not decode")
		}
		sig, err := wh.Sign(id, at, body)
		if err != nil {
			return "", err
		}
		sigs = append(sigs, sig)
	}
	return strings.Join(sigs, " "), nil
}

// Headers are the Standard Webhooks headers of one attempt, signed at at.
func Headers(id string, at time.Time, body []byte, secrets []string) (http.Header, error) {
	sig, err := Signature(id, at, body, secrets)
	if err != nil {
		return nil, err
	}
	h := http.Header{}
	h.Set(HeaderID, id)
	h.Set(HeaderTimestamp, strconv.FormatInt(at.Unix(), 10))
	h.Set(HeaderSignature, sig)
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", UserAgent)
	return h, nil
}
