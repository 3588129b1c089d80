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
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/asyncjob/asyncjob/internal/artifact"
)

// backend is one real store the same behaviour is checked on (a directory,
// versitygw): how to open a fresh one, and what is left in it past the
// Store's own view (partial files, open multipart uploads), so "nothing is
// stored" is checked where the bytes would be.
type backend struct {
	open      func(t *testing.T) *artifact.Store
	leftovers func(t *testing.T) []string
}

// runStoreSuite checks the Store's contract on a backend, as the API and
// the controller use it.
func runStoreSuite(t *testing.T, b backend) {
	t.Run("PutGetListDelete", func(t *testing.T) { testPutGetListDelete(t, b) })
	t.Run("DeleteAllByKind", func(t *testing.T) { testDeleteAllByKind(t, b) })
	t.Run("LimitStoresNothing", func(t *testing.T) { testLimitStoresNothing(t, b) })
	t.Run("InterruptedUploadStoresNothing", func(t *testing.T) { testInterruptedUpload(t, b) })
	t.Run("IfNotExist", func(t *testing.T) { testIfNotExist(t, b) })
	t.Run("Ping", func(t *testing.T) {
		if err := b.open(t).Ping(context.Background()); err != nil {
			t.Fatalf("Ping of a working store: %v", err)
		}
	})
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func readAll(t *testing.T, s *artifact.Store, ns, job string, kind artifact.Kind, name string) []byte {
	t.Helper()
	obj, err := s.Get(context.Background(), ns, job, kind, name)
	if err != nil {
		t.Fatalf("Get %s/%s %s %s: %v", ns, job, kind, name, err)
	}
	defer func() { _ = obj.Close() }()
	got, err := io.ReadAll(obj)
	if err != nil {
		t.Fatalf("reading %s: %v", name, err)
	}
	return got
}

func list(t *testing.T, s *artifact.Store, ns, job string) []string {
	t.Helper()
	keys, err := s.List(context.Background(), ns, job)
	if err != nil {
		t.Fatalf("List %s/%s: %v", ns, job, err)
	}
	slices.Sort(keys)
	return keys
}

func testPutGetListDelete(t *testing.T, b backend) {
	ctx := context.Background()
	s := b.open(t)
	// More than one S3 part (8 MiB), so the upload is a multipart one there.
	content := randomBytes(t, 9<<20+123)
	got, err := s.Put(ctx, "tenant-a", "job1", artifact.Input, "clip.mov", bytes.NewReader(content), artifact.PutOptions{ContentType: "video/quicktime"})
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "clip.mov" || got.Size != int64(len(content)) || got.SHA256 != sum(content) || got.ContentType != "video/quicktime" {
		t.Fatalf("Put answered %+v, want size %d sha256 %s", got, len(content), sum(content))
	}
	if read := readAll(t, s, "tenant-a", "job1", artifact.Input, "clip.mov"); !bytes.Equal(read, content) {
		t.Fatalf("Get read %d bytes (sha256 %s), want what was put", len(read), sum(read))
	}
	obj, err := s.Get(ctx, "tenant-a", "job1", artifact.Input, "clip.mov")
	if err != nil {
		t.Fatal(err)
	}
	if obj.Size() != int64(len(content)) || obj.ContentType() != "video/quicktime" || time.Since(obj.ModTime()) > time.Hour {
		t.Errorf("Get: size %d, content type %q, modified %s", obj.Size(), obj.ContentType(), obj.ModTime())
	}
	// Range requests seek: the download route relies on it.
	if _, err := obj.Seek(5<<20, io.SeekStart); err != nil {
		t.Fatalf("Seek: %v", err)
	}
	tail, err := io.ReadAll(obj)
	_ = obj.Close()
	if err != nil || !bytes.Equal(tail, content[5<<20:]) {
		t.Fatalf("after Seek read %d bytes, %v; want the last %d", len(tail), err, len(content)-5<<20)
	}

	// The same name as an output, another job, another tenant: other keys.
	for _, c := range []struct {
		ns, job string
		kind    artifact.Kind
	}{{"tenant-a", "job1", artifact.Output}, {"tenant-a", "job2", artifact.Input}, {"tenant-b", "job1", artifact.Input}} {
		if _, err := s.Get(ctx, c.ns, c.job, c.kind, "clip.mov"); !errors.Is(err, artifact.ErrNotFound) {
			t.Errorf("Get %s/%s %s clip.mov: %v, want ErrNotFound", c.ns, c.job, c.kind, err)
		}
	}
	if _, err := s.Put(ctx, "tenant-a", "job1", artifact.Output, "out.webm", strings.NewReader("webm"), artifact.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, "tenant-a", "job10", artifact.Output, "other", strings.NewReader("x"), artifact.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	// job1's prefix is "tenant-a/job1/": job10's files are not job1's.
	want := []string{"tenant-a/job1/inputs/clip.mov", "tenant-a/job1/outputs/out.webm"}
	if keys := list(t, s, "tenant-a", "job1"); !slices.Equal(keys, want) {
		t.Fatalf("List = %q, want %q", keys, want)
	}
	if got := readAll(t, s, "tenant-a", "job1", artifact.Output, "out.webm"); string(got) != "webm" {
		t.Fatalf("the output reads %q", got)
	}
	obj, err = s.Get(ctx, "tenant-a", "job1", artifact.Output, "out.webm")
	if err != nil {
		t.Fatal(err)
	}
	if obj.ContentType() != "application/octet-stream" {
		t.Errorf("content type without one given: %q, want application/octet-stream", obj.ContentType())
	}
	_ = obj.Close()

	if err := s.Delete(ctx, "tenant-a", "job1", artifact.Output, "out.webm"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "tenant-a", "job1", artifact.Output, "out.webm"); err != nil {
		t.Fatalf("deleting a file that is gone: %v, want nil", err)
	}
	if _, err := s.Get(ctx, "tenant-a", "job1", artifact.Output, "out.webm"); !errors.Is(err, artifact.ErrNotFound) {
		t.Fatalf("Get after Delete: %v, want ErrNotFound", err)
	}
	for _, bad := range []string{"../job2/inputs/x", "a/b", ".attrs", "x.attrs"} {
		if _, err := s.Put(ctx, "tenant-a", "job1", artifact.Input, bad, strings.NewReader("x"), artifact.PutOptions{}); !errors.Is(err, artifact.ErrInvalidName) {
			t.Errorf("Put %q: %v, want ErrInvalidName", bad, err)
		}
	}
	if keys := list(t, s, "tenant-a", "job1"); !slices.Equal(keys, want[:1]) {
		t.Fatalf("List = %q, want %q", keys, want[:1])
	}
}

func testDeleteAllByKind(t *testing.T, b backend) {
	ctx := context.Background()
	s := b.open(t)
	for _, f := range []struct {
		job  string
		kind artifact.Kind
		name string
	}{{"j", artifact.Input, "a"}, {"j", artifact.Input, "b"}, {"j", artifact.Output, "a"}, {"j", artifact.Output, "c"}, {"j2", artifact.Output, "c"}} {
		if _, err := s.Put(ctx, "ns", f.job, f.kind, f.name, strings.NewReader(f.name), artifact.PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// Cancel removes outputs only.
	if n, err := s.DeleteAll(ctx, "ns", "j", artifact.Output); err != nil || n != 2 {
		t.Fatalf("DeleteAll outputs = %d, %v; want 2", n, err)
	}
	if keys := list(t, s, "ns", "j"); !slices.Equal(keys, []string{"ns/j/inputs/a", "ns/j/inputs/b"}) {
		t.Fatalf("after removing outputs: %q", keys)
	}
	// The finalizer removes everything, and may run again after a failure.
	if n, err := s.DeleteAll(ctx, "ns", "j", ""); err != nil || n != 2 {
		t.Fatalf("DeleteAll = %d, %v; want 2", n, err)
	}
	if n, err := s.DeleteAll(ctx, "ns", "j", ""); err != nil || n != 0 {
		t.Fatalf("DeleteAll again = %d, %v; want 0", n, err)
	}
	if keys := list(t, s, "ns", "j"); len(keys) != 0 {
		t.Fatalf("after DeleteAll: %q", keys)
	}
	if keys := list(t, s, "ns", "j2"); !slices.Equal(keys, []string{"ns/j2/outputs/c"}) {
		t.Fatalf("another job's files: %q, want them untouched", keys)
	}
}

func testLimitStoresNothing(t *testing.T, b backend) {
	ctx := context.Background()
	s := b.open(t)
	if _, err := s.Put(ctx, "ns", "j", artifact.Input, "exact", strings.NewReader("12345"), artifact.PutOptions{MaxBytes: 5}); err != nil {
		t.Fatalf("exactly the limit: %v", err)
	}
	if _, err := s.Put(ctx, "ns", "j", artifact.Input, "small", strings.NewReader("123456"), artifact.PutOptions{MaxBytes: 5}); !errors.Is(err, artifact.ErrTooLarge) {
		t.Fatalf("one byte over: %v, want ErrTooLarge", err)
	}
	// Over the limit after more than one S3 part was sent: the multipart
	// upload must be aborted, not completed.
	big := randomBytes(t, 17<<20)
	if _, err := s.Put(ctx, "ns", "j", artifact.Input, "big", bytes.NewReader(big), artifact.PutOptions{MaxBytes: 10 << 20}); !errors.Is(err, artifact.ErrTooLarge) {
		t.Fatalf("17 MiB with a 10 MiB limit: %v, want ErrTooLarge", err)
	}
	// Over the limit replacing a stored file: the old content stays whole.
	if _, err := s.Put(ctx, "ns", "j", artifact.Input, "exact", strings.NewReader("1234567"), artifact.PutOptions{MaxBytes: 5}); !errors.Is(err, artifact.ErrTooLarge) {
		t.Fatalf("replacing, over the limit: %v, want ErrTooLarge", err)
	}
	if got := readAll(t, s, "ns", "j", artifact.Input, "exact"); string(got) != "12345" {
		t.Fatalf("the file a too-large write would have replaced reads %q", got)
	}
	if keys := list(t, s, "ns", "j"); !slices.Equal(keys, []string{"ns/j/inputs/exact"}) {
		t.Fatalf("stored %q, want only the file within the limit", keys)
	}
	if left := b.leftovers(t); len(left) != 0 {
		t.Fatalf("the backend holds partial writes: %q", left)
	}
}

// brokenBody yields n random bytes, then the error a request body gives
// when its client goes away.
type brokenBody struct{ n int }

func (r *brokenBody) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, errors.New("client went away")
	}
	n := min(len(p), r.n)
	_, _ = rand.Read(p[:n])
	r.n -= n
	return n, nil
}

func testInterruptedUpload(t *testing.T, b backend) {
	ctx := context.Background()
	s := b.open(t)
	for _, n := range []int{1 << 10, 12 << 20} {
		if _, err := s.Put(ctx, "ns", "j", artifact.Input, "half", &brokenBody{n: n}, artifact.PutOptions{}); err == nil {
			t.Fatalf("Put of a reader failing after %d bytes succeeded", n)
		}
	}
	// A client gone mid-upload ends the request's context.
	cctx, cancel := context.WithCancel(ctx)
	r, w := io.Pipe()
	sent := randomBytes(t, 9<<20)
	go func() {
		_, _ = w.Write(sent)
		cancel()
		_ = w.CloseWithError(context.Canceled)
	}()
	if _, err := s.Put(cctx, "ns", "j", artifact.Input, "cancelled", r, artifact.PutOptions{}); err == nil {
		t.Fatal("Put whose context ended mid-upload succeeded")
	}
	if keys := list(t, s, "ns", "j"); len(keys) != 0 {
		t.Fatalf("stored %q after interrupted uploads", keys)
	}
	if left := b.leftovers(t); len(left) != 0 {
		t.Fatalf("the backend holds partial writes: %q", left)
	}
}

func testIfNotExist(t *testing.T, b backend) {
	ctx := context.Background()
	s := b.open(t)
	opts := artifact.PutOptions{IfNotExist: true}
	if _, err := s.Put(ctx, "ns", "j", artifact.Input, "a", strings.NewReader("first"), opts); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, "ns", "j", artifact.Input, "a", strings.NewReader("second"), opts); !errors.Is(err, artifact.ErrExists) {
		t.Fatalf("second write with IfNotExist: %v, want ErrExists", err)
	}
	if got := readAll(t, s, "ns", "j", artifact.Input, "a"); string(got) != "first" {
		t.Fatalf("after a refused write the file reads %q, want the first content", got)
	}
	// Without IfNotExist a write replaces (an output uploaded again).
	if _, err := s.Put(ctx, "ns", "j", artifact.Input, "a", strings.NewReader("third"), artifact.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, s, "ns", "j", artifact.Input, "a"); string(got) != "third" {
		t.Fatalf("after replacing, the file reads %q", got)
	}
}
