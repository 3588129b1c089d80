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
	"context"
	"errors"
	"net/url"
	"strings"

	"github.com/asyncjob/asyncjob/internal/artifact"
)

// openControllerStore opens the controller's artifact store; an empty URL
// is none. Its error never holds the URL's query or user info, where
// credentials may be: gocloud.dev's own errors quote the whole URL.
func openControllerStore(ctx context.Context, rawURL string) (*artifact.Store, error) {
	if rawURL == "" {
		return nil, nil
	}
	store, err := artifact.Open(ctx, rawURL)
	if err != nil {
		return nil, errors.New("opening the artifact store " + redactStoreURL(rawURL) + ": " + scrubStoreURL(err.Error(), rawURL))
	}
	return store, nil
}

// redactStoreURL is what may be logged of a store URL: its scheme, host and
// path.
func redactStoreURL(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "(an unparsable URL)"
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
}

// scrubStoreURL removes from msg the parts of rawURL that may not be logged.
func scrubStoreURL(msg, rawURL string) string {
	secret := []string{}
	if i := strings.IndexByte(rawURL, '?'); i >= 0 && i < len(rawURL)-1 {
		secret = append(secret, rawURL[i+1:])
	}
	if u, err := url.Parse(rawURL); err == nil {
		if u.RawQuery != "" {
			secret = append(secret, u.RawQuery, u.Query().Encode())
		}
		if u.User != nil {
			secret = append(secret, u.User.String())
		}
	} else {
		// Quoted whole in the parse error: keep none of it.
		return "the URL does not parse"
	}
	for _, s := range secret {
		if s != "" {
			msg = strings.ReplaceAll(msg, s, "REDACTED")
		}
	}
	return msg
}
