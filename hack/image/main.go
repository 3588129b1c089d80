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

// Command image builds asyncjob's container image without Docker (make image,
// make image-push): ./cmd built as a static binary, /asyncjob in an otherwise
// empty image, run as 65532:65532. One image serves every subcommand:
// asyncjob controller, asyncjob api and asyncjob entrypoint. It writes the image as an archive
// that docker load and ctr images import read (--output), pushes it to the
// registry of --ref (--push), or both, and prints the ref and the digest.
//
//	go run ./hack/image --ref ghcr.io/asyncjob/asyncjob:v0.1.0 --output bin/asyncjob-image.tar
//	go run ./hack/image --ref localhost:5000/asyncjob:dev --push
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/asyncjob/asyncjob/internal/ociimage"
)

// What the image holds and says about itself; the Dockerfile says the same.
const (
	binaryName = "asyncjob"
	mainPkg    = "./cmd"
	user       = "65532:65532"
	source     = "https://github.com/asyncjob/asyncjob"
	licenses   = "Apache-2.0"
)

func main() {
	ref := flag.String("ref", "", "the image's name, e.g. ghcr.io/asyncjob/asyncjob:v0.1.0 (required; a tag with --output)")
	output := flag.String("output", "", "write the image to this archive, for docker load or ctr -n k8s.io images import")
	push := flag.Bool("push", false, "push the image to the registry of --ref (credentials from ~/.docker/config.json)")
	version := flag.String("version", "", "the org.opencontainers.image.version label (default: the tag of --ref)")
	ldflags := flag.String("ldflags", "", "go build -ldflags for the binary")
	flag.Usage = func() {
		_, _ = fmt.Fprintf(flag.CommandLine.Output(), "usage: go run ./hack/image --ref REF [--output FILE] [--push] [--version V] [--ldflags FLAGS]\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if err := run(*ref, *output, *push, *version, *ldflags); err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(1)
	}
}

func run(ref, output string, push bool, version, ldflags string) error {
	if flag.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", flag.Args())
	}
	if ref == "" {
		return errors.New("--ref is required, e.g. --ref ghcr.io/asyncjob/asyncjob:v0.1.0")
	}
	if output == "" && !push {
		return errors.New("nothing to do: give --output FILE, --push, or both")
	}
	r, err := name.ParseReference(ref)
	if err != nil {
		return fmt.Errorf("--ref %q: %w", ref, err)
	}
	if version == "" {
		if tag, ok := r.(name.Tag); ok {
			version = tag.TagStr()
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	root, err := repoRoot()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "asyncjob-image-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(tmp) }()
	bin := filepath.Join(tmp, binaryName)
	if err := ociimage.BuildBinary(ctx, root, mainPkg, bin, ldflags); err != nil {
		return err
	}
	img, err := ociimage.New(bin, ociimage.Options{
		Name:     binaryName,
		User:     user,
		Source:   source,
		Version:  version,
		Title:    binaryName,
		Licenses: licenses,
	})
	if err != nil {
		return err
	}
	digest, err := img.Digest()
	if err != nil {
		return err
	}
	if output != "" {
		if err := ociimage.WriteArchive(output, ref, img); err != nil {
			return err
		}
		fi, err := os.Stat(output)
		if err != nil {
			return err
		}
		fmt.Printf("wrote %s (%.1f MB): import with  ctr -n k8s.io images import %s  or  docker load -i %s\n",
			output, float64(fi.Size())/1e6, output, output)
	}
	if push {
		if err := ociimage.Push(ctx, ref, img); err != nil {
			return err
		}
		fmt.Printf("pushed %s\n", r.Context().Digest(digest.String()))
	}
	fmt.Printf("%s %s\n", r, digest)
	return nil
}

// repoRoot is the directory holding go.mod, from the working directory up.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside the asyncjob module (no go.mod above the working directory): run from the repository")
		}
		dir = parent
	}
}
