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
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"

	"github.com/asyncjob/asyncjob/test/framework"
)

// Each test below makes one timeout short and the others an hour, so only the
// one under test can close the connection; the client's read deadline only
// bounds a broken test.
const (
	shortTimeout = 100 * time.Millisecond
	longTimeout  = time.Hour
	clientBound  = 20 * time.Second
)

// serveRaw serves h with timeouts on a real socket until the test ends and
// returns a raw connection to it.
func serveRaw(t *testing.T, h http.Handler, timeouts serverTimeouts) net.Conn {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- serve(ctx, l, h, testr.New(t), timeouts) }()
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	conn, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	if err := conn.SetReadDeadline(time.Now().Add(clientBound)); err != nil {
		t.Fatal(err)
	}
	return conn
}

// expectClosedByServer reads from conn until the server closes it; a read
// that times out means the server kept the connection open.
func expectClosedByServer(t *testing.T, r io.Reader, what string) {
	t.Helper()
	_, err := io.Copy(io.Discard, r)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the server kept the connection open: %s", what)
	}
}

// TestReadHeaderTimeout: a client that starts a request and never finishes its
// headers is disconnected, and no handler runs.
func TestReadHeaderTimeout(t *testing.T) {
	ran := make(chan struct{}, 1)
	h := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { ran <- struct{}{} })
	conn := serveRaw(t, h, serverTimeouts{readHeader: shortTimeout, read: longTimeout, idle: longTimeout})
	if _, err := io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\n"); err != nil { // no final CRLF
		t.Fatal(err)
	}
	expectClosedByServer(t, conn, "headers never finished")
	select {
	case <-ran:
		t.Error("a handler ran for a request whose headers never arrived")
	default:
	}
}

// TestReadTimeout: a client that sends its headers but trickles its body is
// cut off: the handler's read of the body fails at the read timeout.
func TestReadTimeout(t *testing.T) {
	readErr := make(chan error, 1)
	h := http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		_, err := io.ReadAll(r.Body)
		readErr <- err
	})
	conn := serveRaw(t, h, serverTimeouts{readHeader: longTimeout, read: shortTimeout, idle: longTimeout})
	if _, err := io.WriteString(conn, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n{"); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-readErr:
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("reading the body: %v, want the read deadline", err)
		}
	case <-time.After(clientBound):
		t.Fatal("the handler is still reading a body that never comes")
	}
}

// TestIdleTimeout: a keep-alive connection that carries no next request is
// closed by the server.
func TestIdleTimeout(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })
	conn := serveRaw(t, h, serverTimeouts{readHeader: longTimeout, read: longTimeout, idle: shortTimeout})
	if _, err := io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != "ok" || resp.Close {
		t.Fatalf("first request: %d %q (close %v), want a kept-alive 200", resp.StatusCode, body, resp.Close)
	}
	expectClosedByServer(t, br, "idle keep-alive connection")
}

// TestDocsStateServerTimeouts: docs/api.md gives the values Serve uses.
func TestDocsStateServerTimeouts(t *testing.T) {
	md, err := os.ReadFile(filepath.Join(framework.RepoRoot(), "docs", "api.md"))
	if err != nil {
		t.Fatal(err)
	}
	md = bytes.Join(bytes.Fields(md), []byte(" ")) // line breaks are not significant
	d := defaultServerTimeouts
	for _, want := range []string{
		fmt.Sprintf("read-header timeout (%d s)", int(d.readHeader.Seconds())),
		fmt.Sprintf("read timeout (%d s)", int(d.read.Seconds())),
		fmt.Sprintf("idle timeout (%d s)", int(d.idle.Seconds())),
		fmt.Sprintf("finishes in-flight requests (up to %d s)", int(shutdownTimeout.Seconds())),
		fmt.Sprintf("share a %d s deadline", int(DefaultKubeTimeout.Seconds())),
	} {
		if !bytes.Contains(md, []byte(want)) {
			t.Errorf("docs/api.md does not say %q", want)
		}
	}
}
