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
	"context"
	"path/filepath"

	"github.com/asyncjob/asyncjob/internal/ociimage"
	"github.com/asyncjob/asyncjob/test/framework"
)

// Images the real node has without any registry. Their names are only names:
// pods use them with imagePullPolicy Never.
const (
	PauseImage  = "asyncjob.local/pause:v1"
	WorkerImage = "asyncjob.local/worker:v1"
	// SampleWorkerImage runs images/sample-worker, the worker of
	// config/samples' convert-live type.
	SampleWorkerImage = "asyncjob.local/sample-worker:v1"
)

// binaryImage builds the Go main package pkg (an import path) as a static
// binary and writes an image holding only that binary, as its entrypoint,
// to a tarball in dir that `ctr images import` reads. No Docker is needed.
// Unlike asyncjob's own image, these run as root (no user): the tests
// depend on it.
func binaryImage(ctx context.Context, dir, pkg, ref string) (string, error) {
	binName := filepath.Base(pkg)
	binPath := filepath.Join(dir, "image-"+binName)
	if err := ociimage.BuildBinary(ctx, framework.RepoRoot(), pkg, binPath, ""); err != nil {
		return "", err
	}
	img, err := ociimage.New(binPath, ociimage.Options{Name: binName})
	if err != nil {
		return "", err
	}
	tarPath := filepath.Join(dir, "image-"+binName+".tar")
	return tarPath, ociimage.WriteArchive(tarPath, ref, img)
}
