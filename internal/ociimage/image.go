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
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// The OCI annotation keys New sets as labels.
const (
	LabelSource   = "org.opencontainers.image.source"
	LabelVersion  = "org.opencontainers.image.version"
	LabelTitle    = "org.opencontainers.image.title"
	LabelLicenses = "org.opencontainers.image.licenses"
)

// Epoch is the fixed time of the image: its creation time and the binary's
// modification time. The same binary always gives the same image digest.
var Epoch = time.Unix(0, 0).UTC()

// Options describe the image around the binary. The zero value is an image
// running the binary as root, with no labels.
type Options struct {
	// Name is the binary's file name in the image, at /<Name>, and the
	// entrypoint. Empty: the base name of the binary's path.
	Name string
	// User is the config's user, e.g. "65532:65532". Empty: root.
	User string
	// Source, Version, Title and Licenses become the OCI labels
	// org.opencontainers.image.*; empty ones are left out.
	Source, Version, Title, Licenses string
}

// New returns an OCI image (OCI manifest and config media types) of one
// gzipped layer holding only the binary at /<name>, mode 0755, owned by
// 0:0, with a fixed modification time; its config has the entrypoint
// ["/<name>"], the working directory /, the user and the labels of opts,
// and the platform linux/runtime.GOARCH (containerd imports only images for
// its own platform). The image is built in memory and is reproducible: the
// same binary and options give the same digest.
func New(binaryPath string, opts Options) (v1.Image, error) {
	name := opts.Name
	if name == "" {
		name = filepath.Base(binaryPath)
	}
	if name == "." || name == ".." || name == "/" || strings.Contains(name, "/") {
		return nil, fmt.Errorf("image: binary name %q is not a plain file name", name)
	}
	layerTar, err := singleFileTar(name, binaryPath)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	}, tarball.WithMediaType(types.OCILayer), tarball.WithCompressionLevel(gzip.DefaultCompression), tarball.WithCompressedCaching)
	if err != nil {
		return nil, fmt.Errorf("image layer: %w", err)
	}

	base := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err := mutate.Append(base, mutate.Addendum{
		Layer: layer,
		History: v1.History{
			Created:   v1.Time{Time: Epoch},
			CreatedBy: "COPY " + name + " /" + name,
			Comment:   "asyncjob ociimage",
		},
	})
	if err != nil {
		return nil, err
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cfg = cfg.DeepCopy()
	cfg.Created = v1.Time{Time: Epoch}
	cfg.OS, cfg.Architecture = "linux", runtime.GOARCH
	cfg.Config.Entrypoint = []string{"/" + name}
	cfg.Config.Cmd = nil
	cfg.Config.User = opts.User
	cfg.Config.WorkingDir = "/"
	cfg.Config.Labels = labels(opts)
	return mutate.ConfigFile(img, cfg)
}

func labels(opts Options) map[string]string {
	l := map[string]string{}
	for k, v := range map[string]string{
		LabelSource:   opts.Source,
		LabelVersion:  opts.Version,
		LabelTitle:    opts.Title,
		LabelLicenses: opts.Licenses,
	} {
		if v != "" {
			l[k] = v
		}
	}
	if len(l) == 0 {
		return nil
	}
	return l
}

// singleFileTar is an uncompressed layer holding the file at path as name,
// executable, owned by root, with the fixed modification time Epoch.
func singleFileTar(name, path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("image: %w", err)
	}
	defer func() { _ = f.Close() }()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("image: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("image: %s is not a regular file", path)
	}
	var buf bytes.Buffer
	buf.Grow(int(fi.Size()) + 2048)
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{
		Typeflag: tar.TypeReg,
		Name:     name,
		Mode:     0o755,
		Size:     fi.Size(),
		ModTime:  Epoch,
		Format:   tar.FormatUSTAR,
	}); err != nil {
		return nil, fmt.Errorf("image layer: %w", err)
	}
	if _, err := io.Copy(tw, f); err != nil {
		return nil, fmt.Errorf("image layer: read %s: %w", path, err)
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("image layer: %w", err)
	}
	return buf.Bytes(), nil
}
