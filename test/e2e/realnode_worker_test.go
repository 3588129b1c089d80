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

package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/internal/httpapi"
	"github.com/asyncjob/asyncjob/test/localcluster"
	"github.com/asyncjob/asyncjob/test/wrappers"
)

// typeLive runs the sample worker (config/samples' convert-live worker) on
// the real node through the injected entrypoint, with a grace period far
// longer than any test waits: a job that ends promptly after a cancel did so
// because its worker got the SIGTERM.
const (
	typeLive         = "e2e-live"
	liveGracePeriod  = 600 * time.Second
	resultPadding    = 200 << 10
	workerStartedLog = "sample-worker: converting"
	workerSIGTERMLog = "sample-worker: received SIGTERM"
)

var liveTypeOnce sync.Once

// liveType creates typeLive once, for every test that needs it.
func liveType(t *testing.T) {
	t.Helper()
	var err error
	liveTypeOnce.Do(func() {
		w := wrappers.MakeAsyncJobType(typeLive).
			Description("the sample worker on the real node, through the entrypoint").
			Image(localcluster.SampleWorkerImage).Command("/sample-worker").
			Entrypoint(asyncjobv1alpha1.EntrypointInject).PollInterval(1)
		w.PodSpec().Containers[0].ImagePullPolicy = corev1.PullNever
		w.PodSpec().TerminationGracePeriodSeconds = ptr.To(int64(liveGracePeriod / time.Second))
		if err = s.Client.Create(context.Background(), w.Obj()); err == nil {
			err = waitSubmittable(context.Background(), typeLive)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A real container's worker, knowing nothing of asyncjob but its line
// format, prints progress and a 200 KiB result through the injected
// entrypoint: a client sees the progress rise to 100 in several steps, reads
// the logs as they are written, and gets the result byte for byte.
func TestRealNodeWorkerProgressLogsAndLargeResult(t *testing.T) {
	localcluster.SkipWithoutRealNode(t, "a worker on the real node")
	liveType(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	id := api.submit(t, typeLive, map[string]any{"input": "https://example.com/in.mov", "format": "webm", "seconds": 10, "padding": resultPadding})

	w := watchUntilCompleted(ctx, t, id, followLogs(ctx, t, id))

	t.Logf("progress seen: %v; %d log lines", w.percents, len(w.lines))
	// Consecutive repeats are not recorded, so sorted means increasing.
	if p := w.percents; !slices.IsSorted(p) || len(p) < 3 || p[len(p)-1] != 100 {
		t.Errorf("progress seen %v: want at least three increasing values ending at 100", p)
	}
	if p := w.done.Progress; p == nil || p.Step != "converting" || p.Message != "step 10 of 10" {
		t.Errorf("final progress %+v, want step converting, message step 10 of 10", p)
	}
	if w.linesWhileRunning != 1 {
		t.Errorf("the logs' first progress line arrived while the job was RUNNING %d times, want 1 (lines: %d)", w.linesWhileRunning, len(w.lines))
	}

	resp, result, err := api.Do(ctx, http.MethodGet, "/v1/jobs/"+id+"/result", nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET result: %v %v", err, resp)
	}
	// The worker printed its result as its last stdout line (the
	// entrypoint's own log lines, on stderr, may follow it): the entrypoint
	// PUT it, too large for a termination message, and the API returns
	// those bytes.
	// The worker prints its keys sorted, as the API returns them, so the
	// bytes are the same too.
	printed := ""
	for _, line := range w.lines {
		if strings.HasPrefix(line, `{"format":`) {
			printed = line
		}
	}
	if printed != string(result) {
		t.Errorf("GET result (%d bytes) differs from the result the worker printed (%d bytes, in %d log lines): %s",
			len(result), len(printed), len(w.lines), firstDifference(printed, string(result)))
	}
	var r struct{ Output, Padding string }
	if err := json.Unmarshal(result, &r); err != nil || r.Output != id+".webm" || len(r.Padding) != resultPadding {
		t.Errorf("result: output %q, %d bytes of padding (err %v), want %s.webm and %d", r.Output, len(r.Padding), err, id, resultPadding)
	}
}

// observed is what a client saw of a job: the distinct progress percents in
// the order they appeared, its log lines, how often the first progress line
// arrived while the job was RUNNING, and its COMPLETED state.
type observed struct {
	percents          []int32
	lines             []string
	linesWhileRunning int
	done              httpapi.Job
}

// watchUntilCompleted polls the job and reads its logs until it is
// COMPLETED and its logs have ended.
func watchUntilCompleted(ctx context.Context, t *testing.T, id string, logs <-chan string) observed {
	t.Helper()
	var o observed
	poll := time.NewTicker(200 * time.Millisecond)
	defer poll.Stop()
	for o.done.Status != httpapi.StatusCompleted {
		select {
		case line, ok := <-logs:
			if !ok {
				logs = nil // the stream ended with the container; keep polling
				continue
			}
			o.lines = append(o.lines, line)
			// Streaming: the job is still running when its lines arrive.
			if strings.HasPrefix(line, "::progress 10 ") {
				if j, _, err := api.get(ctx, id); err == nil && j.Status == httpapi.StatusRunning {
					o.linesWhileRunning++
				}
			}
		case <-poll.C:
			j, _, err := api.get(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if j.Status == httpapi.StatusFailed || j.Status == httpapi.StatusCancelled {
				t.Fatalf("job %s ended %s: %+v\n%s", id, j.Status, j.Problem, describe(id))
			}
			if p := j.Progress; p != nil && (len(o.percents) == 0 || o.percents[len(o.percents)-1] != p.Percent) {
				o.percents = append(o.percents, p.Percent)
			}
			o.done = j
		case <-ctx.Done():
			t.Fatalf("job %s: not COMPLETED in time: last status %s, progress seen %v\n%s", id, o.done.Status, o.percents, describe(id))
		}
	}
	if logs != nil { // the rest of the stream, up to the result line
		for line := range logs {
			o.lines = append(o.lines, line)
		}
	}
	return o
}

// Cancelling a running job stops its real container through the entrypoint:
// the kubelet's SIGTERM reaches the worker (it says so in its logs), which
// exits, so the job ends CANCELLED long before the pod's grace period would
// have ended it.
func TestRealNodeCancelSendsSIGTERMThroughTheEntrypoint(t *testing.T) {
	localcluster.SkipWithoutRealNode(t, "a worker on the real node")
	liveType(t)
	// Bounds a hang, well under the grace period; it measures nothing.
	ctx, cancel := context.WithTimeout(context.Background(), liveGracePeriod/3)
	defer cancel()
	id := api.submit(t, typeLive, map[string]any{"input": "https://example.com/in.mov", "format": "webm", "seconds": 3600})

	logs := followLogs(ctx, t, id)
	waitLine(ctx, t, logs, workerStartedLog) // it traps SIGTERM from here on
	resp, raw, err := api.Do(ctx, http.MethodPost, "/v1/jobs/"+id+"/cancel", nil)
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("cancel: %v %v %s, want 202", err, resp, raw)
	}
	waitLine(ctx, t, logs, workerSIGTERMLog)
	if j, _, err := api.get(ctx, id); err != nil || j.Status == httpapi.StatusCancelled || !j.CancelRequested {
		t.Errorf("when the worker got SIGTERM: status %s, cancelRequested %v (err %v), want a job still stopping", j.Status, j.CancelRequested, err)
	}
	for range logs { // the stream ends with the container
	}
	api.waitStatus(t, id, httpapi.StatusCancelled, time.Until(deadline(ctx)))
}

// firstDifference shows where a and b first differ.
func firstDifference(a, b string) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	clip := func(s string) string { return s[i:min(len(s), i+60)] }
	return fmt.Sprintf("at byte %d: %q vs %q", i, clip(a), clip(b))
}

func deadline(ctx context.Context) time.Time {
	d, _ := ctx.Deadline()
	return d
}

// waitLine reads logs until a line starting with prefix.
func waitLine(ctx context.Context, t *testing.T, logs <-chan string, prefix string) {
	t.Helper()
	for {
		select {
		case line, ok := <-logs:
			if !ok {
				t.Fatalf("the logs ended without a line starting %q", prefix)
			}
			if strings.HasPrefix(line, prefix) {
				return
			}
		case <-ctx.Done():
			t.Fatalf("no log line starting %q: %v", prefix, ctx.Err())
		}
	}
}

// followLogs streams a job's logs through the REST API (follow=true), line by
// line, until its container ends: the channel is then closed. While the job
// has no pod it retries as told (Retry-After).
func followLogs(ctx context.Context, t *testing.T, id string) <-chan string {
	t.Helper()
	lines := make(chan string, 64)
	errs := make(chan error, 1)
	go func() {
		defer close(lines)
		errs <- streamLogs(ctx, id, lines)
	}()
	t.Cleanup(func() {
		if err := <-errs; err != nil && ctx.Err() == nil {
			t.Errorf("following the logs of %s: %v", id, err)
		}
	})
	return lines
}

func streamLogs(ctx context.Context, id string, lines chan<- string) error {
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, api.Base+"/v1/jobs/"+id+"/logs?follow=true", nil)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+api.Key)
		resp, err := http.DefaultClient.Do(req) // no timeout: it streams
		if err != nil {
			return err
		}
		if resp.StatusCode == http.StatusOK {
			defer func() { _ = resp.Body.Close() }()
			sc := bufio.NewScanner(resp.Body)
			sc.Buffer(make([]byte, 0, 64<<10), 2<<20) // the result line is 200 KiB
			for sc.Scan() {
				select {
				case lines <- sc.Text():
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			return sc.Err()
		}
		_ = resp.Body.Close()
		if resp.Header.Get("Retry-After") == "" {
			return fmt.Errorf("GET logs: %s", resp.Status)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond): // faster than Retry-After, to keep the suite short
		}
	}
}
