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
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/go-logr/logr"
	"github.com/google/uuid"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/test/framework"
	"github.com/asyncjob/asyncjob/test/wrappers"
)

// benchServer is one API replica over a fake cache holding one RUNNING job of
// tenant "dev" (auth mode none); its hub is fed by the benchmark, as the
// informer would feed it, so only the API's own cost is measured.
type benchServer struct {
	s   *Server
	srv *httptest.Server
	c   client.Client
	aj  *v1alpha1.AsyncJob
}

func newBenchServer(b *testing.B) *benchServer {
	id := uuid.NewString()
	aj := wrappers.MakeAsyncJob(id, "dev").Tenant("dev").Type("convert").Params(`{"format":"webm"}`).
		State(v1alpha1.StateRunning).Obj()
	c := fake.NewClientBuilder().WithScheme(framework.Scheme()).WithObjects(aj).Build()
	s := newUnitServer(b, func(cfg *Config) { cfg.Cache, cfg.APIReader = c, c; cfg.Log = logr.Discard() })
	bs := &benchServer{s: s, srv: httptest.NewServer(s.Handler()), c: c, aj: aj}
	bs.publish(b, 1)
	b.Cleanup(func() { s.CloseStreams(); bs.srv.Close() })
	return bs
}

// publish writes one progress change of the job to the fake cluster and
// feeds it to the hub, as the informer would.
func (bs *benchServer) publish(b *testing.B, percent int32) {
	bs.aj.Status.Progress = &v1alpha1.Progress{Percent: percent % 100, Step: strconv.Itoa(int(percent))}
	if err := bs.c.Update(context.Background(), bs.aj); err != nil {
		b.Fatal(err)
	}
	ev, err := render(bs.aj)
	if err != nil {
		b.Fatal(err)
	}
	bs.s.hub.observe(ev, false, false)
}

// conn is one client connection with no goroutine of its own.
type benchConn struct {
	c net.Conn
	r *bufio.Reader
}

func (bs *benchServer) dial(b *testing.B, request string) benchConn {
	c, err := net.Dial("tcp", bs.srv.Listener.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.WriteString(c, request); err != nil {
		b.Fatal(err)
	}
	return benchConn{c: c, r: bufio.NewReaderSize(c, 4096)}
}

// readEvent reads up to the end of the next event (a blank line after data:).
func (bc benchConn) readEvent(b *testing.B) {
	sawData := false
	for {
		line, err := bc.r.ReadString('\n')
		if err != nil {
			b.Fatal(err)
		}
		if strings.HasPrefix(line, "data: ") {
			sawData = true
		}
		if (line == "\n" || line == "\r\n") && sawData {
			return
		}
	}
}

// heapAndStacks is the memory the process holds: live heap and goroutine stacks.
func heapAndStacks() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse + m.StackInuse
}

// BenchmarkEventStreams holds 1000 and 5000 concurrent SSE streams of one
// job on one replica and reports what each costs in memory (bytes/stream:
// heap and stacks of the whole process, the client's side included: one
// net.Conn and a 4 KiB reader per stream, no goroutine) and goroutines; an
// op is one change fanned out to every stream and read by every client.
func BenchmarkEventStreams(b *testing.B) {
	for _, n := range []int{1000, 5000} {
		b.Run(fmt.Sprintf("streams=%d", n), func(b *testing.B) {
			bs := newBenchServer(b)
			request := "GET /v1/jobs/" + bs.aj.Name + "/events HTTP/1.1\r\nHost: api\r\nAuthorization: Bearer dev\r\n\r\n"
			before, goroutines := heapAndStacks(), runtime.NumGoroutine()
			conns := make([]benchConn, n)
			for i := range conns {
				conns[i] = bs.dial(b, request)
				resp, err := http.ReadResponse(conns[i].r, nil)
				if err != nil || resp.StatusCode != http.StatusOK {
					b.Fatalf("stream %d: %v %v", i, err, resp)
				}
				conns[i].readEvent(b) // the current state
			}
			b.Cleanup(func() {
				for _, c := range conns {
					_ = c.c.Close()
				}
			})
			perStream := float64(int64(heapAndStacks())-int64(before)) / float64(n)
			goroutinesPer := float64(runtime.NumGoroutine()-goroutines) / float64(n)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				bs.publish(b, int32(i))
				for _, c := range conns {
					c.readEvent(b)
				}
			}
			b.StopTimer()
			// After the loop: ResetTimer deletes reported metrics.
			b.ReportMetric(perStream, "bytes/stream")
			b.ReportMetric(goroutinesPer, "goroutines/stream")
			if got := bs.s.hub.subscribers(); got != n {
				b.Fatalf("%d streams left of %d: some were dropped", got, n)
			}
		})
	}
}

// BenchmarkHeldLongPolls holds 1000 and 5000 concurrent GET /v1/jobs/{id}
// long-polls (If-None-Match + Prefer: wait=60) on one replica and reports
// their memory as BenchmarkEventStreams does; an op is one change releasing
// every held request (200) and the clients sending them again.
func BenchmarkHeldLongPolls(b *testing.B) {
	for _, n := range []int{1000, 5000} {
		b.Run(fmt.Sprintf("requests=%d", n), func(b *testing.B) {
			bs := newBenchServer(b)
			request := func() string {
				ev, _ := render(bs.aj)
				return "GET /v1/jobs/" + bs.aj.Name + " HTTP/1.1\r\nHost: api\r\nAuthorization: Bearer dev\r\n" +
					"If-None-Match: " + ev.etag + "\r\nPrefer: wait=60\r\n\r\n"
			}
			hold := func(conns []benchConn) {
				req := request()
				for _, c := range conns {
					if _, err := io.WriteString(c.c, req); err != nil {
						b.Fatal(err)
					}
				}
				for bs.s.hub.subscribers() < len(conns) {
					runtime.Gosched()
				}
			}
			before, goroutines := heapAndStacks(), runtime.NumGoroutine()
			conns := make([]benchConn, n)
			req := request()
			for i := range conns {
				conns[i] = bs.dial(b, req)
			}
			for bs.s.hub.subscribers() < n {
				runtime.Gosched()
			}
			b.Cleanup(func() {
				for _, c := range conns {
					_ = c.c.Close()
				}
			})
			perRequest := float64(int64(heapAndStacks())-int64(before)) / float64(n)
			goroutinesPer := float64(runtime.NumGoroutine()-goroutines) / float64(n)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				bs.publish(b, int32(i+2))
				for _, c := range conns {
					resp, err := http.ReadResponse(c.r, nil)
					if err != nil || resp.StatusCode != http.StatusOK {
						b.Fatalf("held request: %v %v", err, resp)
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					_ = resp.Body.Close()
				}
				hold(conns)
			}
			b.StopTimer()
			b.ReportMetric(perRequest, "bytes/request")
			b.ReportMetric(goroutinesPer, "goroutines/request")
		})
	}
}
