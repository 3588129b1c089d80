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

package workertoken

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var (
	testKey  = []byte("0123456789abcdef0123456789abcdef")
	otherKey = []byte("fedcba9876543210fedcba9876543210")
)

const (
	testNS   = "tenant-acme"
	testName = "3f0c8f8e-5d0b-5b8e-9a53-0d3c1f0f4a11"
	testUID  = "9d7b1c2e-6a44-4f7e-8f3a-2b1f6c0d5e77"
)

func TestSignFormat(t *testing.T) {
	tok := Sign(testKey, testNS, testName, testUID)
	if !strings.HasPrefix(tok, "ajw1.tenant-acme.") {
		t.Fatalf("Sign() = %q, want the prefix ajw1.tenant-acme.", tok)
	}
	// 32 bytes of HMAC-SHA256, base64url without padding.
	if sig := strings.TrimPrefix(tok, "ajw1.tenant-acme."); len(sig) != 43 || strings.ContainsAny(sig, "=+/.") {
		t.Errorf("signature %q: want 43 base64url characters without padding", sig)
	}
	if again := Sign(testKey, testNS, testName, testUID); again != tok {
		t.Errorf("Sign() is not deterministic: %q then %q", tok, again)
	}
}

// TestSignKnownAnswer pins the MAC's input, so that the controller and an API
// server of another version agree on it: HMAC-SHA256 of
// "asyncjob-worker/v1\nns\nname\nuid" under the key "k" * 32, computed
// independently with
//
//	printf 'asyncjob-worker/v1\nns\nname\nuid' | openssl dgst -sha256 -hmac kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk -binary | basenc --base64url
const knownMAC = "2V9YmXdpBRB2vcVIyG6iF6U2d2MpLtMQXAc2xVOaY_Q" // without the padding basenc adds

func TestSignKnownAnswer(t *testing.T) {
	got := Sign(bytes.Repeat([]byte("k"), 32), "ns", "name", "uid")
	want := "ajw1.ns." + knownMAC
	if got != want {
		t.Errorf("Sign() = %q, want %q", got, want)
	}
}

func TestVerify(t *testing.T) {
	tok := Sign(testKey, testNS, testName, testUID)
	sig := strings.TrimPrefix(tok, Prefix+testNS+".")
	flipped := []byte(sig)
	if flipped[0] == 'A' {
		flipped[0] = 'B'
	} else {
		flipped[0] = 'A'
	}
	cases := []struct {
		name                string
		key                 []byte
		token, ns, job, uid string
		want                bool
	}{
		{name: "its own job", key: testKey, token: tok, ns: testNS, job: testName, uid: testUID, want: true},
		{name: "another job's token", key: testKey, token: Sign(testKey, testNS, "another-job", testUID), ns: testNS, job: testName, uid: testUID},
		{name: "the same name with another uid (re-created)", key: testKey, token: tok, ns: testNS, job: testName, uid: "another-uid"},
		{name: "another namespace's job of the same name", key: testKey, token: Sign(testKey, "tenant-other", testName, testUID), ns: testNS, job: testName, uid: testUID},
		{name: "its namespace rewritten in the token", key: testKey, token: Prefix + "tenant-other." + sig, ns: "tenant-other", job: testName, uid: testUID},
		{name: "a wrong key", key: otherKey, token: tok, ns: testNS, job: testName, uid: testUID},
		{name: "signed with a wrong key", key: testKey, token: Sign(otherKey, testNS, testName, testUID), ns: testNS, job: testName, uid: testUID},
		{name: "a tampered signature", key: testKey, token: Prefix + testNS + "." + string(flipped), ns: testNS, job: testName, uid: testUID},
		{name: "a truncated signature", key: testKey, token: tok[:len(tok)-1], ns: testNS, job: testName, uid: testUID},
		{name: "a line break in the signature", key: testKey, token: tok[:len(tok)-4] + "\n" + tok[len(tok)-4:], ns: testNS, job: testName, uid: testUID},
		{name: "padding added", key: testKey, token: tok + "=", ns: testNS, job: testName, uid: testUID},
		{name: "another version's prefix", key: testKey, token: "ajw2" + strings.TrimPrefix(tok, "ajw1"), ns: testNS, job: testName, uid: testUID},
		{name: "no key", key: nil, token: Sign(nil, testNS, testName, testUID), ns: testNS, job: testName, uid: testUID},
		{name: "no uid", key: testKey, token: Sign(testKey, testNS, testName, ""), ns: testNS, job: testName, uid: ""},
		{name: "no name", key: testKey, token: Sign(testKey, testNS, "", testUID), ns: testNS, job: "", uid: testUID},
		{name: "empty", key: testKey, token: "", ns: testNS, job: testName, uid: testUID},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Verify(tc.key, tc.token, tc.ns, tc.job, tc.uid); got != tc.want {
				t.Errorf("Verify(%q) = %v, want %v", tc.token, got, tc.want)
			}
		})
	}
}

// TestVerifyNonCanonicalSignature: the last base64 character of 32 bytes
// carries 2 unused bits; a decoder that ignores them would accept 4 spellings
// of one signature.
func TestVerifyNonCanonicalSignature(t *testing.T) {
	tok := Sign(testKey, testNS, testName, testUID)
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(alphabet, tok[len(tok)-1])
	for unused := 1; unused < 4; unused++ {
		variant := tok[:len(tok)-1] + string(alphabet[last|unused])
		if variant == tok {
			continue
		}
		if Verify(testKey, variant, testNS, testName, testUID) {
			t.Errorf("Verify(%q) = true for a non-canonical spelling of %q", variant, tok)
		}
	}
}

func TestParse(t *testing.T) {
	tok := Sign(testKey, testNS, testName, testUID)
	sig := strings.TrimPrefix(tok, Prefix+testNS+".")
	cases := []struct {
		token  string
		wantNS string
		wantOK bool
	}{
		{token: tok, wantNS: testNS, wantOK: true},
		{token: Sign(otherKey, "default", "x", "y"), wantNS: "default", wantOK: true}, // Parse does not verify
		{token: ""},
		{token: "Bearer " + tok},
		{token: "ajw1."},
		{token: "ajw1." + testNS},
		{token: "ajw1." + testNS + "."},
		{token: "ajw1.." + sig},
		{token: "ajw1.Tenant." + sig},        // not a namespace name
		{token: "ajw1.a.b." + sig},           // dots: not a namespace name
		{token: "ajw1." + testNS + ".short"}, // not 32 bytes
		{token: "ajw1." + testNS + "." + sig + "AA"},
		{token: "ajw1." + testNS + ".!" + sig[1:]}, // not base64url
	}
	for _, tc := range cases {
		ns, ok := Parse(tc.token)
		if ns != tc.wantNS || ok != tc.wantOK {
			t.Errorf("Parse(%q) = %q, %v; want %q, %v", tc.token, ns, ok, tc.wantNS, tc.wantOK)
		}
	}
}

func TestLoadKey(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, content []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, content, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	binary := bytes.Repeat([]byte{0x00, 0xff, 0x7f, 0x80}, 8)
	cases := []struct {
		name    string
		path    string
		want    []byte
		wantErr string
	}{
		{name: "32 bytes", path: write("exact", testKey), want: testKey},
		{name: "a trailing newline is not part of the key", path: write("newline", append(append([]byte{}, testKey...), '\n')), want: testKey},
		{name: "binary bytes", path: write("binary", binary), want: binary},
		{name: "31 bytes", path: write("short", testKey[:31]), wantErr: "has 31 bytes, want at least 32"},
		{name: "31 bytes and a newline", path: write("short-newline", append(append([]byte{}, testKey[:31]...), '\n')), wantErr: "has 31 bytes"},
		{name: "empty", path: write("empty", nil), wantErr: "has 0 bytes"},
		{name: "missing", path: filepath.Join(dir, "missing"), wantErr: "reading the worker token key"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := LoadKey(tc.path)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("LoadKey() = %q, %v; want an error containing %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil || !bytes.Equal(got, tc.want) {
				t.Errorf("LoadKey() = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}
