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

package artifact

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"

	"github.com/asyncjob/asyncjob/api/v1alpha1"
)

// Kind says whether a file is one a client uploaded or one a worker produced.
type Kind string

const (
	Input  Kind = "input"
	Output Kind = "output"
)

func (k Kind) dir() string { return string(k) + "s/" }

var (
	// ErrNotFound: no such file.
	ErrNotFound = errors.New("artifact not found")
	// ErrTooLarge: the content is longer than the limit; nothing was stored.
	ErrTooLarge = errors.New("artifact too large")
	// ErrInvalidName: the name is not a valid artifact name.
	ErrInvalidName = errors.New("invalid artifact name")
	// ErrExists: a file of that name is stored already and the write asked
	// not to replace one.
	ErrExists = errors.New("artifact exists")
	// ErrPresignUnsupported: the backend cannot sign URLs (a directory).
	ErrPresignUnsupported = errors.New("the artifact store cannot presign URLs")
)

// namePattern is v1alpha1.Artifact's name pattern, checked before anything
// reaches the store: a name never contains '/' or starts with '.', so it
// cannot leave its job's prefix.
var namePattern = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9._-]{0,254}$`)

// ValidName reports whether name may name an artifact.
func ValidName(name string) error {
	if !namePattern.MatchString(name) {
		return fmt.Errorf("%w %q: use 1-255 letters, digits, '.', '_' or '-', not starting with '.'", ErrInvalidName, name)
	}
	// The filesystem backend keeps each file's attributes in a sidecar
	// "NAME.attrs" and refuses keys that end so.
	if strings.HasSuffix(name, ".attrs") {
		return fmt.Errorf("%w %q: a name may not end in .attrs", ErrInvalidName, name)
	}
	return nil
}

// Prefix is the key prefix of all files of one job.
func Prefix(namespace, job string) string { return namespace + "/" + job + "/" }

// Key is the key of one file.
func Key(namespace, job string, kind Kind, name string) string {
	return Prefix(namespace, job) + kind.dir() + name
}

// Store is a bucket holding every job's files. What a file is (size, SHA-256,
// content type) is recorded on its AsyncJob (spec.inputs, status.outputs) by
// whoever wrote it, from what Put answered: the store holds content only, so
// a listing or an ETag never reads the store.
type Store struct {
	bucket *blob.Bucket
}

// Open opens the bucket a URL names, as gocloud.dev/blob's URL openers read
// it: file:///path (the directory must exist), s3://bucket?endpoint=...&
// use_path_style=true&region=..., gs://bucket, azblob://container. The caller
// imports the drivers it supports (cmd does, in artifact_drivers.go).
func Open(ctx context.Context, url string) (*Store, error) {
	b, err := blob.OpenBucket(ctx, url)
	if err != nil {
		return nil, err
	}
	return New(b), nil
}

// New wraps an open bucket; the Store closes it.
func New(b *blob.Bucket) *Store { return &Store{bucket: b} }

// Close releases the bucket.
func (s *Store) Close() error { return s.bucket.Close() }

// Ping reports whether the bucket answers.
func (s *Store) Ping(ctx context.Context) error {
	ok, err := s.bucket.IsAccessible(ctx)
	if err != nil {
		return err
	}
	if !ok {
		return errors.New("the artifact bucket does not exist or is not accessible")
	}
	return nil
}

// PutOptions are the optional parts of a write.
type PutOptions struct {
	// ContentType of the content; empty: application/octet-stream.
	ContentType string
	// MaxBytes bounds the content; 0: no bound. Longer content is not stored
	// and Put answers ErrTooLarge.
	MaxBytes int64
	// IfNotExist refuses to replace a stored file (ErrExists).
	IfNotExist bool
}

// Put streams r into the file kind/name of a job, hashing as it goes, and
// answers what was stored. It holds no more than the driver's buffer in
// memory. On any error (a read error, ctx ending when a client goes away
// mid-upload, ErrTooLarge) nothing is stored under that name: the write is
// aborted, not committed.
func (s *Store) Put(ctx context.Context, namespace, job string, kind Kind, name string, r io.Reader, opts PutOptions) (v1alpha1.Artifact, error) {
	if err := ValidName(name); err != nil {
		return v1alpha1.Artifact{}, err
	}
	contentType := opts.ContentType
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	// Cancelling the writer's context before Close aborts the write.
	wctx, abort := context.WithCancel(ctx)
	defer abort()
	var upload s3Upload
	w, err := s.bucket.NewWriter(wctx, Key(namespace, job, kind, name), &blob.WriterOptions{
		ContentType: contentType,
		IfNotExist:  opts.IfNotExist,
		BeforeWrite: upload.beforeWrite,
	})
	if err != nil {
		return v1alpha1.Artifact{}, classify(err)
	}
	h := sha256.New()
	src := r
	if opts.MaxBytes > 0 {
		// One byte more than allowed tells "exactly the limit" from "over".
		src = io.LimitReader(r, opts.MaxBytes+1)
	}
	n, err := io.Copy(io.MultiWriter(w, h), src)
	if err == nil && opts.MaxBytes > 0 && n > opts.MaxBytes {
		err = ErrTooLarge
	}
	if err != nil {
		abort()
		_ = w.Close()
		abortS3Uploads(ctx, s.bucket, &upload)
		return v1alpha1.Artifact{}, err
	}
	if err := w.Close(); err != nil {
		return v1alpha1.Artifact{}, classify(err)
	}
	return v1alpha1.Artifact{Name: name, Size: n, SHA256: hex.EncodeToString(h.Sum(nil)), ContentType: contentType}, nil
}

// Object is an open file: a reader that seeks (for Range requests) and what
// the store says of it.
type Object struct {
	*blob.Reader
}

// ModTime is when the file was written.
func (o *Object) ModTime() time.Time { return o.Reader.ModTime() }

// Get opens a file for reading; the caller closes it.
func (s *Store) Get(ctx context.Context, namespace, job string, kind Kind, name string) (*Object, error) {
	if err := ValidName(name); err != nil {
		return nil, err
	}
	r, err := s.bucket.NewReader(ctx, Key(namespace, job, kind, name), nil)
	if err != nil {
		return nil, classify(err)
	}
	return &Object{Reader: r}, nil
}

// SignedURL answers a URL that downloads the file without credentials until
// expiry, or ErrPresignUnsupported when the backend cannot sign (a directory).
func (s *Store) SignedURL(ctx context.Context, namespace, job string, kind Kind, name string, expiry time.Duration) (string, error) {
	if err := ValidName(name); err != nil {
		return "", err
	}
	u, err := s.bucket.SignedURL(ctx, Key(namespace, job, kind, name), &blob.SignedURLOptions{Expiry: expiry, Method: "GET"})
	if gcerrors.Code(err) == gcerrors.Unimplemented {
		return "", ErrPresignUnsupported
	}
	if err != nil {
		return "", classify(err)
	}
	return u, nil
}

// Delete removes one file; a file that is not there is not an error.
func (s *Store) Delete(ctx context.Context, namespace, job string, kind Kind, name string) error {
	if err := ValidName(name); err != nil {
		return err
	}
	err := s.bucket.Delete(ctx, Key(namespace, job, kind, name))
	if err != nil && gcerrors.Code(err) != gcerrors.NotFound {
		return classify(err)
	}
	return nil
}

// DeleteAll removes a job's files of one kind, or of both when kind is "",
// and answers how many it removed. It is idempotent: run again after a
// failure, it removes what is left.
func (s *Store) DeleteAll(ctx context.Context, namespace, job string, kind Kind) (int, error) {
	prefix := Prefix(namespace, job)
	if kind != "" {
		prefix += kind.dir()
	}
	it := s.bucket.List(&blob.ListOptions{Prefix: prefix})
	removed := 0
	for {
		obj, err := it.Next(ctx)
		if errors.Is(err, io.EOF) {
			return removed, nil
		}
		if err != nil {
			return removed, classify(err)
		}
		if obj.IsDir {
			continue
		}
		if err := s.bucket.Delete(ctx, obj.Key); err != nil && gcerrors.Code(err) != gcerrors.NotFound {
			return removed, classify(err)
		}
		removed++
	}
}

// List answers the keys under a job's prefix, for tests and for checking
// that nothing was left behind.
func (s *Store) List(ctx context.Context, namespace, job string) ([]string, error) {
	it := s.bucket.List(&blob.ListOptions{Prefix: Prefix(namespace, job)})
	var keys []string
	for {
		obj, err := it.Next(ctx)
		if errors.Is(err, io.EOF) {
			return keys, nil
		}
		if err != nil {
			return keys, classify(err)
		}
		if !obj.IsDir {
			keys = append(keys, obj.Key)
		}
	}
}

// classify maps the driver's error to this package's where one applies;
// anything else is the store being unavailable or refusing, which callers
// answer with 503 and retry.
func classify(err error) error {
	switch gcerrors.Code(err) {
	case gcerrors.NotFound:
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	case gcerrors.FailedPrecondition, gcerrors.AlreadyExists:
		return fmt.Errorf("%w: %w", ErrExists, err)
	}
	return err
}
