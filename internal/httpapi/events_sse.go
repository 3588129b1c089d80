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
	"bytes"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
)

// Defaults of the SSE Config fields.
const (
	// DefaultEventsHeartbeat is the time between two comment heartbeats:
	// below the idle timeouts of common proxies (60 s for nginx).
	DefaultEventsHeartbeat = 15 * time.Second
	// DefaultEventsRetry is the reconnection delay streams announce (retry:).
	DefaultEventsRetry = 3 * time.Second
)

// eventStreamMediaType is the WHATWG server-sent events media type.
const eventStreamMediaType = "text/event-stream"

// headerLastEventID is the header an EventSource resumes with.
const headerLastEventID = "Last-Event-ID"

// sseWriter writes one text/event-stream response (WHATWG HTML 9.2), flushing
// after every event so nothing waits in a buffer.
type sseWriter struct {
	w   gin.ResponseWriter
	rc  *http.ResponseController
	buf bytes.Buffer
}

// startSSE sends the stream's headers and its retry: field. The response
// lives as long as the stream, so the server's write deadline, if it has one,
// is lifted for it; proxies are told not to buffer it, and nothing compresses
// it (a compressor would hold events back).
func startSSE(c *gin.Context, retry time.Duration) (*sseWriter, error) {
	rc := http.NewResponseController(c.Writer)
	if err := rc.SetWriteDeadline(time.Time{}); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return nil, err
	}
	h := c.Writer.Header()
	h.Set("Content-Type", eventStreamMediaType)
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	h.Del("Content-Length")
	c.Status(http.StatusOK)
	c.Writer.WriteHeaderNow()
	s := &sseWriter{w: c.Writer, rc: rc}
	s.buf.WriteString("retry: " + strconv.FormatInt(retry.Milliseconds(), 10) + "\n\n")
	return s, s.flush()
}

// event writes one event: its id, name and the job JSON as one data line
// (encoding/json never emits a raw line break).
func (s *sseWriter) event(ev *jobEvent) error {
	s.buf.WriteString("id: ")
	s.buf.WriteString(ev.id)
	s.buf.WriteString("\nevent: ")
	s.buf.WriteString(ev.name)
	s.buf.WriteString("\ndata: ")
	s.buf.Write(ev.data)
	s.buf.WriteString("\n\n")
	return s.flush()
}

// heartbeat writes a comment, which clients ignore and proxies see as traffic.
func (s *sseWriter) heartbeat() error {
	s.buf.WriteString(": heartbeat\n\n")
	return s.flush()
}

func (s *sseWriter) flush() error {
	_, err := s.w.Write(s.buf.Bytes())
	s.buf.Reset()
	if err != nil {
		return err
	}
	return s.rc.Flush()
}

// unblock breaks off a write stuck on a client that stopped reading.
func (s *sseWriter) unblock() { _ = s.rc.SetWriteDeadline(time.Now()) }
