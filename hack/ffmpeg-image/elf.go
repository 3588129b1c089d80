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
	"debug/elf"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// rootfs is the tree the packages were unpacked into, indexed by file name
// for finding libraries.
type rootfs struct {
	dir    string
	byName map[string][]string // base name -> paths relative to dir, sorted
}

func indexRootfs(dir string) (*rootfs, error) {
	r := &rootfs{dir: dir, byName: map[string][]string{}}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		r.byName[d.Name()] = append(r.byName[d.Name()], rel)
		return err
	})
	for _, paths := range r.byName {
		sort.Strings(paths)
	}
	return r, err
}

// realPath follows symbolic links inside the tree (an absolute target is
// relative to the tree, not to this machine) to a regular file.
func (r *rootfs) realPath(rel string) (string, error) {
	for range 40 {
		p := filepath.Join(r.dir, rel)
		fi, err := os.Lstat(p)
		if err != nil {
			return "", err
		}
		if fi.Mode().IsRegular() {
			return rel, nil
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			return "", fmt.Errorf("%s is not a file", rel)
		}
		target, err := os.Readlink(p)
		if err != nil {
			return "", err
		}
		if filepath.IsAbs(target) {
			rel = strings.TrimPrefix(filepath.Clean(target), "/")
		} else {
			rel = filepath.Join(filepath.Dir(rel), target)
		}
	}
	return "", fmt.Errorf("%s: too many symbolic links", rel)
}

// library finds the file the dynamic loader would load for soname: in the
// loader's system directories first, then anywhere in the tree (a library
// that update-alternatives would have linked into them, such as
// libblas.so.3 in .../blas/, since no maintainer script ran).
func (r *rootfs) library(soname string) (string, error) {
	candidates := r.byName[soname]
	if len(candidates) == 0 {
		return "", fmt.Errorf("no package of the closure has %s", soname)
	}
	best := candidates[0]
	for _, c := range candidates {
		if dir := filepath.Dir(c); strings.HasSuffix(dir, "-linux-gnu") && (strings.HasPrefix(dir, "lib/") || strings.HasPrefix(dir, "usr/lib/")) {
			best = c
			break
		}
	}
	return r.realPath(best)
}

// elfDeps are the shared libraries (DT_NEEDED) and the program interpreter
// of the ELF file at rel; a file that is not ELF (a script) has none.
func (r *rootfs) elfDeps(rel string) (needed []string, interp string, err error) {
	f, err := elf.Open(filepath.Join(r.dir, rel))
	if err != nil {
		var fe *elf.FormatError
		if errors.As(err, &fe) {
			return nil, "", nil
		}
		return nil, "", err
	}
	defer func() { _ = f.Close() }()
	for _, p := range f.Progs {
		if p.Type != elf.PT_INTERP {
			continue
		}
		b := make([]byte, p.Filesz)
		if _, err := p.ReadAt(b, 0); err != nil {
			return nil, "", fmt.Errorf("%s: interpreter: %w", rel, err)
		}
		interp = strings.TrimRight(string(b), "\x00")
	}
	needed, err = f.ImportedLibraries()
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", rel, err)
	}
	return needed, interp, nil
}

// closure is every file the programs need to run: the programs, the
// libraries they and those libraries link (by soname, each resolved to the
// regular file the loader would map) and the program interpreter. It maps
// the path the loader looks for (a soname, or the interpreter's absolute
// path) to the file in the tree holding it.
type closure struct {
	programs  []string          // relative paths in the tree
	libraries map[string]string // soname -> the file's path in the tree
	interp    map[string]string // interpreter path (e.g. /lib64/ld-linux-x86-64.so.2) -> the file's path in the tree
}

func (r *rootfs) closure(programs []string) (*closure, error) {
	c := &closure{libraries: map[string]string{}, interp: map[string]string{}}
	queue := []string{}
	for _, p := range programs {
		real, err := r.realPath(p)
		if err != nil {
			return nil, fmt.Errorf("program %s: %w", p, err)
		}
		c.programs = append(c.programs, real)
		queue = append(queue, real)
	}
	for len(queue) > 0 {
		file := queue[0]
		queue = queue[1:]
		needed, interp, err := r.elfDeps(file)
		if err != nil {
			return nil, err
		}
		if interp != "" {
			if _, ok := c.interp[interp]; !ok {
				real, err := r.realPath(strings.TrimPrefix(interp, "/"))
				if err != nil {
					return nil, fmt.Errorf("%s's interpreter %s: %w", file, interp, err)
				}
				c.interp[interp] = real
			}
		}
		for _, soname := range needed {
			if _, ok := c.libraries[soname]; ok {
				continue
			}
			lib, err := r.library(soname)
			if err != nil {
				return nil, fmt.Errorf("%s needs %s: %w", file, soname, err)
			}
			c.libraries[soname] = lib
			queue = append(queue, lib)
		}
	}
	return c, nil
}
