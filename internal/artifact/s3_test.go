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

package artifact_test

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	_ "gocloud.dev/blob/s3blob"

	"github.com/asyncjob/asyncjob/internal/artifact"
	"github.com/asyncjob/asyncjob/test/framework"
)

// s3Backend opens the store on a fresh versitygw as the commands do: the
// URL the chart passes, credentials from the environment. Leftovers are
// multipart uploads still open and files in the bucket's directory that the
// S3 API does not list.
func s3Backend() (backend, **framework.S3) {
	var srv *framework.S3
	return backend{
		open: func(t *testing.T) *artifact.Store {
			t.Helper()
			srv = framework.StartS3(t)
			srv.SetEnv(t)
			s, err := artifact.Open(context.Background(), srv.URL())
			if err != nil {
				t.Fatalf("Open(%s): %v", srv.URL(), err)
			}
			t.Cleanup(func() { _ = s.Close() })
			return s
		},
		leftovers: func(t *testing.T) []string {
			t.Helper()
			ctx := context.Background()
			out, err := srv.Client().ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(srv.Bucket())})
			if err != nil {
				t.Fatalf("ListMultipartUploads: %v", err)
			}
			var left []string
			for _, u := range out.Uploads {
				left = append(left, "multipart upload of "+aws.ToString(u.Key))
			}
			listed := map[string]bool{}
			objs, err := srv.Client().ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(srv.Bucket())})
			if err != nil {
				t.Fatalf("ListObjectsV2: %v", err)
			}
			for _, o := range objs.Contents {
				listed[aws.ToString(o.Key)] = true
			}
			// The posix backend keeps a file per object under the bucket's
			// directory, and uploads in progress under a hidden one.
			bucketDir := filepath.Join(srv.Dir(), srv.Bucket())
			err = filepath.WalkDir(bucketDir, func(path string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				rel, _ := filepath.Rel(bucketDir, path)
				if !listed[filepath.ToSlash(rel)] {
					left = append(left, "file "+rel)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			return left
		},
	}, &srv
}

func skipShort(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("skipped under -short: runs versitygw (make versitygw builds it)")
	}
}

func TestS3Store(t *testing.T) {
	skipShort(t)
	b, _ := s3Backend()
	runStoreSuite(t, b)
}

// TestS3SignedURL: a presigned URL downloads with a plain GET and no
// credentials; a tampered signature, and the URL once expired, get 403 from a
// server that checks signatures.
func TestS3SignedURL(t *testing.T) {
	skipShort(t)
	ctx := context.Background()
	b, _ := s3Backend()
	s := b.open(t)
	if _, err := s.Put(ctx, "ns", "j", artifact.Output, "out.webm", strings.NewReader("the output"), artifact.PutOptions{ContentType: "video/webm"}); err != nil {
		t.Fatal(err)
	}
	signed, err := s.SignedURL(ctx, "ns", "j", artifact.Output, "out.webm", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	status, body := httpGet(t, signed)
	if status != http.StatusOK || body != "the output" {
		t.Fatalf("GET of the presigned URL: %d %q, want 200 and the content", status, body)
	}

	u, err := url.Parse(signed)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	sig := q.Get("X-Amz-Signature")
	if sig == "" {
		t.Fatalf("no X-Amz-Signature in %s", u.Redacted())
	}
	// One hex digit changed.
	tampered := []byte(sig)
	if tampered[0] == '0' {
		tampered[0] = '1'
	} else {
		tampered[0] = '0'
	}
	q.Set("X-Amz-Signature", string(tampered))
	u.RawQuery = q.Encode()
	if status, _ := httpGet(t, u.String()); status != http.StatusForbidden {
		t.Fatalf("GET with a tampered signature: %d, want 403", status)
	}
	// Another key under the same signature: the signature covers the path.
	other := strings.Replace(signed, "/outputs/out.webm", "/inputs/out.webm", 1)
	if status, _ := httpGet(t, other); status != http.StatusForbidden {
		t.Fatalf("GET of another key with the signature: %d, want 403", status)
	}

	short, err := s.SignedURL(ctx, "ns", "j", artifact.Output, "out.webm", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	if status, _ := httpGet(t, short); status != http.StatusForbidden {
		t.Fatalf("GET of an expired presigned URL: %d, want 403", status)
	}
}

func httpGet(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestS3StoreDown: with the server stopped every operation fails soon with an
// error that is none of the package's own (not found, exists, too large),
// the class the API answers 503 and the controller retries: not a hang, and
// not a 404 that would drop a job's files from its record.
func TestS3StoreDown(t *testing.T) {
	skipShort(t)
	b, srv := s3Backend()
	s := b.open(t)
	if _, err := s.Put(context.Background(), "ns", "j", artifact.Input, "a", strings.NewReader("a"), artifact.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	(*srv).Stop()
	ops := map[string]func(ctx context.Context) error{
		"Ping": s.Ping,
		"Put": func(ctx context.Context) error {
			_, err := s.Put(ctx, "ns", "j", artifact.Input, "b", strings.NewReader("b"), artifact.PutOptions{})
			return err
		},
		"Get": func(ctx context.Context) error {
			_, err := s.Get(ctx, "ns", "j", artifact.Input, "a")
			return err
		},
		"Delete": func(ctx context.Context) error { return s.Delete(ctx, "ns", "j", artifact.Input, "a") },
		"DeleteAll": func(ctx context.Context) error {
			_, err := s.DeleteAll(ctx, "ns", "j", "")
			return err
		},
		"List": func(ctx context.Context) error {
			_, err := s.List(ctx, "ns", "j")
			return err
		},
	}
	for name, op := range ops {
		// The bound is the test's, far above the SDK's few quick retries of
		// a refused connection.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		start := time.Now()
		err := op(ctx)
		cancel()
		took := time.Since(start)
		switch {
		case err == nil:
			t.Errorf("%s on a stopped server succeeded", name)
		case errors.Is(err, context.DeadlineExceeded):
			t.Errorf("%s on a stopped server hung until the test's deadline", name)
		case errors.Is(err, artifact.ErrNotFound), errors.Is(err, artifact.ErrExists), errors.Is(err, artifact.ErrTooLarge), errors.Is(err, artifact.ErrInvalidName):
			t.Errorf("%s on a stopped server: %v, classified as the package's own error, want an unavailable store", name, err)
		case took > 10*time.Second:
			t.Errorf("%s on a stopped server took %s", name, took)
		}
	}
}

// TestS3AbortedMultipartLeavesNothing: a body larger than one part is a
// multipart upload on the server while it streams (the store never holds it
// in memory); when the write is aborted, over its limit or by its client
// going away, no upload stays open and no object appears. (The transfer
// manager's own abort uses the cancelled context and never reaches the
// server: Put aborts the upload itself, s3abort.go.)
func TestS3AbortedMultipartLeavesNothing(t *testing.T) {
	skipShort(t)
	for _, c := range []struct {
		name  string
		limit int64
		tail  io.Reader
	}{
		{"over the limit", 25 << 20, strings.NewReader(strings.Repeat("x", 10<<20))},
		{"client gone", 0, &brokenBody{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			b, srv := s3Backend()
			s := b.open(t)
			open := 0
			probe := &probeReader{data: make([]byte, 22<<20), at: 20 << 20, probe: func() {
				// The first parts are sent concurrently with reading: wait for one.
				deadline := time.Now().Add(10 * time.Second)
				for time.Now().Before(deadline) && open == 0 {
					out, err := (*srv).Client().ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String((*srv).Bucket())})
					if err == nil {
						open = len(out.Uploads)
					}
					time.Sleep(100 * time.Millisecond)
				}
			}}
			_, err := s.Put(context.Background(), "ns", "j", artifact.Input, "big", io.MultiReader(probe, c.tail), artifact.PutOptions{MaxBytes: c.limit})
			if err == nil || (c.limit > 0 && !errors.Is(err, artifact.ErrTooLarge)) {
				t.Fatalf("Put = %v, want it to fail (ErrTooLarge over a limit)", err)
			}
			if open != 1 {
				t.Errorf("%d multipart uploads open after 20 MiB were read, want 1", open)
			}
			if left := b.leftovers(t); len(left) != 0 {
				t.Fatalf("after the aborted upload: %q", left)
			}
		})
	}
}
