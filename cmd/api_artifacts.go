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
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/asyncjob/asyncjob/internal/artifact"
	"github.com/asyncjob/asyncjob/internal/httpapi"
)

// apiArtifactFlags configure the api's artifact store and its limits.
type apiArtifactFlags struct {
	storeURL   string
	maxFile    byteSize
	maxRequest byteSize
	maxOutput  byteSize
	redirect   bool
	urlExpiry  time.Duration
}

func (f *apiArtifactFlags) register(fs *flag.FlagSet) {
	f.maxFile = byteSize(httpapi.DefaultArtifactMaxFileBytes)
	f.maxRequest = byteSize(httpapi.DefaultArtifactMaxRequestBytes)
	f.maxOutput = byteSize(httpapi.DefaultArtifactMaxOutputBytes)
	fs.StringVar(&f.storeURL, "artifact-store-url", "", "Artifact store (gocloud.dev/blob URL): file:///DIR?no_tmp_dir=true, or s3://BUCKET?endpoint=...&use_path_style=true&region=... with credentials from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY. Empty: no uploads, and types with artifacts are refused.")
	fs.Var(&f.maxFile, "artifact-max-file-bytes", "Largest uploaded file (bytes, or a quantity such as 1Gi).")
	fs.Var(&f.maxRequest, "artifact-max-request-bytes", "Largest multipart submission, all files together (bytes, or a quantity such as 4Gi).")
	fs.Var(&f.maxOutput, "artifact-max-output-bytes", "Largest output a worker may store (bytes, or a quantity such as 4Gi).")
	fs.BoolVar(&f.redirect, "artifact-redirect", false, "Answer artifact downloads with 303 to a presigned URL where the store can presign (S3).")
	fs.DurationVar(&f.urlExpiry, "artifact-url-expiry", httpapi.DefaultArtifactURLExpiry, "How long a presigned artifact URL stays valid.")
}

// limits are the flags' ArtifactLimits.
func (f *apiArtifactFlags) limits() httpapi.ArtifactLimits {
	return httpapi.ArtifactLimits{
		MaxFileBytes: int64(f.maxFile), MaxRequestBytes: int64(f.maxRequest), MaxOutputBytes: int64(f.maxOutput),
		Redirect: f.redirect, URLExpiry: f.urlExpiry,
	}
}

// open opens the store, or answers nil when none is configured. Its errors
// name the URL without its query or user info, which may hold credentials.
func (f *apiArtifactFlags) open(ctx context.Context) (*artifact.Store, error) {
	if f.storeURL == "" {
		return nil, nil
	}
	if f.maxFile <= 0 || f.maxRequest <= 0 || f.maxOutput <= 0 || f.urlExpiry <= 0 {
		return nil, errors.New("--artifact-max-*-bytes and --artifact-url-expiry must be positive")
	}
	st, err := artifact.Open(ctx, f.storeURL)
	if err != nil {
		return nil, fmt.Errorf("--artifact-store-url %s: %s", f.safeURL(), scrubStoreURL(err.Error(), f.storeURL))
	}
	return st, nil
}

// safeURL is the store URL as it may be logged: scheme, host and path.
func (f *apiArtifactFlags) safeURL() string { return redactStoreURL(f.storeURL) }

// byteSize is a flag of bytes that also takes Kubernetes quantities (1Gi).
type byteSize int64

func (b *byteSize) String() string {
	return resource.NewQuantity(int64(*b), resource.BinarySI).String()
}

func (b *byteSize) Set(s string) error {
	q, err := resource.ParseQuantity(s)
	if err != nil {
		return err
	}
	v, ok := q.AsInt64()
	if !ok || v <= 0 {
		return fmt.Errorf("%q is not a positive number of bytes", s)
	}
	*b = byteSize(v)
	return nil
}
