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
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "gocloud.dev/blob/fileblob"

	"github.com/asyncjob/asyncjob/internal/artifact"
	"github.com/asyncjob/asyncjob/test/framework"
)

// fileBackend opens the store as the commands do, from the URL the chart
// passes (file://DIR?no_tmp_dir=true), and reports every file in DIR that is
// not a stored file or its attributes (a partial write's temporary file).
func fileBackend() (backend, *string) {
	var dir string
	return backend{
		open: func(t *testing.T) *artifact.Store {
			t.Helper()
			u := framework.FileStore(t)
			parsed, err := url.Parse(u)
			if err != nil {
				t.Fatal(err)
			}
			dir = parsed.Path
			s, err := artifact.Open(context.Background(), u)
			if err != nil {
				t.Fatalf("Open(%s): %v", u, err)
			}
			t.Cleanup(func() { _ = s.Close() })
			return s
		},
		leftovers: func(t *testing.T) []string {
			t.Helper()
			var left []string
			err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				rel, _ := filepath.Rel(dir, path)
				stored := strings.Contains(rel, "/inputs/") || strings.Contains(rel, "/outputs/")
				if !stored || strings.HasSuffix(rel, ".tmp") {
					left = append(left, rel)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			return left
		},
	}, &dir
}

func TestFileStore(t *testing.T) {
	b, _ := fileBackend()
	runStoreSuite(t, b)
}

func TestFileStoreCannotPresign(t *testing.T) {
	b, _ := fileBackend()
	s := b.open(t)
	if _, err := s.SignedURL(context.Background(), "ns", "j", artifact.Output, "a", 0); !errors.Is(err, artifact.ErrPresignUnsupported) {
		t.Fatalf("SignedURL = %v, want ErrPresignUnsupported", err)
	}
}

// TestFileStoreWritesStayInItsDirectory: with no_tmp_dir a write in
// progress is a temporary file beside its final name, never in os.TempDir
// (another filesystem than a PVC, where the final rename would fail).
func TestFileStoreWritesStayInItsDirectory(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	b, dir := fileBackend()
	s := b.open(t)
	var inTmp, beside []string
	probe := &probeReader{data: []byte("content"), probe: func() {
		entries, _ := os.ReadDir(tmp)
		for _, e := range entries {
			inTmp = append(inTmp, e.Name())
		}
		beside, _ = filepath.Glob(filepath.Join(*dir, "ns", "j", "inputs", "a.*.tmp"))
	}}
	if _, err := s.Put(context.Background(), "ns", "j", artifact.Input, "a", probe, artifact.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if len(inTmp) != 0 || len(beside) != 1 {
		t.Fatalf("while writing: %q in TMPDIR, %q beside the file; want nothing in TMPDIR and one temporary file beside", inTmp, beside)
	}
	if got := readAll(t, s, "ns", "j", artifact.Input, "a"); string(got) != "content" {
		t.Fatalf("read %q", got)
	}
}

// probeReader calls probe once, when at bytes were read (0: on the first
// Read), while the write is open.
type probeReader struct {
	data  []byte
	at    int
	read  int
	probe func()
	done  bool
}

func (r *probeReader) Read(p []byte) (int, error) {
	if !r.done && r.read >= r.at {
		r.done = true
		r.probe()
	}
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	r.read += n
	return n, nil
}

// TestFileStoreOpenNeedsTheDirectory: a URL naming no directory fails at
// Open, so a misconfigured command fails at start, not at the first upload.
func TestFileStoreOpenNeedsTheDirectory(t *testing.T) {
	_, err := artifact.Open(context.Background(), "file://"+filepath.ToSlash(filepath.Join(t.TempDir(), "missing"))+"?no_tmp_dir=true")
	if err == nil {
		t.Fatal("Open of a missing directory succeeded")
	}
}
