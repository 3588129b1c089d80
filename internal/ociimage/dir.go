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
	"compress/gzip"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// DirOptions describe the image FromDir makes of a directory.
type DirOptions struct {
	// Entrypoint, Cmd, Env, User and WorkingDir are the config's ("" working
	// directory: /).
	Entrypoint, Cmd, Env []string
	User, WorkingDir     string
	// Labels are the config's labels (the OCI annotation keys, say).
	Labels map[string]string
	// CreatedBy is the layer's history line.
	CreatedBy string
	// LayerTar is where the uncompressed layer is written (a file FromDir's
	// image reads while it is used, so keep it until then); empty: a file in
	// os.TempDir the caller cannot remove.
	LayerTar string
}

// FromDir returns an OCI image of one gzipped layer holding the tree under
// dir: directories, regular files (with their permission bits) and symbolic
// links (as links), every entry owned by 0:0 and dated Epoch, in lexical
// order, so the same tree always gives the same digest. Other file types
// are an error. The layer is written uncompressed to opts.LayerTar first and
// compressed once, at gzip.BestSpeed: these images hold hundreds of
// megabytes of libraries, and the archive is only moved between local disks.
func FromDir(dir string, opts DirOptions) (v1.Image, error) {
	path := opts.LayerTar
	if path == "" {
		f, err := os.CreateTemp("", "ociimage-layer-*.tar")
		if err != nil {
			return nil, err
		}
		path = f.Name()
		_ = f.Close()
	}
	if err := writeDirTar(dir, path); err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromFile(path, tarball.WithMediaType(types.OCILayer),
		tarball.WithCompressionLevel(gzip.BestSpeed), tarball.WithCompressedCaching)
	if err != nil {
		return nil, fmt.Errorf("image layer: %w", err)
	}
	base := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err := mutate.Append(base, mutate.Addendum{
		Layer:   layer,
		History: v1.History{Created: v1.Time{Time: Epoch}, CreatedBy: opts.CreatedBy, Comment: "asyncjob ociimage"},
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
	cfg.Config.Entrypoint = opts.Entrypoint
	cfg.Config.Cmd = opts.Cmd
	cfg.Config.Env = opts.Env
	cfg.Config.User = opts.User
	cfg.Config.WorkingDir = opts.WorkingDir
	if cfg.Config.WorkingDir == "" {
		cfg.Config.WorkingDir = "/"
	}
	cfg.Config.Labels = opts.Labels
	return mutate.ConfigFile(img, cfg)
}

// writeDirTar writes the tree under dir to path as an uncompressed tar.
func writeDirTar(dir, path string) error {
	out, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("image layer: %w", err)
	}
	tw := tar.NewWriter(out)
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil || rel == "." {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		hdr := &tar.Header{Name: filepath.ToSlash(rel), Mode: int64(fi.Mode().Perm()), ModTime: Epoch}
		switch {
		case fi.Mode().IsDir():
			hdr.Typeflag, hdr.Name = tar.TypeDir, hdr.Name+"/"
		case fi.Mode()&fs.ModeSymlink != 0:
			if hdr.Linkname, err = os.Readlink(p); err != nil {
				return err
			}
			hdr.Typeflag, hdr.Mode = tar.TypeSymlink, 0o777
		case fi.Mode().IsRegular():
			hdr.Typeflag, hdr.Size = tar.TypeReg, fi.Size()
		default:
			return fmt.Errorf("%s: only directories, regular files and symbolic links go into an image", p)
		}
		// The sticky bit (a /tmp for every user), which Perm leaves out.
		if fi.Mode()&fs.ModeSticky != 0 {
			hdr.Mode |= 0o1000
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if hdr.Typeflag != tar.TypeReg {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer func() { _ = f.Close() }()
		_, err = io.Copy(tw, f)
		return err
	})
	if err == nil {
		err = tw.Close()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("image layer from %s: %w", dir, err)
	}
	return nil
}
