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

package entrypoint

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"time"
)

// The job's files move through the API's worker routes, with the job's token,
// never with store credentials: GET {callback}/v1/jobs/{id}/inputs/{name} and
// PUT {callback}/v1/jobs/{id}/outputs/{name}. They share the callbacks'
// retry policy (callbackBackoff, Retry-After, which answers are permanent),
// except that an attempt has no time limit (a file may take long to move)
// and the retries of one file end TransferRetry after its first failure.

// fileError is a transfer failure that names no address, so the termination
// message may quote it whole.
type fileError struct {
	msg       string
	permanent bool
}

func (e *fileError) Error() string { return e.msg }

// etagDigest is a strong ETag holding a SHA-256, as the API sets it.
var etagDigest = regexp.MustCompile(`^"([0-9a-f]{64})"$`)

func (c *callbacks) fileURL(kind, name string) string {
	return c.jobURL + "/" + kind + "/" + url.PathEscape(name)
}

// retryFile calls attempt as retry does, until it succeeds, fails
// permanently, ctx ends, or budget has passed since its first failure. An
// attempt in flight is never cut off by the budget.
func (c *callbacks) retryFile(ctx context.Context, what string, budget time.Duration, attempt func(context.Context) error) error {
	stop := make(chan struct{})
	var timer *time.Timer // retry calls attempt on this goroutine
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	return c.retry(ctx, stop, what, 0, func(ctx context.Context) error {
		err := attempt(ctx)
		if err != nil && timer == nil {
			timer = time.AfterFunc(budget, func() { close(stop) })
		}
		return err
	})
}

// download makes one attempt at fetching the input name into dir/name: it
// streams it to a temporary file in dir, checks its SHA-256 against the
// answer's ETag, and renames it, so dir/name is either whole or absent.
func (c *callbacks) download(ctx context.Context, name, dir string) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.fileURL("inputs", name), nil)
	if err != nil {
		return 0, &permanentError{err}
	}
	c.authorize(req)
	resp, err := c.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return 0, statusOf(resp)
	}
	m := etagDigest.FindStringSubmatch(resp.Header.Get("ETag"))
	if m == nil {
		return 0, &fileError{msg: "the API's answer has no SHA-256 ETag to check it against", permanent: true}
	}
	tmp, err := os.CreateTemp(dir, ".download-*.part") // not the name: 255 bytes may be all it has
	if err != nil {
		return 0, &fileError{msg: fmt.Sprintf("cannot write to %s: %v", dir, unwrapPath(err)), permanent: true}
	}
	defer func() { _ = os.Remove(tmp.Name()) }() // nothing left once renamed
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(diskWriter{tmp}, h), resp.Body)
	if cerr := tmp.Close(); err == nil && cerr != nil {
		err = &fileError{msg: fmt.Sprintf("cannot write to %s: %v", dir, unwrapPath(cerr)), permanent: true}
	}
	if err != nil {
		return n, err // a read error is the network's: retried
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != m[1] {
		return n, &fileError{msg: fmt.Sprintf("its content (%d bytes) has SHA-256 %s, not the %s the API announced", n, got, m[1]), permanent: true}
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return n, &fileError{msg: fmt.Sprintf("cannot write to %s: %v", dir, unwrapPath(err)), permanent: true}
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, name)); err != nil {
		return n, &fileError{msg: fmt.Sprintf("cannot write to %s: %v", dir, unwrapPath(err)), permanent: true}
	}
	return n, nil
}

// diskWriter marks write errors as permanent: a full disk does not empty
// itself on a retry.
type diskWriter struct{ f *os.File }

func (w diskWriter) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	if err != nil {
		err = &fileError{msg: "cannot write it: " + unwrapPath(err).Error(), permanent: true}
	}
	return n, err
}

// upload makes one attempt at storing the file at path as the output name,
// streaming it with its length, and checks that the API stored the bytes
// sent (its answer's sha256).
func (c *callbacks) upload(ctx context.Context, path, name, contentType string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, &fileError{msg: "cannot read it: " + unwrapPath(err).Error(), permanent: true}
	}
	defer func() { _ = f.Close() }()
	fi, err := f.Stat()
	if err != nil {
		return 0, &fileError{msg: "cannot read it: " + unwrapPath(err).Error(), permanent: true}
	}
	h := sha256.New()
	body := io.TeeReader(f, h)
	if fi.Size() == 0 {
		body = http.NoBody // else a zero length means an unknown one, sent chunked
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, c.fileURL("outputs", name), body)
	if err != nil {
		return 0, &permanentError{err}
	}
	req.ContentLength = fi.Size()
	req.Header.Set("Content-Type", contentType)
	c.authorize(req)
	resp, err := c.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		return 0, statusOf(resp)
	}
	var stored struct {
		Size   int64  `json:"size"`
		SHA256 string `json:"sha256"`
	}
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	sent := hex.EncodeToString(h.Sum(nil))
	if json.Unmarshal(raw, &stored) == nil && stored.SHA256 != "" && stored.SHA256 != sent {
		// Changed on the way, or while it was read: sending it again may help.
		return 0, &fileError{msg: fmt.Sprintf("the API stored content with SHA-256 %s, not the %s sent", stored.SHA256, sent)}
	}
	return fi.Size(), nil
}

// unwrapPath drops the path an os error repeats, which the message already
// names.
func unwrapPath(err error) error {
	var pe *os.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		return pe.Err
	case errors.As(err, &le):
		return le.Err
	}
	return err
}

// transferWhy says why a transfer failed, for the termination message, which
// clients see: the API's status and problem detail, or a local reason, never
// the cluster's addresses.
func transferWhy(err error) string {
	var se *statusError
	var fe *fileError
	switch {
	case errors.As(err, &se):
		msg := fmt.Sprintf("the API answered %d %s", se.code, http.StatusText(se.code))
		if se.detail != "" {
			msg += " (" + se.detail + ")"
		}
		return msg
	case errors.As(err, &fe):
		return fe.msg
	case errors.Is(err, context.Canceled):
		return "it was cancelled"
	}
	return "the API could not be reached"
}
