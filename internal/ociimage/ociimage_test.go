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
	"context"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

var testOpts = Options{
	Name:     "asyncjob",
	User:     "65532:65532",
	Source:   "https://github.com/asyncjob/asyncjob",
	Version:  "v0.1.0",
	Title:    "asyncjob",
	Licenses: "Apache-2.0",
}

// fakeBinary writes a small file standing in for a binary.
func fakeBinary(t *testing.T) (path string, content []byte) {
	t.Helper()
	content = []byte("#!not really a binary\n" + strings.Repeat("x", 4096))
	path = filepath.Join(t.TempDir(), "fake")
	if err := os.WriteFile(path, content, 0o600); err != nil {
		t.Fatal(err)
	}
	return path, content
}

func mustNew(t *testing.T, path string, opts Options) v1.Image {
	t.Helper()
	img, err := New(path, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return img
}

func mustDigest(t *testing.T, img v1.Image) v1.Hash {
	t.Helper()
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestConfig(t *testing.T) {
	path, _ := fakeBinary(t)
	img := mustNew(t, path, testOpts)

	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Config.User; got != "65532:65532" {
		t.Errorf("user = %q, want 65532:65532 (non-root)", got)
	}
	if diff := cmp.Diff([]string{"/asyncjob"}, cfg.Config.Entrypoint); diff != "" {
		t.Errorf("entrypoint (-want +got):\n%s", diff)
	}
	if len(cfg.Config.Cmd) != 0 {
		t.Errorf("cmd = %q, want none", cfg.Config.Cmd)
	}
	if cfg.Config.WorkingDir != "/" {
		t.Errorf("working dir = %q, want /", cfg.Config.WorkingDir)
	}
	if cfg.OS != "linux" || cfg.Architecture != runtime.GOARCH {
		t.Errorf("platform = %s/%s, want linux/%s", cfg.OS, cfg.Architecture, runtime.GOARCH)
	}
	if !cfg.Created.Equal(Epoch) {
		t.Errorf("created = %v, want %v", cfg.Created.Time, Epoch)
	}
	wantLabels := map[string]string{
		"org.opencontainers.image.source":   "https://github.com/asyncjob/asyncjob",
		"org.opencontainers.image.version":  "v0.1.0",
		"org.opencontainers.image.title":    "asyncjob",
		"org.opencontainers.image.licenses": "Apache-2.0",
	}
	if diff := cmp.Diff(wantLabels, cfg.Config.Labels); diff != "" {
		t.Errorf("labels (-want +got):\n%s", diff)
	}

	mt, err := img.MediaType()
	if err != nil {
		t.Fatal(err)
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	if mt != types.OCIManifestSchema1 || m.MediaType != types.OCIManifestSchema1 || m.Config.MediaType != types.OCIConfigJSON {
		t.Errorf("media types: manifest %s (%s), config %s; want OCI", mt, m.MediaType, m.Config.MediaType)
	}
	if len(m.Layers) != 1 || m.Layers[0].MediaType != types.OCILayer {
		t.Errorf("layers = %+v, want one %s", m.Layers, types.OCILayer)
	}
	if len(cfg.RootFS.DiffIDs) != 1 || len(cfg.History) != 1 {
		t.Errorf("rootfs %d diff IDs, %d history entries; want 1 and 1", len(cfg.RootFS.DiffIDs), len(cfg.History))
	}
}

func TestZeroOptions(t *testing.T) {
	path, _ := fakeBinary(t)
	cfg, err := mustNew(t, path, Options{}).ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Config.User != "" || cfg.Config.Labels != nil {
		t.Errorf("user %q, labels %v; want root and no labels", cfg.Config.User, cfg.Config.Labels)
	}
	if diff := cmp.Diff([]string{"/fake"}, cfg.Config.Entrypoint); diff != "" {
		t.Errorf("entrypoint defaults to the file's name (-want +got):\n%s", diff)
	}
}

func TestBadInput(t *testing.T) {
	path, _ := fakeBinary(t)
	if _, err := New(path, Options{Name: "bin/asyncjob"}); err == nil {
		t.Error("New with a name holding a slash: no error")
	}
	if _, err := New(filepath.Join(t.TempDir(), "missing"), Options{}); err == nil {
		t.Error("New with a missing binary: no error")
	}
	if _, err := New(t.TempDir(), Options{Name: "dir"}); err == nil {
		t.Error("New with a directory: no error")
	}
	img := mustNew(t, path, testOpts)
	if err := WriteArchive(filepath.Join(t.TempDir(), "a.tar"), "example.com/a@sha256:"+strings.Repeat("0", 64), img); err == nil {
		t.Error("WriteArchive with a digest ref: no error")
	}
}

func TestLayerHoldsOnlyTheBinary(t *testing.T) {
	path, content := fakeBinary(t)
	img := mustNew(t, path, testOpts)
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	if len(layers) != 1 {
		t.Fatalf("%d layers, want 1", len(layers))
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = rc.Close() }()
	tr := tar.NewReader(rc)
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		if h.Name != "asyncjob" {
			continue
		}
		if h.Typeflag != tar.TypeReg || h.Mode != 0o755 || h.Uid != 0 || h.Gid != 0 || !h.ModTime.Equal(Epoch) {
			t.Errorf("header: type %c mode %o uid %d gid %d mtime %v; want a regular file, 0755, 0:0, %v",
				h.Typeflag, h.Mode, h.Uid, h.Gid, h.ModTime, Epoch)
		}
		got, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(content) {
			t.Errorf("the layer's file differs from the binary (%d bytes, want %d)", len(got), len(content))
		}
	}
	if diff := cmp.Diff([]string{"asyncjob"}, names); diff != "" {
		t.Errorf("layer entries (-want +got):\n%s", diff)
	}
}

// TestReproducible builds a real (small) binary twice, into two places, and
// the image of each: the digests must be equal.
func TestReproducible(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Go binary")
	}
	ctx := context.Background()
	var digests []v1.Hash
	for i := range 2 {
		bin := filepath.Join(t.TempDir(), "pause")
		if err := BuildBinary(ctx, repoRoot(t), "./test/localcluster/images/pause", bin, ""); err != nil {
			t.Fatal(err)
		}
		img := mustNew(t, bin, testOpts)
		digests = append(digests, mustDigest(t, img))
		if i == 0 {
			digests = append(digests, mustDigest(t, mustNew(t, bin, testOpts)))
		}
	}
	if digests[0] != digests[1] || digests[0] != digests[2] {
		t.Errorf("digests differ: %v", digests)
	}
}

func TestBuildBinaryError(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go build")
	}
	err := BuildBinary(context.Background(), repoRoot(t), "./does/not/exist", filepath.Join(t.TempDir(), "x"), "")
	if err == nil || !strings.Contains(err.Error(), "./does/not/exist") {
		t.Errorf("err = %v, want a go build error naming the package", err)
	}
}

func TestWriteArchive(t *testing.T) {
	path, _ := fakeBinary(t)
	img := mustNew(t, path, testOpts)
	const ref = "ghcr.io/asyncjob/asyncjob:v0.1.0"
	archive := filepath.Join(t.TempDir(), "sub", "image.tar")
	if err := WriteArchive(archive, ref, img); err != nil {
		t.Fatal(err)
	}

	m, err := tarball.LoadManifest(func() (io.ReadCloser, error) { return os.Open(archive) })
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != 1 || len(m[0].RepoTags) != 1 || m[0].RepoTags[0] != ref {
		t.Fatalf("manifest.json = %+v, want one image tagged %s", m, ref)
	}

	tag, err := name.NewTag(ref)
	if err != nil {
		t.Fatal(err)
	}
	back, err := tarball.ImageFromPath(archive, &tag)
	if err != nil {
		t.Fatal(err)
	}
	// The archive keeps the config (the image ID) and the layers.
	for what, get := range map[string]func(v1.Image) (v1.Hash, error){
		"config": v1.Image.ConfigName,
		"layer": func(i v1.Image) (v1.Hash, error) {
			ls, err := i.Layers()
			if err != nil || len(ls) != 1 {
				return v1.Hash{}, err
			}
			return ls[0].Digest()
		},
	} {
		want, err := get(img)
		if err != nil {
			t.Fatal(err)
		}
		got, err := get(back)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%s digest read back = %v, want %v", what, got, want)
		}
	}
	cfg, err := back.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Config.User != "65532:65532" {
		t.Errorf("user read back = %q", cfg.Config.User)
	}
}

func TestPush(t *testing.T) {
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://") // 127.0.0.1:port: plain HTTP
	ref := host + "/asyncjob/asyncjob:test"

	path, _ := fakeBinary(t)
	img := mustNew(t, path, testOpts)
	ctx := context.Background()
	if err := Push(ctx, ref, img); err != nil {
		t.Fatal(err)
	}

	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	pulled, err := remote.Image(r, remote.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := mustDigest(t, pulled), mustDigest(t, img); got != want {
		t.Errorf("pulled digest %v, pushed %v", got, want)
	}
	if mt, err := pulled.MediaType(); err != nil || mt != types.OCIManifestSchema1 {
		t.Errorf("pulled media type %s (%v), want %s", mt, err, types.OCIManifestSchema1)
	}
}

// repoRoot is the module's root, two directories up from this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatal(err)
	}
	return root
}
