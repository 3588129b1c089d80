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

// Package ociimage builds a container image holding one static Go binary,
// without Docker: the equivalent of a Dockerfile that copies the binary
// into FROM scratch. asyncjob's own image (make image, hack/image) and the
// local cluster's test images (test/localcluster) are built with it.
package ociimage

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
)

// BuildBinary builds the Go main package pkg (an import path, or a path
// relative to repoRoot such as ./cmd) into outPath as a static Linux binary
// for this machine's architecture: go build -trimpath with CGO_ENABLED=0.
// ldflags, when not empty, is passed as -ldflags.
func BuildBinary(ctx context.Context, repoRoot, pkg, outPath, ldflags string) error {
	args := []string{"build", "-trimpath", "-o", outPath}
	if ldflags != "" {
		args = append(args, "-ldflags", ldflags)
	}
	args = append(args, pkg)
	build := exec.CommandContext(ctx, "go", args...)
	build.Dir = repoRoot
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w: %s", pkg, err, strings.TrimSpace(string(out)))
	}
	return nil
}
