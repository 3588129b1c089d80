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
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/go-logr/logr/funcr"
	"github.com/go-logr/logr/testr"
)

// TestServeFinishesInFlightRequests: shutting down first stops accepting
// connections, then lets a request that is still running complete, with its
// context intact.
func TestServeFinishesInFlightRequests(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	handlerCtxErr := make(chan error, 1)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		handlerCtxErr <- r.Context().Err()
		_, _ = io.WriteString(w, "done")
	})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- Serve(ctx, l, h, testr.New(t)) }()

	got := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + addr + "/")
		if err != nil {
			got <- "error: " + err.Error()
			return
		}
		defer func() { _ = resp.Body.Close() }()
		b, _ := io.ReadAll(resp.Body)
		got <- string(b)
	}()
	<-entered
	cancel() // shutdown begins while the request is in flight

	// The deadline only bounds a broken test.
	deadline := time.Now().Add(30 * time.Second)
	for {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			break // refused: no longer accepting
		}
		_ = conn.Close()
		if time.Now().After(deadline) {
			close(release)
			t.Fatal("the server still accepts connections after shutdown began")
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(release)
	if body := <-got; body != "done" {
		t.Errorf("in-flight request got %q", body)
	}
	if err := <-handlerCtxErr; err != nil {
		t.Errorf("the in-flight request's context ended during shutdown: %v", err)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve: %v", err)
	}
}

// TestPanicIsA500Problem: a panicking handler answers a generic 500 problem;
// the panic value never reaches the client.
func TestPanicIsA500Problem(t *testing.T) {
	s := newUnitServer(t)
	s.engine.GET("/test-panic", func(*gin.Context) { panic("db password is hunter2") })
	srv, _ := unitClient(t, s)
	resp, err := http.Get(srv.URL + "/test-panic")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 500 || resp.Header.Get("Content-Type") != problemMediaType || strings.Contains(string(b), "hunter2") {
		t.Errorf("%d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
}

// TestCacheStartFailureIsLogged: a cache whose Start fails (here: started a
// second time) is reported in the log, not dropped.
func TestCacheStartFailureIsLogged(t *testing.T) {
	if testEnv == nil {
		t.Skip("envtest is not available")
	}
	var mu sync.Mutex
	var lines []string
	log := funcr.New(func(prefix, args string) {
		mu.Lock()
		defer mu.Unlock()
		lines = append(lines, args)
	}, funcr.Options{})
	c, err := NewCache(testEnv.Config, testEnv.Scheme, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := StartCache(ctx, c, false, log); err != nil {
		t.Fatal(err)
	}
	if err := StartCache(ctx, c, false, log); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second) // bounds a broken test only
	for {
		mu.Lock()
		all := strings.Join(lines, "\n")
		mu.Unlock()
		if strings.Contains(all, `"msg"="informer cache failed to start"`) && strings.Contains(all, "already started") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the failed start was not logged; log:\n%s", all)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
