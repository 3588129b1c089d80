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

package localcluster

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/asyncjob/asyncjob/test/framework"
)

// Images the real node has without any registry. Their names are only names:
// pods use them with imagePullPolicy Never.
const (
	PauseImage  = "asyncjob.local/pause:v1"
	WorkerImage = "asyncjob.local/worker:v1"
)

// binaryImage builds the Go main package pkg (an import path) as a static
// binary and writes an image holding only that binary, as its entrypoint,
// to a tarball in dir that `ctr images import` reads. No Docker is needed.
func binaryImage(ctx context.Context, dir, pkg, ref string) (string, error) {
	binName := filepath.Base(pkg)
	binPath := filepath.Join(dir, "image-"+binName)
	build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", binPath, pkg)
	build.Dir = framework.RepoRoot()
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build %s: %w: %s", pkg, err, out)
	}
	binary, err := os.ReadFile(binPath)
	if err != nil {
		return "", err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(singleFileTar("/"+binName, binary))), nil
	})
	if err != nil {
		return "", err
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		return "", err
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return "", err
	}
	cfg = cfg.DeepCopy()
	// containerd imports only images for its own platform.
	cfg.OS, cfg.Architecture = "linux", runtime.GOARCH
	cfg.Config.Entrypoint = []string{"/" + binName}
	img, err = mutate.ConfigFile(img, cfg)
	if err != nil {
		return "", err
	}
	tag, err := name.NewTag(ref)
	if err != nil {
		return "", err
	}
	tarPath := filepath.Join(dir, "image-"+binName+".tar")
	return tarPath, tarball.WriteToFile(tarPath, tag, img)
}

// singleFileTar is a layer holding one executable file.
func singleFileTar(path string, content []byte) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	_ = tw.WriteHeader(&tar.Header{Name: path[1:], Mode: 0o755, Size: int64(len(content)), Typeflag: tar.TypeReg})
	_, _ = tw.Write(content)
	_ = tw.Close()
	return buf.Bytes()
}
