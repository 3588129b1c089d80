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
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// pkg is one Debian package of the closure, as apt resolved it.
type pkg struct {
	Name, Version, Arch string
	File                string // the .deb's file name, as apt-get download names it
}

// resolve asks apt for the closure of roots (their Depends and Pre-Depends,
// no Recommends) as if nothing were installed: an empty dpkg status, so the
// host's own packages (libc6 and the rest of the base system) are part of it.
// apt's resolver picks one package for each alternative, as an install would.
func resolve(ctx context.Context, work string, roots []string) ([]pkg, error) {
	status := filepath.Join(work, "empty-status")
	if err := os.WriteFile(status, nil, 0o644); err != nil {
		return nil, err
	}
	args := append([]string{"install", "-qq", "--print-uris", "--no-install-recommends",
		"-o", "Dir::State::status=" + status, "-o", "Debug::NoLocking=1"}, roots...)
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "apt-get", args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("apt-get %s: %w: %s (are the package lists there? apt-get update)", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	var pkgs []pkg
	for line := range strings.Lines(string(out)) {
		// 'URL' FILE SIZE HASH
		fields := strings.Fields(line)
		if len(fields) < 2 || !strings.HasSuffix(fields[1], ".deb") {
			continue
		}
		file := fields[1]
		parts := strings.Split(strings.TrimSuffix(file, ".deb"), "_")
		if len(parts) != 3 {
			return nil, fmt.Errorf("apt-get: unexpected file name %q", file)
		}
		version, err := url.PathUnescape(parts[1]) // 7%3a5.1.9 is 7:5.1.9
		if err != nil {
			return nil, fmt.Errorf("apt-get: file name %q: %w", file, err)
		}
		pkgs = append(pkgs, pkg{Name: parts[0], Version: version, Arch: parts[2], File: file})
	}
	if len(pkgs) == 0 {
		return nil, fmt.Errorf("apt-get resolved no package for %v: %s", roots, strings.TrimSpace(stderr.String()))
	}
	sort.Slice(pkgs, func(i, j int) bool { return pkgs[i].Name < pkgs[j].Name })
	return pkgs, nil
}

// download fetches every package's .deb into dir with apt-get download,
// which checks each file against the signed index's hash.
func download(ctx context.Context, dir string, pkgs []pkg) error {
	args := make([]string, 0, 4+len(pkgs))
	args = append(args, "download", "-qq", "-o", "APT::Sandbox::User=root")
	for _, p := range pkgs {
		args = append(args, p.Name+":"+p.Arch+"="+p.Version)
	}
	cmd := exec.CommandContext(ctx, "apt-get", args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("apt-get download: %w: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

// extract unpacks every package's files (not its maintainer scripts, which
// never run) into rootfs with dpkg-deb -x.
func extract(ctx context.Context, debs, rootfs string, pkgs []pkg) error {
	for _, p := range pkgs {
		deb := filepath.Join(debs, p.File)
		if _, err := os.Stat(deb); err != nil {
			// apt-get download names files as the index does; so does
			// --print-uris, but say which is missing if they ever differ.
			return fmt.Errorf("%s: %w", p.Name, err)
		}
		if out, err := exec.CommandContext(ctx, "dpkg-deb", "-x", deb, rootfs).CombinedOutput(); err != nil {
			return fmt.Errorf("dpkg-deb -x %s: %w: %s", p.File, err, strings.TrimSpace(string(out)))
		}
	}
	return nil
}
