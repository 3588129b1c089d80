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
	"net/netip"
	"testing"
	"time"

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

// TestAPIWebhookFlags: --webhook-allowed-cidrs becomes the policy submitted
// URLs are checked with; a bad range fails start-up.
func TestAPIWebhookFlags(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		allowed []netip.Prefix
		grace   time.Duration
		wantErr bool
	}{
		{args: nil, grace: 24 * time.Hour},
		{args: []string{"--webhook-allowed-cidrs=127.0.0.0/8, ::1/128", "--webhook-rotation-grace=90m"},
			allowed: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}, grace: 90 * time.Minute},
		{args: []string{"--webhook-allowed-cidrs=10.0.0.0/33"}, wantErr: true},
	} {
		fs := flag.NewFlagSet("api", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		var f apiFlags
		f.register(fs)
		if err := fs.Parse(tc.args); err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		p, err := f.webhookPolicy()
		if tc.wantErr != (err != nil) {
			t.Errorf("%v: error %v", tc.args, err)
			continue
		}
		if diff := cmp.Diff(tc.allowed, p.Allowed, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); !tc.wantErr && diff != "" {
			t.Errorf("%v: allowed (-want +got):\n%s", tc.args, diff)
		}
		if !tc.wantErr && f.rotationGrace != tc.grace {
			t.Errorf("%v: grace %v", tc.args, f.rotationGrace)
		}
	}
}
