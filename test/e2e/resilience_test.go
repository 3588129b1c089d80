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
	"context"
	"sync"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/asyncjob/asyncjob/internal/httpapi"
)

// A controller that crashes while jobs run: every job still finishes, and none
// gets a second Job.
func TestControllerCrashWhileJobsRun(t *testing.T) {
	ids := submitMany(t, typeSteady, 10)
	for _, id := range ids[:1] {
		api.waitStatus(t, id, httpapi.StatusRunning, 2*time.Minute)
	}
	if err := s.StopController(true); err != nil { // SIGKILL: no clean shutdown
		t.Fatal(err)
	}
	// Jobs keep running without the controller; it catches up when it is back.
	time.Sleep(2 * time.Second)
	if err := s.StartController(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		api.waitStatus(t, id, httpapi.StatusCompleted, 3*time.Minute)
		if _, jobs, _, err := objectsOf(context.Background(), id); err != nil || jobs != 1 {
			t.Errorf("job %s: %d batch Jobs (err %v), want exactly 1", id, jobs, err)
		}
	}
}

// An API server that crashes loses no accepted job.
func TestAPICrashLosesNoAcceptedJob(t *testing.T) {
	ids := submitMany(t, typeSteady, 10)
	if err := s.StopAPI(true); err != nil {
		t.Fatal(err)
	}
	if err := s.StartAPI(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		api.waitStatus(t, id, httpapi.StatusCompleted, 3*time.Minute)
	}
}

func TestTwoHundredJobsAtOnceAllComplete(t *testing.T) {
	ids := submitMany(t, typeQuick, 200)
	for _, id := range ids {
		api.waitStatus(t, id, httpapi.StatusCompleted, 10*time.Minute)
	}
}

// submitMany submits n jobs concurrently (20 requests in flight at most).
func submitMany(t *testing.T, jobType string, n int) []string {
	t.Helper()
	ids := make([]string, n)
	var mu sync.Mutex
	g := errgroup.Group{}
	g.SetLimit(20)
	for i := range n {
		g.Go(func() error {
			id := api.submit(t, jobType, map[string]any{"n": i})
			mu.Lock()
			ids[i] = id
			mu.Unlock()
			return nil
		})
	}
	_ = g.Wait()
	if t.Failed() {
		t.FailNow()
	}
	return ids
}
