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
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestInstallEntrypointCopiesItself(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	dst := filepath.Join(dir, "asyncjob")
	// A retried init container finds the file of the attempt before.
	if err := os.WriteFile(dst, []byte("half a binary"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := runInstallEntrypoint([]string{dst}); err != nil {
		t.Fatalf("install-entrypoint %s: %v", dst, err)
	}
	got, err := os.ReadFile(dst)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("the copy has %d bytes, not the %d of %s", len(got), len(want), self)
	}
	info, err := os.Stat(dst)
	if err != nil {
		t.Fatal(err)
	}
	if mode := info.Mode(); mode != 0o755 {
		t.Errorf("mode %v, want -rwxr-xr-x", mode)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("files left next to the copy: %v", entries)
	}
}

func TestInstallEntrypointErrors(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{name: "no destination", args: nil, wantErr: "want exactly one destination"},
		{name: "two destinations", args: []string{filepath.Join(dir, "a"), filepath.Join(dir, "b")}, wantErr: "want exactly one destination"},
		{name: "a directory that does not exist", args: []string{filepath.Join(dir, "missing", "asyncjob")}, wantErr: "no such file or directory"},
		{name: "an unknown flag", args: []string{"--force", filepath.Join(dir, "a")}, wantErr: "flag provided but not defined"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := runInstallEntrypoint(tc.args)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("install-entrypoint %q: %v, want an error containing %q", tc.args, err, tc.wantErr)
			}
		})
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("failed installs left files: %v", entries)
	}
}
