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

package httpapi

import (
	"errors"
	"io"
	"net/http"
	"time"
)

// uploadReadIdle is how long an upload may go without a byte arriving. The
// server's read timeout (30 s for a whole request) would cut any large
// upload, so an upload replaces it with this deadline, pushed back as bytes
// arrive: a slow but moving client finishes, a stalled one is cut off.
const uploadReadIdle = 30 * time.Second

// uploadBody is a multipart request's body: at most limit bytes (the
// per-request limit), with the read deadline kept moving, and the first read
// error remembered so that a failed store write can be told apart from a
// client that went away or sent too much.
type uploadBody struct {
	r       io.ReadCloser
	rc      *http.ResponseController
	limit   int64
	err     error
	movedAt time.Time
}

func newUploadBody(w http.ResponseWriter, r *http.Request, limit int64) *uploadBody {
	b := &uploadBody{r: http.MaxBytesReader(w, r.Body, limit), rc: http.NewResponseController(w), limit: limit}
	b.moveDeadline(time.Now())
	return b
}

func (b *uploadBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) && b.err == nil {
		b.err = err
	}
	if now := time.Now(); n > 0 && now.Sub(b.movedAt) > time.Second {
		b.moveDeadline(now)
	}
	return n, err
}

func (b *uploadBody) Close() error { return b.r.Close() }

func (b *uploadBody) moveDeadline(now time.Time) {
	b.movedAt = now
	// Not every ResponseWriter supports deadlines (a test recorder does not);
	// then the server's own timeouts apply.
	_ = b.rc.SetReadDeadline(now.Add(uploadReadIdle))
}

// tooLarge reports whether the body went past the per-request limit.
func (b *uploadBody) tooLarge() bool {
	var mbe *http.MaxBytesError
	return errors.As(b.err, &mbe)
}

// failed reports whether reading the body failed (client gone, malformed, too large).
func (b *uploadBody) failed() bool { return b.err != nil }

// readError is the client-facing error for a body that could not be read.
func (b *uploadBody) readError() *apiError {
	if b.tooLarge() {
		return newError(problemPayloadTooLarge, "the request is larger than %d bytes, the limit per request", b.limit)
	}
	return newError(problemMalformedMultipart, "the multipart/form-data body could not be read to its end")
}
