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
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"
)

// sseEvent is one dispatched event or one comment, parsed as WHATWG HTML
// 9.2.6 says a browser parses the stream.
type sseEvent struct {
	id, name, data string
	comment        string
	isComment      bool
	retry          string
}

// sseStream is a client of one event stream over a real HTTP connection.
type sseStream struct {
	t      *testing.T
	resp   *http.Response
	r      *bufio.Reader
	cancel context.CancelFunc
}

// openStream opens an event stream as tenant with a plain client (a stream
// never ends, so the conformance transport, which reads whole bodies, cannot
// see it). The response's status is the caller's to check.
func (h *harness) openStream(path, tenant string, headers ...string) *sseStream {
	h.t.Helper()
	return openStreamAt(h.t, h.srv.URL, path, h.keys[tenant], headers...)
}

func openStreamAt(t *testing.T, base, path, key string, headers ...string) *sseStream {
	t.Helper()
	// Bounds a broken test only; nothing asserts how fast anything is.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", eventStreamMediaType)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	s := &sseStream{t: t, resp: resp, r: bufio.NewReader(resp.Body), cancel: cancel}
	t.Cleanup(s.close)
	return s
}

// close disconnects.
func (s *sseStream) close() {
	s.cancel()
	_ = s.resp.Body.Close()
}

// next returns the next event or comment; io.EOF when the server ended the stream.
func (s *sseStream) next() (sseEvent, error) {
	var ev sseEvent
	var data []string
	hasData := false
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) || (errors.Is(err, io.EOF) && line == "") {
				return ev, io.EOF
			}
			return ev, err
		}
		line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
		if line == "" {
			if hasData {
				ev.data = strings.Join(data, "\n")
				return ev, nil
			}
			if ev.retry != "" {
				return ev, nil
			}
			ev = sseEvent{}
			continue
		}
		if strings.HasPrefix(line, ":") {
			return sseEvent{isComment: true, comment: strings.TrimPrefix(strings.TrimPrefix(line, ":"), " ")}, nil
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "id":
			ev.id = value
		case "event":
			ev.name = value
		case "data":
			data = append(data, value)
			hasData = true
		case "retry":
			ev.retry = value
		}
	}
}

// nextEvent skips comments and retry-only blocks and returns the next event.
func (s *sseStream) nextEvent() sseEvent {
	s.t.Helper()
	for {
		ev, err := s.next()
		if err != nil {
			s.t.Fatalf("reading the stream: %v", err)
		}
		if !ev.isComment && ev.data != "" {
			return ev
		}
	}
}

// expectEnd reads until the server ends the stream and fails on any event.
func (s *sseStream) expectEnd() {
	s.t.Helper()
	for {
		ev, err := s.next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			s.t.Fatalf("reading the stream: %v", err)
		}
		if !ev.isComment && ev.data != "" {
			s.t.Fatalf("event %s %s after the stream should have ended", ev.id, ev.name)
		}
	}
}

// job decodes an event's data.
func (ev sseEvent) job(t *testing.T) Job {
	t.Helper()
	return response{body: []byte(ev.data)}.job(t)
}

// waitHub waits until srv's hub has seen the job at resourceVersion rv.
func (h *harness) waitHub(srv *Server, ns, id, rv string) {
	h.t.Helper()
	h.eventually("the hub has "+id+"@"+rv, func() bool {
		ev, ok := srv.hub.current(types.NamespacedName{Namespace: ns, Name: id})
		want, _ := parseEventID(rv)
		return ok && ev.rv >= want
	})
}
