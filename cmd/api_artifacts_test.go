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
	"flag"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/asyncjob/asyncjob/internal/httpapi"
)

// TestAPIArtifactFlags: the artifact flags become the server's limits; sizes
// take quantities; a store that cannot be opened fails start-up without
// quoting the URL's query (credentials may be there).
func TestAPIArtifactFlags(t *testing.T) {
	parse := func(args ...string) (apiArtifactFlags, error) {
		fs := flag.NewFlagSet("api", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		var f apiFlags
		f.register(fs)
		err := fs.Parse(args)
		return f.artifacts, err
	}
	f, err := parse()
	if err != nil {
		t.Fatal(err)
	}
	want := httpapi.ArtifactLimits{MaxFileBytes: 1 << 30, MaxRequestBytes: 4 << 30, MaxOutputBytes: 4 << 30, URLExpiry: 5 * time.Minute}
	if diff := cmp.Diff(want, f.limits()); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
	if st, err := f.open(context.Background()); st != nil || err != nil {
		t.Errorf("no --artifact-store-url: store %v, error %v; want neither", st, err)
	}

	dir := t.TempDir()
	f, err = parse("--artifact-store-url=file://"+dir+"?no_tmp_dir=true", "--artifact-max-file-bytes=10Mi",
		"--artifact-max-request-bytes=1000", "--artifact-max-output-bytes=2Gi", "--artifact-redirect", "--artifact-url-expiry=90s")
	if err != nil {
		t.Fatal(err)
	}
	want = httpapi.ArtifactLimits{MaxFileBytes: 10 << 20, MaxRequestBytes: 1000, MaxOutputBytes: 2 << 30, Redirect: true, URLExpiry: 90 * time.Second}
	if diff := cmp.Diff(want, f.limits()); diff != "" {
		t.Errorf("limits (-want +got):\n%s", diff)
	}
	st, err := f.open(context.Background())
	if err != nil || st == nil {
		t.Fatalf("file store: %v", err)
	}
	if err := st.Ping(context.Background()); err != nil {
		t.Errorf("ping: %v", err)
	}
	_ = st.Close()

	if _, err := parse("--artifact-max-file-bytes=-1"); err == nil {
		t.Error("a negative size was accepted")
	}
	if _, err := parse("--artifact-max-file-bytes=lots"); err == nil {
		t.Error("a size that is not a quantity was accepted")
	}
	const secret = "s3cr3t"
	f, err = parse("--artifact-store-url=nosuch://bucket?secret_access_key=" + secret)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.open(context.Background())
	if err == nil {
		t.Fatal("an unknown scheme opened")
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("the error quotes the URL's query: %v", err)
	}
	t.Logf("error: %v", err)
}
