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

// Package restclient is what an application developer's code does against
// the asyncjob REST API: plain HTTP with an API key, nothing from
// Kubernetes. The end-to-end and install tests use it.
package restclient

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
)

// Client calls the API at Base with Key as its bearer token.
type Client struct {
	Base string
	Key  string
	HTTP *http.Client
}

// Do sends body (JSON, when not nil) to Base+path and returns the response
// with its body read.
func (c *Client) Do(ctx context.Context, method, path string, body any) (*http.Response, []byte, error) {
	return c.DoWithHeader(ctx, method, path, body, nil)
}

// DoWithHeader is Do with more request headers (an Idempotency-Key, say).
func (c *Client) DoWithHeader(ctx context.Context, method, path string, body any, header http.Header) (*http.Response, []byte, error) {
	var r io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return nil, nil, err
		}
		r = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.Base+path, r)
	if err != nil {
		return nil, nil, err
	}
	for name, values := range header {
		req.Header[name] = values
	}
	req.Header.Set("Authorization", "Bearer "+c.Key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(resp.Body)
	return resp, raw, err
}
