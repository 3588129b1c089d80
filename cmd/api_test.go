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

package main

import (
	"flag"
	"io"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/types"

	"github.com/asyncjob/asyncjob/internal/httpapi"
)

// TestAPIAuthenticatorFlags: the authentication flags build the authenticator
// the server gets; --token-audiences becomes the TokenReview's audiences
// (what those do is TestTokenReviewAudiences in internal/httpapi).
func TestAPIAuthenticatorFlags(t *testing.T) {
	defaultKeys := types.NamespacedName{Namespace: "asyncjob-system", Name: "asyncjob-api-keys"}
	cases := []struct {
		args    []string
		auth    httpapi.Authenticator
		secret  *types.NamespacedName
		wantErr bool
	}{
		{args: nil, auth: &httpapi.APIKeyAuthenticator{Secret: defaultKeys}, secret: &defaultKeys},
		{args: []string{"--api-keys-secret=ns/keys"},
			auth: &httpapi.APIKeyAuthenticator{Secret: types.NamespacedName{Namespace: "ns", Name: "keys"}}, secret: &types.NamespacedName{Namespace: "ns", Name: "keys"}},
		{args: []string{"--api-keys-secret=keys"}, wantErr: true},
		{args: []string{"--auth-mode=tokenreview"}, auth: &httpapi.TokenReviewAuthenticator{}},
		{args: []string{"--auth-mode=tokenreview", "--token-audiences=asyncjob"},
			auth: &httpapi.TokenReviewAuthenticator{Audiences: []string{"asyncjob"}}},
		{args: []string{"--auth-mode=tokenreview", "--token-audiences=asyncjob,https://api.example.com"},
			auth: &httpapi.TokenReviewAuthenticator{Audiences: []string{"asyncjob", "https://api.example.com"}}},
		{args: []string{"--auth-mode=none", "--no-auth-tenant=dev"}, auth: httpapi.NoAuthenticator{Tenant: "dev"}},
		{args: []string{"--auth-mode=ldap"}, wantErr: true},
	}
	for _, tc := range cases {
		fs := flag.NewFlagSet("api", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		var f apiFlags
		f.register(fs)
		if err := fs.Parse(tc.args); err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		auth, secret, err := f.authenticator()
		if tc.wantErr {
			if err == nil {
				t.Errorf("%v: no error", tc.args)
			}
			continue
		}
		if err != nil {
			t.Errorf("%v: %v", tc.args, err)
			continue
		}
		if diff := cmp.Diff(tc.auth, auth); diff != "" {
			t.Errorf("%v: authenticator (-want +got):\n%s", tc.args, diff)
		}
		if diff := cmp.Diff(tc.secret, secret); diff != "" {
			t.Errorf("%v: keys Secret (-want +got):\n%s", tc.args, diff)
		}
	}
}
