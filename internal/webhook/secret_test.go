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
	"strings"
	"testing"
	"time"
)

func TestRotateKeepsThePreviousSecretForTheGracePeriod(t *testing.T) {
	data, err := NewSecretData()
	if err != nil {
		t.Fatal(err)
	}
	first, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(first.Current, SecretPrefix) {
		t.Fatalf("secret %q lacks the %s prefix", first.Current, SecretPrefix)
	}
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	rotated, err := Rotate(data, now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	second, err := Parse(rotated)
	if err != nil {
		t.Fatal(err)
	}
	if second.Current == first.Current {
		t.Fatal("rotation kept the same current secret")
	}
	if got := second.Active(now.Add(30 * time.Minute)); len(got) != 2 || got[0] != second.Current || got[1] != first.Current {
		t.Fatalf("during the grace period want [new old], got %v", got)
	}
	if got := second.Active(now.Add(time.Hour)); len(got) != 1 || got[0] != second.Current {
		t.Fatalf("after the grace period want [new], got %v", got)
	}
}

func TestParseRefusesMalformedSecrets(t *testing.T) {
	for name, data := range map[string]map[string][]byte{
		"empty":      {},
		"no prefix":  {KeyCurrent: []byte("c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0")},
		"not base64": {KeyCurrent: []byte("whsec_!!!")},
		"too short":  {KeyCurrent: []byte("whsec_c2hvcnQ=")},
	} {
		if _, err := Parse(data); err == nil {
			t.Errorf("%s: Parse accepted %q", name, data[KeyCurrent])
		}
	}
}
