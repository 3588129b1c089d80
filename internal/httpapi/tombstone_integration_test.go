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
	"time"

	"github.com/google/uuid"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	"github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/internal/controller"
	"github.com/asyncjob/asyncjob/internal/tombstone"
	"github.com/asyncjob/asyncjob/test/wrappers"
)

// tombstoneRetention is short so that the test sees 410 turn into 404; long
// enough for the 410 checks on a slow machine.
const tombstoneRetention = 45 * time.Second

// TestGoneAfterTTL: a job the controller removes after its TTL answers every
// job route of its tenant with the same 410 problem, while another tenant
// gets the 404 of a job that never existed; once the tombstone's retention
// has passed it is 404 for its tenant too. The tombstone is in the cluster
// before the AsyncJob is deleted.
func TestGoneAfterTTL(t *testing.T) {
	h := newHarness(t)
	testEnv.StartManager(t, controller.CacheOptions(), func(mgr manager.Manager) error {
		return controller.Setup(mgr, controller.Options{
			Tombstones: controller.TombstoneOptions{Retention: tombstoneRetention, MaxPerNamespace: 10}})
	})
	ctx := context.Background()
	h.must(h.env.Client.Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: h.tenantA, Name: "default"}}))
	// A type kept one second after its jobs finish, made Ready by the controller.
	typ := h.typ + "-ttl"
	jt := wrappers.MakeAsyncJobType(typ).Schema(`{"type":"object"}`).Image("busybox").
		Defaults(v1alpha1.JobLimits{TTLSecondsAfterFinished: ptr.To[int32](1)}).Obj()
	h.must(h.env.Client.Create(ctx, jt))
	t.Cleanup(func() { _ = h.env.Client.Delete(context.Background(), jt) })
	h.eventually("the controller makes the type submittable", func() bool {
		return h.request(http.MethodGet, "/v1/types/"+typ, h.tenantA, nil).StatusCode == http.StatusOK
	})

	expire := func() string {
		j := h.request(http.MethodPost, "/v1/jobs", h.tenantA, map[string]any{"type": typ, "parameters": map[string]any{}}).
			expect(t, http.StatusAccepted).job(t)
		job := h.integrationJob(h.tenantA, j.ID)
		// It failed a minute ago: its TTL of 1 s has passed as soon as the controller sees it.
		at := metav1.NewTime(time.Now().Add(-time.Minute).Truncate(time.Second))
		h.env.UpdateJobStatus(t, job, func(s *batchv1.JobStatus) {
			s.StartTime, s.Failed = &at, 1
			s.Conditions = append(s.Conditions, wrappers.FailedConditions("BackoffLimitExceeded", "BackoffLimitExceeded", at)...)
		})
		key := types.NamespacedName{Namespace: h.tenantA, Name: j.ID}
		var aj v1alpha1.AsyncJob
		h.eventually("the controller deletes the expired AsyncJob "+j.ID, func() bool {
			return h.env.Client.Get(ctx, key, &aj) == nil && aj.DeletionTimestamp != nil
		})
		// Its tombstone was written first.
		var cm corev1.ConfigMap
		h.must(h.env.Client.Get(ctx, types.NamespacedName{Namespace: h.tenantA, Name: tombstone.ConfigMapName}, &cm))
		if !tombstone.Gone(cm.Data, j.ID, h.tenantA, time.Now()) {
			t.Fatalf("the AsyncJob is being deleted but has no tombstone: %v", cm.Data)
		}
		// Play the garbage collector: the foreground deletion completes.
		h.eventually("the AsyncJob's finalizers are removed", func() bool {
			if err := h.env.Client.Get(ctx, key, &aj); err != nil {
				return client.IgnoreNotFound(err) == nil
			}
			aj.Finalizers = nil
			return h.env.Client.Update(ctx, &aj) == nil
		})
		h.eventually("the API no longer has the job "+j.ID, func() bool {
			return h.request(http.MethodGet, "/v1/jobs/"+j.ID, h.tenantA, nil).StatusCode != http.StatusOK
		})
		return j.ID
	}
	first, second := expire(), expire()

	// Every gone job answers alike, bar its id.
	var bodies []string
	for _, id := range []string{first, second} {
		r := h.request(http.MethodGet, "/v1/jobs/"+id, h.tenantA, nil).expect(t, http.StatusGone)
		bodies = append(bodies, strings.ReplaceAll(string(r.body), id, "{id}"))
	}
	if bodies[0] != bodies[1] {
		t.Errorf("two gone jobs answer differently:\n%s\n%s", bodies[0], bodies[1])
	}

	// The routes, on the newer of the two (the older's tombstone expires first).
	for _, r := range servedRoutes(t, h.server) {
		if r.class.kind != kindClient || !r.class.jobScoped {
			continue
		}
		name := r.method + " " + r.template
		got := h.request(r.method, r.path(second, h.typ), h.tenantA, nil)
		if got.StatusCode != http.StatusGone {
			t.Errorf("%s of a job removed after its TTL: %d %s, want 410", name, got.StatusCode, got.body)
			continue
		}
		if r.method != http.MethodHead {
			p := got.problem(t)
			if p.Type != problemJobExpired.URI() || p.Code != problemJobExpired.Code || p.Title != problemJobExpired.Title {
				t.Errorf("%s: problem %+v, want %s", name, p, problemJobExpired.Code)
			}
		}
		// Another tenant: exactly the 404 of a job that never existed.
		missing := uuid.NewString()
		other := h.request(r.method, r.path(second, h.typ), h.tenantB, nil)
		never := h.request(r.method, r.path(missing, h.typ), h.tenantB, nil)
		expectSameNotFound(t, r.method, other, second, never, missing)
	}
	// After the retention: unknown, 404.
	deadline := time.Now().Add(tombstoneRetention + time.Minute)
	for {
		r := h.request(http.MethodGet, "/v1/jobs/"+first, h.tenantA, nil)
		if r.StatusCode == http.StatusNotFound {
			if p := r.problem(t); p.Code != problemJobNotFound.Code {
				t.Errorf("after the retention: problem %+v, want %s", p, problemJobNotFound.Code)
			}
			break
		}
		if r.StatusCode != http.StatusGone || time.Now().After(deadline) {
			t.Fatalf("after the retention: %d %s, want 410 turning into 404", r.StatusCode, r.body)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
