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
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/asyncjob/asyncjob/internal/httpapi"
)

// TestEventStreamFollowsAJobToItsEnd: on the real cluster (the real Job
// controller, scheduler and a simulated node's pod), one SSE stream sees the
// job from its current state to COMPLETED with its result, with increasing
// ids, and the server ends the stream after that terminal event.
func TestEventStreamFollowsAJobToItsEnd(t *testing.T) {
	id := api.submit(t, typeQuick, map[string]any{"input": "https://example.com/in.mov"})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.APIURL+"/v1/jobs/"+id+"/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.APIKeys[tenant])
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}

	// Read events as an EventSource would, until the server closes the stream.
	type event struct{ id, name, data string }
	var events []event
	var cur event
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if cur.data != "" {
				events = append(events, cur)
				t.Logf("event id=%s %s", cur.id, cur.name)
			}
			cur = event{}
		case strings.HasPrefix(line, "id: "):
			cur.id = strings.TrimPrefix(line, "id: ")
		case strings.HasPrefix(line, "event: "):
			cur.name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			cur.data = strings.TrimPrefix(line, "data: ")
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("the stream failed before its end: %v", err)
	}
	if len(events) == 0 {
		t.Fatal("no event")
	}
	var prevID uint64
	rank := map[httpapi.Status]int{httpapi.StatusPending: 0, httpapi.StatusRunning: 1, httpapi.StatusCompleted: 2}
	prevRank := 0
	var last httpapi.Job
	for _, ev := range events {
		n, err := strconv.ParseUint(ev.id, 10, 64)
		if err != nil || n <= prevID {
			t.Errorf("event id %q after %d: ids must be increasing resourceVersions", ev.id, prevID)
		}
		prevID = n
		if err := json.Unmarshal([]byte(ev.data), &last); err != nil {
			t.Fatalf("event data %s: %v", ev.data, err)
		}
		r, ok := rank[last.Status]
		if !ok || r < prevRank {
			t.Errorf("status %s after rank %d", last.Status, prevRank)
		}
		prevRank = r
	}
	final := events[len(events)-1]
	if final.name != string(httpapi.StatusCompleted) || last.Status != httpapi.StatusCompleted {
		t.Fatalf("the stream ended with %s (%s), want COMPLETED", final.name, last.Status)
	}
	var result map[string]any
	if err := json.Unmarshal(last.Result, &result); err != nil || result["frames"] != float64(2600) {
		t.Errorf("result %s: want the pod's termination message", last.Result)
	}
	// Reconnecting as an EventSource would after the end: 204, stop.
	req2, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.APIURL+"/v1/jobs/"+id+"/events", nil)
	req2.Header.Set("Authorization", "Bearer "+s.APIKeys[tenant])
	req2.Header.Set("Last-Event-ID", final.id)
	resp2, err := http.DefaultClient.Do(req2)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp2.Body.Close()
	if resp2.StatusCode != http.StatusNoContent {
		t.Errorf("reconnect after the terminal event: %d, want 204", resp2.StatusCode)
	}
}
