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
	"strings"
	"testing"
)

// TestOpenControllerStoreKeepsCredentialsOutOfErrors: gocloud.dev quotes the
// whole URL in its errors; what the controller returns (and so logs) has
// neither the query nor the user info.
func TestOpenControllerStoreKeepsCredentialsOutOfErrors(t *testing.T) {
	ctx := context.Background()
	for _, raw := range []string{
		"nosuchscheme://bucket/p?awssecret=s3cr3t&region=x",
		"file:///no/such/dir/anywhere?no_tmp_dir=true&secret=s3cr3t",
		"s3://bucket?endpoint=http%3A%2F%2F127.0.0.1%3A1&nosuchparam=s3cr3t",
		"s3://user:s3cr3t@bucket?region=x&bogus=1",
		"::not a url?s3cr3t",
	} {
		_, err := openControllerStore(ctx, raw)
		if err == nil {
			t.Errorf("%s: opened; want an error", raw)
			continue
		}
		if strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("%s: the error holds the secret: %v", raw, err)
		}
	}
	if s, err := openControllerStore(ctx, ""); s != nil || err != nil {
		t.Errorf("an empty URL = %v, %v; want no store and no error", s, err)
	}
	dir := t.TempDir()
	s, err := openControllerStore(ctx, "file://"+dir+"?no_tmp_dir=true")
	if err != nil || s == nil {
		t.Fatalf("a directory: %v", err)
	}
	_ = s.Close()
	if got := redactStoreURL("s3://user:pw@bucket/pre?endpoint=http://h:1&secret=x"); got != "s3://bucket/pre" {
		t.Errorf("redactStoreURL = %q, want s3://bucket/pre", got)
	}
}
