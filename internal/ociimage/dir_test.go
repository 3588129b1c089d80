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

package ociimage

import (
	"archive/tar"
	"errors"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// tree writes a small root file system: a program, a library reached by a
// relative symbolic link, and a sticky /tmp, dated now.
func tree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{"usr/bin", "usr/lib", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(filepath.Join(dir, "tmp"), 0o777|os.ModeSticky); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "usr/bin/prog"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "usr/lib/libx.so.1.2"), []byte("lib"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("libx.so.1.2", filepath.Join(dir, "usr/lib/libx.so.1")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("usr/bin", filepath.Join(dir, "bin")); err != nil {
		t.Fatal(err)
	}
	return dir
}

type entry struct {
	Type     byte
	Mode     int64
	Link     string
	Content  string
	UID, GID int
	Epoch    bool
}

func layerEntries(t *testing.T, dir string, opts DirOptions) (map[string]entry, []string) {
	t.Helper()
	img, err := FromDir(dir, opts)
	if err != nil {
		t.Fatalf("FromDir: %v", err)
	}
	layers, err := img.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("layers: %v, %d", err, len(layers))
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = rc.Close() }()
	got := map[string]entry{}
	var order []string
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		got[h.Name] = entry{Type: h.Typeflag, Mode: h.Mode, Link: h.Linkname, Content: string(b), UID: h.Uid, GID: h.Gid, Epoch: h.ModTime.Equal(Epoch)}
		order = append(order, h.Name)
	}
	return got, order
}

// The layer holds the tree as it is: directories, files with their modes,
// links as links (not what they point to), /tmp still sticky; every entry
// root's and dated Epoch, whoever owns the files and whenever they were
// written.
func TestFromDirLayer(t *testing.T) {
	dir := tree(t)
	got, order := layerEntries(t, dir, DirOptions{LayerTar: filepath.Join(t.TempDir(), "layer.tar")})
	want := map[string]entry{
		"bin":                 {Type: tar.TypeSymlink, Mode: 0o777, Link: "usr/bin", Epoch: true},
		"tmp/":                {Type: tar.TypeDir, Mode: 0o1777, Epoch: true},
		"usr/":                {Type: tar.TypeDir, Mode: 0o755, Epoch: true},
		"usr/bin/":            {Type: tar.TypeDir, Mode: 0o755, Epoch: true},
		"usr/bin/prog":        {Type: tar.TypeReg, Mode: 0o755, Content: "#!/bin/sh\n", Epoch: true},
		"usr/lib/":            {Type: tar.TypeDir, Mode: 0o755, Epoch: true},
		"usr/lib/libx.so.1":   {Type: tar.TypeSymlink, Mode: 0o777, Link: "libx.so.1.2", Epoch: true},
		"usr/lib/libx.so.1.2": {Type: tar.TypeReg, Mode: 0o644, Content: "lib", Epoch: true},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("layer (-want +got):\n%s", diff)
	}
	// Parents before children, in the same order every time.
	if diff := cmp.Diff([]string{"bin", "tmp/", "usr/", "usr/bin/", "usr/bin/prog", "usr/lib/", "usr/lib/libx.so.1", "usr/lib/libx.so.1.2"}, order); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
}

// The same tree gives the same digest, whatever the files' times; the
// config says what the options say.
func TestFromDirReproducibleAndConfig(t *testing.T) {
	dir := tree(t)
	opts := DirOptions{Entrypoint: []string{"/usr/bin/prog"}, Env: []string{"PATH=/usr/bin"}, CreatedBy: "test", Labels: map[string]string{LabelTitle: "t"}}
	a, err := FromDir(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(filepath.Join(dir, "usr/bin/prog"), later, later); err != nil {
		t.Fatal(err)
	}
	b, err := FromDir(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	if da, db := mustDigest(t, a), mustDigest(t, b); da != db {
		t.Errorf("digests differ after touching a file: %s, %s", da, db)
	}
	cfg, err := a.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"/usr/bin/prog"}, cfg.Config.Entrypoint); diff != "" {
		t.Errorf("entrypoint (-want +got):\n%s", diff)
	}
	if cfg.Config.WorkingDir != "/" || cfg.Config.User != "" || cfg.Config.Labels[LabelTitle] != "t" || len(cfg.Config.Env) != 1 {
		t.Errorf("config %+v: want working dir /, root, the label and the env", cfg.Config)
	}
}

// A device or a socket has no place in an image: FromDir says so.
func TestFromDirRefusesOtherFiles(t *testing.T) {
	dir := tree(t)
	// A named pipe stands for the rest.
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	if _, err := FromDir(dir, DirOptions{}); err == nil {
		t.Error("FromDir of a tree with a named pipe: no error")
	}
}
