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
	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/asyncjob/asyncjob/internal/httpapi"
	"github.com/asyncjob/asyncjob/test/stack"
)

// A controller that crashes while jobs run: every job still finishes, on its
// first attempt, and none gets a second Job: the Jobs that existed before the
// kill are the same objects (UIDs) after it, and the watch on Jobs, running
// since before the first submission, saw exactly one Job created per job.
func TestControllerCrashWhileJobsRun(t *testing.T) {
	ids := submitMany(t, typeSteady, 10)
	api.waitStatus(t, ids[0], httpapi.StatusRunning, 2*time.Minute)
	before := existingJobUIDs(t, ids)
	if len(before) == 0 {
		t.Fatal("no job has a Job before the kill, though one is RUNNING")
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
		done := api.waitStatus(t, id, httpapi.StatusCompleted, 3*time.Minute)
		if done.Attempts != 1 {
			t.Errorf("job %s: attempts %d, want 1: the crash must not run it again", id, done.Attempts)
		}
	}
	after := existingJobUIDs(t, ids)
	for id, uid := range before {
		if after[id] != uid {
			t.Errorf("job %s: its Job was %s before the kill and is %q after", id, uid, after[id])
		}
	}
	created := jobWatch.requireOneJobEach(t, ids)
	for id, uid := range before {
		if created[id] != "" && created[id] != uid {
			t.Errorf("job %s: the watch saw Job %s created, but %s existed before the kill", id, created[id], uid)
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
	jobWatch.requireOneJobEach(t, ids)
}

func TestTwoHundredJobsAtOnceAllComplete(t *testing.T) {
	ids := submitMany(t, typeQuick, 200)
	for _, id := range ids {
		api.waitStatus(t, id, httpapi.StatusCompleted, 10*time.Minute)
	}
	jobWatch.requireOneJobEach(t, ids)
}

// existingJobUIDs reads, from the API server, the UID of each job's Job that
// exists now.
func existingJobUIDs(t *testing.T, ids []string) map[string]types.UID {
	t.Helper()
	uids := map[string]types.UID{}
	for _, id := range ids {
		job := &batchv1.Job{}
		err := s.Client.Get(context.Background(), types.NamespacedName{Namespace: stack.Namespace(tenant), Name: id}, job)
		switch {
		case err == nil:
			uids[id] = job.UID
		case !client404(err):
			t.Fatalf("job %s: reading its Job: %v", id, err)
		}
	}
	return uids
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
