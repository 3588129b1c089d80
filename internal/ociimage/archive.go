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
	"fmt"
	"os"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// WriteArchive writes img, named ref (a tag such as
// ghcr.io/asyncjob/asyncjob:v0.1.0), to the file path as a docker-save
// archive: manifest.json (with RepoTags), the config and the gzipped layers,
// written by go-containerregistry's tarball.Write. That is the format both
// `docker load` and `ctr -n k8s.io images import` (containerd 1.6 and later)
// read, and both name the image ref. It is not an OCI image layout: the
// archive keeps the config and the layers but not the OCI manifest, so the
// importer writes a manifest of its own. The image ID (the config digest) and
// the layer digests stay the same; img's manifest digest is what a registry
// holds after Push.
//
// The archive is written next to path and renamed into place, so path never
// holds half an archive.
func WriteArchive(path, ref string, img v1.Image) error {
	tag, err := name.NewTag(ref)
	if err != nil {
		return fmt.Errorf("image archive: ref %q must be a tag: %w", ref, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("image archive: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("image archive: %w", err)
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	if err := tarball.Write(tag, img, tmp); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("image archive %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("image archive %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("image archive: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("image archive: %w", err)
	}
	return nil
}
