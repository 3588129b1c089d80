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
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"

	"gocloud.dev/blob/fileblob"

	"github.com/asyncjob/asyncjob/internal/artifact"
)

func newFileStore(t *testing.T) *artifact.Store {
	t.Helper()
	b, err := fileblob.OpenBucket(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	s := artifact.New(b)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestPutGetDeleteOnADirectory(t *testing.T) {
	ctx := context.Background()
	s := newFileStore(t)
	content := []byte("hello, artifact")
	got, err := s.Put(ctx, "tenant-a", "job1", artifact.Input, "clip.mov", bytes.NewReader(content), artifact.PutOptions{ContentType: "video/quicktime"})
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(content)
	if got.Size != int64(len(content)) || got.SHA256 != hex.EncodeToString(sum[:]) || got.ContentType != "video/quicktime" || got.Name != "clip.mov" {
		t.Fatalf("Put answered %+v", got)
	}
	obj, err := s.Get(ctx, "tenant-a", "job1", artifact.Input, "clip.mov")
	if err != nil {
		t.Fatal(err)
	}
	read, _ := io.ReadAll(obj)
	_ = obj.Close()
	if !bytes.Equal(read, content) {
		t.Fatalf("read %q", read)
	}
	if _, err := s.Get(ctx, "tenant-a", "job1", artifact.Output, "clip.mov"); !errors.Is(err, artifact.ErrNotFound) {
		t.Fatalf("an output of the input's name: %v, want ErrNotFound", err)
	}
	if _, err := s.Put(ctx, "tenant-a", "job1", artifact.Output, "out.webm", strings.NewReader("x"), artifact.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.DeleteAll(ctx, "tenant-a", "job1", artifact.Output); err != nil || n != 1 {
		t.Fatalf("DeleteAll outputs = %d, %v", n, err)
	}
	keys, _ := s.List(ctx, "tenant-a", "job1")
	if len(keys) != 1 || keys[0] != "tenant-a/job1/inputs/clip.mov" {
		t.Fatalf("after removing outputs: %q", keys)
	}
	if n, err := s.DeleteAll(ctx, "tenant-a", "job1", ""); err != nil || n != 1 {
		t.Fatalf("DeleteAll = %d, %v", n, err)
	}
	if n, err := s.DeleteAll(ctx, "tenant-a", "job1", ""); err != nil || n != 0 {
		t.Fatalf("DeleteAll again = %d, %v (idempotent)", n, err)
	}
}

func TestPutBeyondTheLimitStoresNothing(t *testing.T) {
	ctx := context.Background()
	s := newFileStore(t)
	if _, err := s.Put(ctx, "ns", "j", artifact.Input, "exact", strings.NewReader("12345"), artifact.PutOptions{MaxBytes: 5}); err != nil {
		t.Fatalf("exactly the limit: %v", err)
	}
	if _, err := s.Put(ctx, "ns", "j", artifact.Input, "big", strings.NewReader("123456"), artifact.PutOptions{MaxBytes: 5}); !errors.Is(err, artifact.ErrTooLarge) {
		t.Fatalf("one byte over: %v, want ErrTooLarge", err)
	}
	keys, _ := s.List(ctx, "ns", "j")
	if len(keys) != 1 {
		t.Fatalf("stored %q, want only the file within the limit", keys)
	}
}

type failingReader struct{ after int }

func (r *failingReader) Read(p []byte) (int, error) {
	if r.after <= 0 {
		return 0, errors.New("client went away")
	}
	n := min(len(p), r.after)
	r.after -= n
	return n, nil
}

func TestPutOfAnInterruptedUploadStoresNothing(t *testing.T) {
	s := newFileStore(t)
	if _, err := s.Put(context.Background(), "ns", "j", artifact.Input, "half", &failingReader{after: 1 << 20}, artifact.PutOptions{}); err == nil {
		t.Fatal("Put of a failing reader succeeded")
	}
	keys, _ := s.List(context.Background(), "ns", "j")
	if len(keys) != 0 {
		t.Fatalf("stored %q after an interrupted upload", keys)
	}
}

func TestPutIfNotExist(t *testing.T) {
	ctx := context.Background()
	s := newFileStore(t)
	opts := artifact.PutOptions{IfNotExist: true}
	if _, err := s.Put(ctx, "ns", "j", artifact.Input, "a", strings.NewReader("1"), opts); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, "ns", "j", artifact.Input, "a", strings.NewReader("2"), opts); !errors.Is(err, artifact.ErrExists) {
		t.Fatalf("second write: %v, want ErrExists", err)
	}
}

func TestNamesCannotLeaveTheJobsPrefix(t *testing.T) {
	for _, name := range []string{"", ".", "..", "../x", "a/b", ".hidden", strings.Repeat("a", 256), "a b", "a\x00"} {
		if err := artifact.ValidName(name); !errors.Is(err, artifact.ErrInvalidName) {
			t.Errorf("ValidName(%q) = %v, want ErrInvalidName", name, err)
		}
	}
	for _, name := range []string{"clip.mov", "output.webm", "a", "A_b-c.1", strings.Repeat("a", 255)} {
		if err := artifact.ValidName(name); err != nil {
			t.Errorf("ValidName(%q) = %v", name, err)
		}
	}
}

func TestSignedURLOnADirectoryIsUnsupported(t *testing.T) {
	s := newFileStore(t)
	if _, err := s.SignedURL(context.Background(), "ns", "j", artifact.Output, "a", 0); !errors.Is(err, artifact.ErrPresignUnsupported) {
		t.Fatalf("SignedURL = %v, want ErrPresignUnsupported", err)
	}
}
