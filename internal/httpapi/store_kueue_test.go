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
	"net/http"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/test/wrappers"
)

// TestKueueQueueAbsentWithoutVisibilityAPI: envtest has no Kueue, so its
// visibility API cannot answer; a job waiting for Kueue is read as usual,
// with no queue member (absent, not wrong). The position itself, from a
// real Kueue, is tested by test/kueue.
func TestKueueQueueAbsentWithoutVisibilityAPI(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	name := "kueue-" + randomSuffix()
	w := wrappers.MakeAsyncJobType(name).Schema(paramsSchema).Image("busybox").Kueue("conversions")
	jt := w.Obj()
	h.must(h.env.Client.Create(ctx, jt))
	t.Cleanup(func() { _ = h.env.Client.Delete(context.Background(), jt) })
	w.Ready()
	h.must(h.env.Client.Status().Update(ctx, jt))
	h.eventually("the Kueue type is Ready in the cache", func() bool {
		got := h.server.store.cachedType(ctx, name)
		return got != nil && got.IsReady() && got.Spec.Kueue != nil
	})

	j := h.request(http.MethodPost, "/v1/jobs", h.tenantA, map[string]any{"type": name,
		"parameters": map[string]any{"input": "https://example.com/a.mov", "format": "webm"}}).expect(t, http.StatusAccepted).job(t)
	h.setStatus(h.tenantA, j.ID, func(s *v1alpha1.AsyncJobStatus) {
		s.State = v1alpha1.StatePending
		s.JobName = j.ID
		meta.SetStatusCondition(&s.Conditions, metav1.Condition{Type: v1alpha1.ConditionRunning, Status: metav1.ConditionFalse,
			Reason: v1alpha1.ReasonWaitingForKueue, Message: v1alpha1.MessageWaitingForKueue})
	})
	r := h.request(http.MethodGet, "/v1/jobs/"+j.ID, h.tenantA, nil).expect(t, http.StatusOK)
	if strings.Contains(string(r.body), `"queue"`) {
		t.Errorf("queue present without a visibility API: %s", r.body)
	}
	if got := r.job(t); got.Status != StatusPending {
		t.Errorf("status %s, want PENDING", got.Status)
	}
	// Asked directly, the store says it does not know.
	if _, _, _, ok := h.server.store.kueuePosition(ctx, mustCached(t, h, j.ID), jt); ok {
		t.Error("kueuePosition ok without a visibility API")
	}
}

func mustCached(t *testing.T, h *harness, id string) *v1alpha1.AsyncJob {
	t.Helper()
	aj, err := h.server.store.getJob(context.Background(), h.tenantA, h.tenantA, id)
	if err != nil {
		t.Fatal(err)
	}
	return aj
}
