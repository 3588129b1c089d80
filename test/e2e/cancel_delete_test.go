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
	"net/http"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/internal/httpapi"
)

func TestCancelRunningJobRemovesItsPodsAndJob(t *testing.T) {
	id := api.submit(t, typeSlow, map[string]any{})
	api.waitStatus(t, id, httpapi.StatusRunning, 2*time.Minute)
	if _, jobs, pods, err := objectsOf(context.Background(), id); err != nil || jobs != 1 || pods != 1 {
		t.Fatalf("before cancelling: jobs %d pods %d err %v, want 1 and 1", jobs, pods, err)
	}

	resp, raw, err := api.Do(context.Background(), http.MethodPost, "/v1/jobs/"+id+"/cancel", nil)
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("cancel: %v %d %s, want 202 while it stops", err, resp.StatusCode, raw)
	}
	cancelled := api.waitStatus(t, id, httpapi.StatusCancelled, 2*time.Minute)
	if cancelled.CompletedAt == nil {
		t.Errorf("a cancelled job has no completedAt")
	}
	// CANCELLED is only reported once the garbage collector removed the Job,
	// which it does after the pods (foreground deletion).
	if asyncJobs, jobs, pods, err := objectsOf(context.Background(), id); err != nil || asyncJobs != 1 || jobs != 0 || pods != 0 {
		t.Errorf("after CANCELLED: asyncjobs %d jobs %d pods %d err %v, want the record kept and nothing else", asyncJobs, jobs, pods, err)
	}
	resp, _, _ = api.Do(context.Background(), http.MethodPost, "/v1/jobs/"+id+"/cancel", nil)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("cancelling again: %d, want 200 once CANCELLED", resp.StatusCode)
	}
}

func TestDeleteRunningJobRemovesEverything(t *testing.T) {
	id := api.submit(t, typeSlow, map[string]any{})
	api.waitStatus(t, id, httpapi.StatusRunning, 2*time.Minute)
	deletion := watchDeletion(t, id)
	resp, raw, err := api.Do(context.Background(), http.MethodDelete, "/v1/jobs/"+id, nil)
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("DELETE: %v %d %s, want 202", err, resp.StatusCode, raw)
	}
	api.waitFor(t, id, 2*time.Minute, "404 after DELETE", func(_ httpapi.Job, found bool) bool { return !found })
	// DELETE is a foreground deletion: the Job and pods go first.
	deletion.requireForeground(t)
}

func client404(err error) bool { return apierrors.IsNotFound(err) }

func inNamespace(ns string) client.InNamespace { return client.InNamespace(ns) }

func byAsyncJob(id string) client.MatchingLabels {
	return client.MatchingLabels{asyncjobv1alpha1.LabelName: id}
}
