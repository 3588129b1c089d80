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
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDecodeSubmitRequest(t *testing.T) {
	cases := []struct {
		name      string
		body      string
		malformed bool
		pointers  []string
	}{
		{name: "minimal", body: `{"type":"convert"}`},
		{name: "full", body: `{"type":"convert","parameters":{"a":1},"labels":{"project":"x"}}`},
		{name: "null labels", body: `{"type":"convert","labels":null}`},
		{name: "not JSON", body: `{"type":`, malformed: true},
		{name: "array", body: `[]`, malformed: true},
		{name: "null", body: `null`, malformed: true},
		{name: "trailing value", body: `{"type":"a"}{}`, malformed: true},
		{name: "stray closing bracket", body: `{"type":"a"} ]`, malformed: true},
		{name: "stray closing brace", body: "{\"type\":\"a\"}\n}", malformed: true},
		{name: "trailing JSON whitespace", body: "{\"type\":\"a\"} \t\r\n"},
		{name: "empty", body: ``, malformed: true},
		{name: "missing type", body: `{}`, pointers: []string{"/type"}},
		{name: "type not a string", body: `{"type":7}`, pointers: []string{"/type"}},
		{name: "empty type", body: `{"type":""}`, pointers: []string{"/type"}},
		{name: "unknown fields", body: `{"type":"a","webhook":"x","a/b":1}`, pointers: []string{"/a~1b", "/webhook"}},
		{name: "parameters not object", body: `{"type":"a","parameters":"x"}`, pointers: []string{"/parameters"}},
		{name: "labels not strings", body: `{"type":"a","labels":{"a":1}}`, pointers: []string{"/labels"}},
		{name: "bad labels", body: `{"type":"a","labels":{"ok":"fine","-bad":"x","k":"has space"}}`, pointers: []string{"/labels/-bad", "/labels/k"}},
		{name: "label key with prefix", body: `{"type":"a","labels":{"example.com/x":"y"}}`, pointers: []string{"/labels/example.com~1x"}},
		{name: "everything wrong", body: `{"type":1,"parameters":[],"labels":{"":""},"x":0}`, pointers: []string{"/labels/", "/parameters", "/type", "/x"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, errs, err := decodeSubmitRequest([]byte(tc.body))
			var ae *apiError
			if tc.malformed {
				if !errors.As(err, &ae) || ae.kind != problemMalformedJSON {
					t.Fatalf("err = %v, want malformed JSON", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := pointers(errs)
			if len(got) == 0 {
				got = nil
			}
			if diff := cmp.Diff(tc.pointers, got); diff != "" {
				t.Errorf("pointers (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTooManyLabels(t *testing.T) {
	labels := map[string]string{}
	for i := range maxLabels + 1 {
		labels[strings.Repeat("k", i+1)] = "v"
	}
	body, _ := json.Marshal(map[string]any{"type": "a", "labels": labels})
	_, errs, err := decodeSubmitRequest(body)
	if err != nil || len(errs) != 1 || errs[0].Pointer != "/labels" {
		t.Errorf("errs %v, err %v", errs, err)
	}
}

func TestRequestHashIsCanonical(t *testing.T) {
	hash := func(body string) string {
		req, errs, err := decodeSubmitRequest([]byte(body))
		if err != nil || len(errs) > 0 {
			t.Fatalf("%s: %v %v", body, err, errs)
		}
		h, err := requestHash(req)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	same := [][]string{
		{`{"type":"a","parameters":{"x":1,"y":[1,2]}}`, `{ "parameters" : {"y":[1,2],"x":1}, "type":"a" }`},
		{`{"type":"a"}`, `{"type":"a","parameters":{},"labels":{}}`, `{"type":"a","labels":null}`},
	}
	for _, group := range same {
		for _, b := range group[1:] {
			if hash(b) != hash(group[0]) {
				t.Errorf("%s and %s hash differently", group[0], b)
			}
		}
	}
	different := []string{`{"type":"a"}`, `{"type":"b"}`, `{"type":"a","parameters":{"x":1}}`,
		`{"type":"a","parameters":{"x":1.0}}`, `{"type":"a","labels":{"k":"v"}}`}
	seen := map[string]string{}
	for _, b := range different {
		h := hash(b)
		if prev, dup := seen[h]; dup {
			t.Errorf("%s and %s hash the same", prev, b)
		}
		seen[h] = b
	}
}

func TestJobIDForKey(t *testing.T) {
	a := jobIDForKey("acme", "k1")
	if a != jobIDForKey("acme", "k1") {
		t.Error("not deterministic")
	}
	if a == jobIDForKey("other", "k1") || a == jobIDForKey("acme", "k2") || a == jobIDForKey("acm", "ek1") {
		t.Error("different (tenant, key) pairs collide")
	}
	if a != strings.ToLower(a) || len(a) != 36 {
		t.Errorf("%q is not a lowercase UUID", a)
	}
}

func TestValidIdempotencyKey(t *testing.T) {
	for k, want := range map[string]bool{"a": true, "order-1 x": true, "": false, strings.Repeat("k", 256): false, "tab\t": false, "é": false} {
		if got := validIdempotencyKey(k); got != want {
			t.Errorf("validIdempotencyKey(%q) = %v", k, got)
		}
	}
}

func TestIsJSON(t *testing.T) {
	for ct, want := range map[string]bool{"application/json": true, "application/json; charset=utf-8": true,
		"Application/JSON": true, "application/merge-patch+json": true, "text/plain": false, "": false, "application/jsonx": false} {
		if got := isJSON(ct); got != want {
			t.Errorf("isJSON(%q) = %v", ct, got)
		}
	}
}

// FuzzDecodeSubmitRequest: decoding never panics, errors are either malformed
// JSON or field errors with valid pointers, and a request that passes decodes
// to the same request again after re-encoding.
func FuzzDecodeSubmitRequest(f *testing.F) {
	for _, seed := range []string{
		`{"type":"convert","parameters":{"input":"https://x","format":"webm"},"labels":{"project":"x"}}`,
		`{"type":"convert"}`, `{}`, `[]`, `null`, `{"type":1}`, `{"type":"a","labels":{"":""}}`,
		`{"type":"a","parameters":"x"}`, `{"type":"a","x~y/z":1}`, `{"type":"a"} trailing`, `{"type":"\u0000"}`,
		`{"type":"a","webhook":{"url":"https://h.example/x","events":["job.failed","job.completed","job.failed"]}}`,
		`{"type":"a","webhook":{"url":7,"events":"job.failed","x":1}}`, `{"type":"a","webhook":null}`, `{"type":"a","webhook":[]}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, errs, err := decodeSubmitRequest(body)
		if err != nil {
			var ae *apiError
			if !errors.As(err, &ae) || ae.kind != problemMalformedJSON {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		for _, fe := range errs {
			if !strings.HasPrefix(fe.Pointer, "/") || fe.Detail == "" {
				t.Fatalf("bad field error %+v", fe)
			}
		}
		if len(errs) > 0 {
			return
		}
		if req.Type == "" {
			t.Fatal("accepted a request without a type")
		}
		if len(validateLabels(req.Labels)) > 0 {
			t.Fatal("accepted invalid labels")
		}
		if w := req.Webhook; w != nil {
			for i, e := range w.Events {
				if !knownEvent(e) || (i > 0 && eventRank(w.Events[i-1]) >= eventRank(e)) {
					t.Fatalf("accepted events %v: unknown, repeated or out of order", w.Events)
				}
			}
			if w.URL == "" || len(w.URL) > maxWebhookURLLength {
				t.Fatalf("accepted webhook url %q", w.URL)
			}
		}
		again, err := json.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		req2, errs2, err := decodeSubmitRequest(again)
		if err != nil || len(errs2) > 0 {
			t.Fatalf("re-encoded request %s fails: %v %v", again, err, errs2)
		}
		h1, err1 := requestHash(req)
		h2, err2 := requestHash(req2)
		if err1 != nil || err2 != nil || h1 != h2 {
			t.Fatalf("round trip changed the request: %s vs %s", body, again)
		}
	})
}
