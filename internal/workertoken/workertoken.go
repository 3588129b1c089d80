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

// Package workertoken signs and verifies the callback tokens of asyncjob
// workers. A token is valid for one AsyncJob only (its namespace, name and
// UID) and verifies itself with a key the controller and the API share, so
// nobody stores tokens: the controller signs one when it creates a Job, and
// the API recomputes it when a worker calls back.
//
// A token reads
//
//	ajw1.<namespace>.<base64url(HMAC-SHA256(key, "asyncjob-worker/v1\n" + namespace + "\n" + name + "\n" + uid))>
//
// The namespace is in clear text so the API knows where to look the AsyncJob
// up (namespace names contain no dots, so parsing is unambiguous); the name
// comes from the callback's URL, and the UID from the AsyncJob itself, so a
// token outlives neither a deleted AsyncJob nor one re-created under its name.
package workertoken

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"os"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

const (
	// Prefix starts every token: the format's version.
	Prefix = "ajw1."
	// MinKeyBytes is the shortest key accepted: HMAC-SHA256's own strength.
	MinKeyBytes = 32

	// domain separates this MAC from any other use of the same key.
	domain = "asyncjob-worker/v1\n"
)

var encoding = base64.RawURLEncoding

// Sign returns the token of the AsyncJob namespace/name with the given UID.
func Sign(key []byte, namespace, name, uid string) string {
	return Prefix + namespace + "." + encoding.EncodeToString(mac(key, namespace, name, uid))
}

// Parse returns the namespace a well-formed token names. It proves nothing
// about the token: only Verify does.
func Parse(token string) (namespace string, ok bool) {
	namespace, _, ok = split(token)
	return namespace, ok
}

// Verify reports whether token is the one Sign gives for the AsyncJob
// namespace/name with the given UID under key. The comparison is constant-time.
func Verify(key []byte, token, namespace, name, uid string) bool {
	if len(key) == 0 || name == "" || uid == "" {
		return false
	}
	ns, sig, ok := split(token)
	if !ok || ns != namespace {
		return false
	}
	return hmac.Equal([]byte(sig), []byte(encoding.EncodeToString(mac(key, namespace, name, uid))))
}

// LoadKey reads a key from a file. Surrounding whitespace (a trailing newline
// an editor or `echo` added) is not part of the key; what is left must be at
// least MinKeyBytes long.
func LoadKey(path string) ([]byte, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the worker token key: %w", err)
	}
	key := bytes.TrimSpace(raw)
	if len(key) < MinKeyBytes {
		return nil, fmt.Errorf("the worker token key in %s has %d bytes, want at least %d", path, len(key), MinKeyBytes)
	}
	return key, nil
}

func mac(key []byte, namespace, name, uid string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(domain + namespace + "\n" + name + "\n" + uid))
	return h.Sum(nil)
}

// split takes a token apart; sig is the encoded MAC, in the one form Sign
// writes (the decoder alone would also take line breaks and other trailing
// bits, so several strings would verify).
func split(token string) (namespace, sig string, ok bool) {
	rest, found := strings.CutPrefix(token, Prefix)
	if !found {
		return "", "", false
	}
	namespace, sig, found = strings.Cut(rest, ".")
	if !found || len(validation.IsDNS1123Label(namespace)) > 0 {
		return "", "", false
	}
	raw, err := encoding.DecodeString(sig)
	if err != nil || len(raw) != sha256.Size || encoding.EncodeToString(raw) != sig {
		return "", "", false
	}
	return namespace, sig, true
}
