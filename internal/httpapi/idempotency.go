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
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"

	"github.com/asyncjob/asyncjob/api/v1alpha1"
)

// Annotations the API puts on the AsyncJobs it creates.
const (
	// annotationRequestHash holds the SHA-256 of the canonical submit request, so
	// a replayed Idempotency-Key can be told apart from a reused one.
	annotationRequestHash = "asyncjob.io/request-sha256"
)

// maxIdempotencyKeyLength bounds the Idempotency-Key header.
const maxIdempotencyKeyLength = 255

// idempotencyNamespace is the UUIDv5 namespace of job ids derived from keys.
// Changing it would break replays of keys issued before the change.
var idempotencyNamespace = uuid.MustParse("0b0e6f3a-6a4b-4b8f-9c55-0d2a1b0b7a11")

// jobIDForKey derives the job id of an idempotent submission. Deriving the
// AsyncJob's name from (tenant, key) makes the API server the arbiter: a second
// request with the same key collides on create (AlreadyExists) no matter which
// replica or process lifetime handles it, with no extra state to keep.
func jobIDForKey(tenant, key string) string {
	return uuid.NewSHA1(idempotencyNamespace, []byte(tenant+"\x00"+key)).String()
}

// checkReplay decides a submission whose job id was taken by existing: with
// the same Idempotency-Key and the same request it is a replay (nil), with a
// different request it is refused. Without a key the id was random and
// collided, which is not the client's doing. An object of that name that is
// not the tenant's (made with kubectl, or relabelled) is never replayed: that
// would show the client a job it does not own.
func checkReplay(existing *v1alpha1.AsyncJob, tenant string, hasKey bool, hash string) error {
	if !hasKey {
		return fmt.Errorf("random job id %s is taken", existing.Name)
	}
	if existing.Labels[v1alpha1.LabelTenant] != tenant {
		return newError(problemIdempotencyMismatch, "this Idempotency-Key cannot be used; use a new key")
	}
	if existing.Annotations[annotationRequestHash] != hash {
		return newError(problemIdempotencyMismatch, "this Idempotency-Key was already used for a different request; use a new key")
	}
	return nil
}

// validIdempotencyKey accepts 1-255 visible ASCII characters (the header is a
// structured-field string in the draft; anything else is more likely a bug).
func validIdempotencyKey(k string) bool {
	if k == "" || len(k) > maxIdempotencyKeyLength {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x20 || k[i] > 0x7e {
			return false
		}
	}
	return true
}

// requestHash fingerprints a submit request independently of whitespace and
// member order: the same request sent twice hashes the same.
func requestHash(req submitRequest) (string, error) {
	// Absent and empty mean the same thing, so they must hash the same.
	var params any = map[string]any{}
	var labels map[string]string
	if len(req.Labels) > 0 {
		labels = req.Labels
	}
	if len(req.Parameters) > 0 {
		dec := json.NewDecoder(bytes.NewReader(req.Parameters))
		dec.UseNumber() // keep numbers as written: 1.0 and 1 stay different
		if err := dec.Decode(&params); err != nil {
			return "", err
		}
	}
	// encoding/json writes struct fields in order and map keys sorted, which
	// makes this canonical.
	// The webhook is omitted when absent, so requests without one hash as
	// they did before webhooks existed (their keys still replay).
	canonical, err := json.Marshal(struct {
		Type       string            `json:"type"`
		Parameters any               `json:"parameters"`
		Labels     map[string]string `json:"labels"`
		Webhook    *webhookRequest   `json:"webhook,omitempty"`
		// Omitted at 0 (the default), so requests without one hash as before.
		Priority int32 `json:"priority,omitempty"`
	}{req.Type, params, labels, req.Webhook, req.Priority})
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(canonical)
	return hex.EncodeToString(sum[:]), nil
}
