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
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// assemble writes the image's tree into out: the programs at their own
// paths, every library of the closure as a regular file named by its soname
// in /usr/lib/<triplet> (a directory the loader searches without
// ld.so.cache), the interpreter at the path the programs name, /usr/bin/sh
// as dash, each package's copyright file, and an empty /tmp. The layout is
// Debian 12's merged /usr: /bin, /lib, /lib64 and /sbin link into /usr.
func assemble(r *rootfs, c *closure, pkgs []pkg, out string) error {
	libc, ok := c.libraries["libc.so.6"]
	if !ok {
		return fmt.Errorf("the programs do not link libc.so.6: %v", c.programs)
	}
	triplet := filepath.Base(filepath.Dir(libc)) // x86_64-linux-gnu
	for _, d := range []string{"usr/bin", "usr/sbin", "usr/lib/" + triplet, "usr/lib64", "etc", "tmp"} {
		if err := os.MkdirAll(filepath.Join(out, d), 0o755); err != nil {
			return err
		}
	}
	if err := os.Chmod(filepath.Join(out, "tmp"), 0o777|os.ModeSticky); err != nil {
		return err
	}
	for _, top := range usrMerged {
		if err := os.Symlink("usr/"+top, filepath.Join(out, top)); err != nil {
			return err
		}
	}
	for _, p := range c.programs {
		if err := place(r, p, merged(p), out); err != nil {
			return err
		}
	}
	for soname, lib := range c.libraries {
		if err := place(r, lib, filepath.Join("usr/lib", triplet, soname), out); err != nil {
			return err
		}
	}
	for path, file := range c.interp {
		if err := place(r, file, merged(strings.TrimPrefix(path, "/")), out); err != nil {
			return err
		}
	}
	if err := os.Symlink("dash", filepath.Join(out, "usr/bin/sh")); err != nil {
		return err
	}
	for _, p := range pkgs {
		// Licences travel with the files: Debian ships one per package.
		src, err := r.realPath(filepath.Join("usr/share/doc", p.Name, "copyright"))
		if err != nil {
			continue // none in this package
		}
		if err := place(r, src, filepath.Join("usr/share/doc", p.Name, "copyright"), out); err != nil {
			return err
		}
	}
	return nil
}

// usrMerged are the top directories Debian 12 links into /usr.
var usrMerged = []string{"bin", "lib", "lib64", "sbin"}

// merged is rel under Debian 12's merged /usr: bin/dash is usr/bin/dash.
func merged(rel string) string {
	if top, _, _ := strings.Cut(rel, "/"); slices.Contains(usrMerged, top) {
		return "usr/" + rel
	}
	return rel
}

// place puts the tree's file src at dst in out, hard-linked when it can be
// (the same cache directory), copied otherwise.
func place(r *rootfs, src, dst, out string) error {
	from, to := filepath.Join(r.dir, src), filepath.Join(out, dst)
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return err
	}
	if _, err := os.Lstat(to); err == nil {
		return nil // a program that is also a library's target, say
	}
	if os.Link(from, to) == nil {
		return nil
	}
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer func() { _ = in.Close() }()
	fi, err := in.Stat()
	if err != nil {
		return err
	}
	f, err := os.OpenFile(to, os.O_CREATE|os.O_EXCL|os.O_WRONLY, fi.Mode().Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, in); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}
