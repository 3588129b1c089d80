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
	"bufio"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"
)

// smallBuffers makes the kernel buffer little of what a connection sends or
// receives, so a client that stops reading blocks the server's writes at
// once instead of after megabytes.
func smallBuffers(_, _ string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		if serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096); serr == nil {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_SNDBUF, 4096)
		}
	})
	if err != nil {
		return err
	}
	return serr
}

// smallBufferListener gives every accepted connection small kernel buffers.
type smallBufferListener struct{ net.Listener }

func (l smallBufferListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(4096)
	}
	return c, err
}

// TestEventsSlowConsumerDropped: a client that never reads fills its bounded
// buffer and is dropped (its stream closed, to resume with Last-Event-ID),
// while another client of the same job gets every event without delay.
func TestEventsSlowConsumerDropped(t *testing.T) {
	h := newHarness(t, func(cfg *Config) { cfg.EventBuffer = 2 })
	srv := httptest.NewUnstartedServer(h.server.Handler())
	srv.Listener = smallBufferListener{srv.Listener}
	srv.Start()
	t.Cleanup(srv.Close)
	t.Cleanup(h.server.CloseStreams)

	// Large events (the parameters are in every one) fill the small buffers.
	big := "https://example.com/" + strings.Repeat("a", 200<<10)
	j := h.request(http.MethodPost, "/v1/jobs", h.tenantA, map[string]any{"type": h.typ,
		"parameters": map[string]any{"input": big, "format": "webm"}}).expect(t, http.StatusAccepted).job(t)
	path := "/v1/jobs/" + j.ID + "/events"
	h.waitHub(h.server, h.tenantA, j.ID, h.kubeJob(h.tenantA, j.ID).ResourceVersion)

	// The slow client sends its request and then never reads.
	d := net.Dialer{Control: smallBuffers}
	conn, err := d.Dial("tcp", srv.Listener.Addr().String())
	h.must(err)
	t.Cleanup(func() { _ = conn.Close() })
	_, err = conn.Write([]byte("GET " + path + " HTTP/1.1\r\nHost: api\r\nAuthorization: Bearer " + h.keys[h.tenantA] + "\r\n\r\n"))
	h.must(err)
	h.eventually("the slow client is subscribed", func() bool { return h.server.hub.subscribers() == 1 })

	fast := openStreamAt(t, srv.URL, path, h.keys[h.tenantA])
	expectEvent(t, fast, string(StatusPending), "")
	h.eventually("the fast client is subscribed", func() bool { return h.server.hub.subscribers() == 2 })

	const updates = 8
	for p := int32(1); p <= updates; p++ {
		rv := h.writeStatus(h.tenantA, j.ID, progressed(p))
		expectEvent(t, fast, eventProgress, rv) // never held up by the slow one
	}
	h.eventually("the slow client is dropped", func() bool { return h.server.hub.subscribers() == 1 })

	// Reading now, the slow client finds its stream ended before the last
	// events: it would resume with its Last-Event-ID.
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	h.must(err)
	slow := &sseStream{t: t, resp: resp, r: bufio.NewReader(resp.Body), cancel: func() {}}
	h.must(conn.SetReadDeadline(time.Now().Add(30 * time.Second)))
	got := 0
	for {
		ev, err := slow.next()
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatal("the server never closed the slow client's stream")
		}
		if err != nil {
			break // the server closed it
		}
		if !ev.isComment && ev.data != "" {
			got++
		}
	}
	if got >= updates+1 {
		t.Errorf("the slow client got all %d events; it should have been dropped", got)
	}
}
