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
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// copyFile copies the host's file src to dir/rel.
func copyFile(t *testing.T, src, dir, rel string) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Skipf("skipped: this test takes dash and glibc from a Debian amd64 host: %v", err)
	}
	defer func() { _ = in.Close() }()
	to := filepath.Join(dir, rel)
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// A tree laid out as Debian's packages unpack: dash in /bin, libc in
// /lib/<triplet>, the interpreter reached through /lib64's absolute link, a
// second libc.so.6 elsewhere (as an alternative's would be). The closure
// finds libc in the loader's directory and follows the absolute link inside
// the tree, not on this machine; the assembled tree has merged /usr, sh as
// dash, and runs.
func TestClosureAndAssemble(t *testing.T) {
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skip("skipped: needs a linux/amd64 host")
	}
	tree := t.TempDir()
	copyFile(t, "/usr/bin/dash", tree, "bin/dash")
	copyFile(t, "/lib/x86_64-linux-gnu/libc.so.6", tree, "lib/x86_64-linux-gnu/libc.so.6")
	copyFile(t, "/lib/x86_64-linux-gnu/libc.so.6", tree, "lib/alt/libc.so.6") // sorts first
	copyFile(t, "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", tree, "lib/x86_64-linux-gnu/ld-linux-x86-64.so.2")
	if err := os.MkdirAll(filepath.Join(tree, "lib64"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", filepath.Join(tree, "lib64/ld-linux-x86-64.so.2")); err != nil {
		t.Fatal(err)
	}
	r, err := indexRootfs(tree)
	if err != nil {
		t.Fatal(err)
	}
	c, err := r.closure([]string{"bin/dash"})
	if err != nil {
		t.Fatal(err)
	}
	// libc needs the loader by soname too.
	if diff := cmp.Diff(map[string]string{
		"libc.so.6":            "lib/x86_64-linux-gnu/libc.so.6",
		"ld-linux-x86-64.so.2": "lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
	}, c.libraries); diff != "" {
		t.Errorf("libraries (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"/lib64/ld-linux-x86-64.so.2": "lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"}, c.interp); diff != "" {
		t.Errorf("interpreter (-want +got):\n%s", diff)
	}

	out := t.TempDir()
	if err := assemble(r, c, nil, out); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"bin": "usr/bin", "lib64": "usr/lib64", "usr/bin/sh": "dash",
	} {
		if got, err := os.Readlink(filepath.Join(out, path)); err != nil || got != want {
			t.Errorf("%s links to %q (%v), want %q", path, got, err, want)
		}
	}
	for _, path := range []string{"usr/bin/dash", "usr/lib/x86_64-linux-gnu/libc.so.6", "usr/lib64/ld-linux-x86-64.so.2"} {
		if fi, err := os.Lstat(filepath.Join(out, path)); err != nil || !fi.Mode().IsRegular() {
			t.Errorf("%s: %v, want a regular file", path, err)
		}
	}
	if fi, err := os.Stat(filepath.Join(out, "tmp")); err != nil || fi.Mode()&os.ModeSticky == 0 {
		t.Errorf("/tmp: %v, want a sticky directory", err)
	}
	if os.Geteuid() != 0 {
		return // running it needs chroot
	}
	got, err := exec.Command("chroot", out, "/bin/sh", "-c", "echo ran in the image").CombinedOutput()
	if err != nil || string(got) != "ran in the image\n" {
		t.Errorf("chroot /bin/sh: %v %q", err, got)
	}
}
