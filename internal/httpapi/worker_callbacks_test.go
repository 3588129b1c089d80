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
	"encoding/json"
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
	"github.com/asyncjob/asyncjob/internal/workertoken"
	"github.com/asyncjob/asyncjob/test/wrappers"
)

var testWorkerKey = []byte("worker-token-key-for-the-api-tests-0123456789")

func withWorkerKey(cfg *Config) { cfg.WorkerTokenKey = testWorkerKey }

// kubeJob reads job id of namespace ns straight from the API server.
func (h *harness) kubeJob(ns, id string) *v1alpha1.AsyncJob {
	h.t.Helper()
	var aj v1alpha1.AsyncJob
	h.must(h.env.Client.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: id}, &aj))
	return &aj
}

// workerToken is the token the controller would mount into job id's pods.
func (h *harness) workerToken(ns, id string) string {
	h.t.Helper()
	aj := h.kubeJob(ns, id)
	return workertoken.Sign(testWorkerKey, ns, id, string(aj.UID))
}

// worker sends a worker callback with token ("" sends none).
func (h *harness) worker(method, path, token string, body any) response {
	h.t.Helper()
	var headers []string
	if token != "" {
		headers = []string{"Authorization", "Bearer " + token}
	}
	return h.request(method, path, "", body, headers...)
}

func progressPath(id string) string { return "/v1/jobs/" + id + "/progress" }
func resultPath(id string) string   { return "/v1/jobs/" + id + "/result" }

// updateStatus applies mutate to the job's status as the controller would,
// retrying on conflicts (the API writes the status too), and waits until the
// server's cache has it.
func (h *harness) updateStatus(ns, id string, mutate func(*v1alpha1.AsyncJobStatus)) {
	h.t.Helper()
	ctx := context.Background()
	var rv string
	h.eventually("the status of "+id+" is written", func() bool {
		aj := h.kubeJob(ns, id)
		mutate(&aj.Status)
		if h.env.Client.Status().Update(ctx, aj) != nil {
			return false
		}
		rv = aj.ResourceVersion
		return true
	})
	h.eventually("the status of "+id+" reaches the cache", func() bool {
		var got v1alpha1.AsyncJob
		err := h.server.store.cache.Get(ctx, types.NamespacedName{Namespace: ns, Name: id}, &got)
		return err == nil && got.ResourceVersion == rv
	})
}

// TestWorkerTokenScope: a worker token opens its own job's callbacks and
// nothing else; every refusal leaves the job as it was.
func TestWorkerTokenScope(t *testing.T) {
	h := newHarness(t, withWorkerKey)
	ctx := context.Background()
	a := h.submit(h.tenantA, nil)
	b := h.submit(h.tenantA, nil)
	tokA, tokB := h.workerToken(h.tenantA, a.ID), h.workerToken(h.tenantA, b.ID)

	h.worker(http.MethodPost, progressPath(a.ID), tokA, map[string]any{"percent": 10, "step": "download"}).expect(t, http.StatusNoContent)
	stored := h.kubeJob(h.tenantA, a.ID)
	if p := stored.Status.Progress; p == nil || p.Percent != 10 || p.Step != "download" || p.UpdateTime == nil {
		t.Fatalf("progress after the job's own report: %+v", stored.Status.Progress)
	}
	got := h.request(http.MethodGet, "/v1/jobs/"+a.ID, h.tenantA, nil).expect(t, http.StatusOK).job(t)
	if got.Progress == nil || got.Progress.Percent != 10 || got.Progress.Step != "download" || got.Progress.UpdatedAt == nil {
		t.Errorf("the client sees progress %+v", got.Progress)
	}

	// unchanged fails the test if anything about job a changed.
	unchanged := func(what string) {
		t.Helper()
		if now := h.kubeJob(h.tenantA, a.ID); now.ResourceVersion != stored.ResourceVersion {
			t.Errorf("%s changed the job: progress %+v, result %v", what, now.Status.Progress, now.Status.Result)
		}
	}
	refused := func(what string, r response, status int) {
		t.Helper()
		r.expect(t, status)
		p := r.problem(t)
		if status == http.StatusUnauthorized && (p.Code != problemUnauthenticated.Code || r.Header.Get("WWW-Authenticate") == "") {
			t.Errorf("%s: problem %+v, WWW-Authenticate %q", what, p, r.Header.Get("WWW-Authenticate"))
		}
		unchanged(what)
	}
	uid := string(stored.UID)
	otherUID := uuid.NewString()
	report := map[string]any{"percent": 99}
	for _, c := range []struct {
		name, token string
	}{
		{"another job's token", tokB},
		{"the token of an earlier job of the same id", workertoken.Sign(testWorkerKey, h.tenantA, a.ID, otherUID)},
		{"a token signed with another key", workertoken.Sign([]byte("another-key-another-key-another-key!"), h.tenantA, a.ID, uid)},
		{"a token naming another namespace", workertoken.Sign(testWorkerKey, h.tenantB, a.ID, uid)},
		{"a malformed token", "ajw1." + h.tenantA + ".nonsense"},
		{"a client API key", h.keys[h.tenantA]},
		{"no credential", ""},
	} {
		refused(c.name+" on progress", h.worker(http.MethodPost, progressPath(a.ID), c.token, report), http.StatusUnauthorized)
		refused(c.name+" on result", h.worker(http.MethodPut, resultPath(a.ID), c.token, map[string]any{"x": 1}), http.StatusUnauthorized)
	}
	// The URL names job b: job a's token does not open it, and b is untouched.
	bBefore := h.kubeJob(h.tenantA, b.ID)
	h.worker(http.MethodPost, progressPath(b.ID), tokA, report).expect(t, http.StatusUnauthorized)
	if bAfter := h.kubeJob(h.tenantA, b.ID); bAfter.ResourceVersion != bBefore.ResourceVersion {
		t.Errorf("job a's token changed job b: %+v", bAfter.Status.Progress)
	}

	// A worker token never opens the client routes.
	h.request(http.MethodGet, "/v1/jobs/"+a.ID, "", nil, "Authorization", "Bearer "+tokA).expect(t, http.StatusUnauthorized)
	refused("a worker token on cancel", h.request(http.MethodPost, "/v1/jobs/"+a.ID+"/cancel", "", nil, "Authorization", "Bearer "+tokA), http.StatusUnauthorized)
	if aj := h.kubeJob(h.tenantA, a.ID); aj.Spec.Cancel {
		t.Error("a worker token cancelled its job")
	}

	// Finished: refused with 409, nothing written.
	h.updateStatus(h.tenantA, b.ID, func(s *v1alpha1.AsyncJobStatus) {
		s.State = v1alpha1.StateCompleted
		now := metav1.Now()
		s.CompletionTime = &now
	})
	bBefore = h.kubeJob(h.tenantA, b.ID)
	r := h.worker(http.MethodPost, progressPath(b.ID), tokB, report).expect(t, http.StatusConflict)
	if r.problem(t).Code != problemJobFinished.Code {
		t.Errorf("finished job: %s", r.body)
	}
	r = h.worker(http.MethodPut, resultPath(b.ID), tokB, map[string]any{"late": true}).expect(t, http.StatusConflict)
	if r.problem(t).Code != problemJobFinished.Code {
		t.Errorf("finished job: %s", r.body)
	}
	if bAfter := h.kubeJob(h.tenantA, b.ID); bAfter.ResourceVersion != bBefore.ResourceVersion {
		t.Errorf("a finished job's worker changed it: %+v %v", bAfter.Status.Progress, bAfter.Status.Result)
	}

	// Being deleted (the foreground deletion waits for envtest's absent
	// garbage collector): 410. Deleted: 401, like any job that is not there.
	h.request(http.MethodDelete, "/v1/jobs/"+a.ID, h.tenantA, nil).expect(t, http.StatusAccepted)
	h.eventually("the cache sees the deletion", func() bool {
		var aj v1alpha1.AsyncJob
		err := h.server.store.cache.Get(ctx, types.NamespacedName{Namespace: h.tenantA, Name: a.ID}, &aj)
		return err == nil && aj.DeletionTimestamp != nil
	})
	stored = h.kubeJob(h.tenantA, a.ID)
	r = h.worker(http.MethodPost, progressPath(a.ID), tokA, report).expect(t, http.StatusGone)
	if r.problem(t).Code != problemJobGone.Code {
		t.Errorf("job being deleted: %s", r.body)
	}
	h.worker(http.MethodPut, resultPath(a.ID), tokA, map[string]any{"x": 1}).expect(t, http.StatusGone)
	unchanged("a report to a job being deleted")
	aj := h.kubeJob(h.tenantA, a.ID)
	aj.Finalizers = nil
	h.must(h.env.Client.Update(ctx, aj))
	h.eventually("the job is gone from the cache", func() bool {
		return h.server.store.cache.Get(ctx, types.NamespacedName{Namespace: h.tenantA, Name: a.ID}, &v1alpha1.AsyncJob{}) != nil
	})
	h.worker(http.MethodPost, progressPath(a.ID), tokA, report).expect(t, http.StatusUnauthorized)

	// A new job under the old id (another UID): the old token is refused.
	again := wrappers.MakeAsyncJob(a.ID, h.tenantA).Type(h.typ).Tenant(h.tenantA).Obj()
	h.must(h.env.Client.Create(ctx, again))
	h.eventually("the new job reaches the cache", func() bool {
		var got v1alpha1.AsyncJob
		err := h.server.store.cache.Get(ctx, client.ObjectKeyFromObject(again), &got)
		return err == nil && got.UID == again.UID
	})
	h.worker(http.MethodPost, progressPath(a.ID), tokA, report).expect(t, http.StatusUnauthorized)
	if now := h.kubeJob(h.tenantA, a.ID); now.Status.Progress != nil {
		t.Errorf("the old job's token wrote the new job's progress: %+v", now.Status.Progress)
	}
	// Its own token works; the report may be held (the old job's window may
	// still be open), and lands on the new job.
	if r := h.worker(http.MethodPost, progressPath(a.ID), h.workerToken(h.tenantA, a.ID), report); r.StatusCode != http.StatusNoContent {
		r.expect(t, http.StatusAccepted)
	}
	h.eventually("the new job's progress is stored", func() bool {
		p := h.kubeJob(h.tenantA, a.ID).Status.Progress
		return p != nil && p.Percent == 99
	})
}

// TestWorkerTokenRefusedWithoutAuthentication: in --auth-mode=none every
// client credential is accepted, a worker token still is not; and a server
// without a key refuses every worker callback.
func TestWorkerTokenRefusedWithoutAuthentication(t *testing.T) {
	h := newHarness(t, withWorkerKey)
	j := h.submit(h.tenantA, nil)
	tok := h.workerToken(h.tenantA, j.ID)
	open, _ := h.sibling(t, func(cfg *Config) { cfg.Authenticator = NoAuthenticator{Tenant: h.tenantA} })
	open.request(http.MethodGet, "/v1/jobs/"+j.ID, "", nil).expect(t, http.StatusOK)
	r := open.request(http.MethodGet, "/v1/jobs/"+j.ID, "", nil, "Authorization", "Bearer "+tok).expect(t, http.StatusUnauthorized)
	if !strings.Contains(r.problem(t).Detail, "worker token") {
		t.Errorf("problem %s", r.body)
	}

	keyless, _ := h.sibling(t, func(cfg *Config) { cfg.WorkerTokenKey = nil })
	keyless.worker(http.MethodPost, progressPath(j.ID), tok, map[string]any{"percent": 1}).expect(t, http.StatusUnauthorized)
	if aj := h.kubeJob(h.tenantA, j.ID); aj.Status.Progress != nil {
		t.Errorf("a server without a key wrote progress %+v", aj.Status.Progress)
	}
}

// TestProgressValidation: every invalid report is a 422 (or 400, 415) with
// field errors, and nothing is written.
func TestProgressValidation(t *testing.T) {
	h := newHarness(t, withWorkerKey)
	j := h.submit(h.tenantA, nil)
	tok := h.workerToken(h.tenantA, j.ID)
	before := h.kubeJob(h.tenantA, j.ID)
	for _, c := range []struct {
		name     string
		body     string
		pointers []string
	}{
		{"percent above 100", `{"percent": 101}`, []string{"/percent"}},
		{"negative percent", `{"percent": -1}`, []string{"/percent"}},
		{"fractional percent", `{"percent": 45.5}`, []string{"/percent"}},
		{"percent as a string", `{"percent": "45"}`, []string{"/percent"}},
		{"no percent", `{"step": "x"}`, []string{"/percent"}},
		{"unknown field", `{"percent": 1, "percentage": 2}`, []string{"/percentage"}},
		{"step too long", `{"percent": 1, "step": "` + strings.Repeat("s", maxProgressStepBytes+1) + `"}`, []string{"/step"}},
		{"message too long", `{"percent": 1, "message": "` + strings.Repeat("é", maxProgressMessageBytes/2+1) + `"}`, []string{"/message"}},
		{"step not a string", `{"percent": 1, "step": 3}`, []string{"/step"}},
		{"several at once", `{"percent": 200, "step": 1, "x": 0}`, []string{"/percent", "/step", "/x"}},
	} {
		r := h.worker(http.MethodPost, progressPath(j.ID), tok, c.body).expect(t, http.StatusUnprocessableEntity)
		p := r.problem(t)
		var ptrs []string
		for _, fe := range p.Errors {
			ptrs = append(ptrs, fe.Pointer)
		}
		if p.Code != problemValidationFailed.Code || strings.Join(ptrs, ",") != strings.Join(c.pointers, ",") {
			t.Errorf("%s: %s", c.name, r.body)
		}
	}
	h.worker(http.MethodPost, progressPath(j.ID), tok, `{"percent": 1`).expect(t, http.StatusBadRequest)
	h.worker(http.MethodPost, progressPath(j.ID), tok, `[1]`).expect(t, http.StatusBadRequest)
	h.worker(http.MethodPost, progressPath(j.ID), tok, `{"percent": 1, "step": "`+strings.Repeat("x", maxProgressBodyBytes)+`"}`).expect(t, http.StatusRequestEntityTooLarge)
	h.request(http.MethodPost, progressPath(j.ID), "", nil, "Authorization", "Bearer "+tok).expect(t, http.StatusUnsupportedMediaType)
	if after := h.kubeJob(h.tenantA, j.ID); after.ResourceVersion != before.ResourceVersion {
		t.Errorf("an invalid report changed the job: %+v", after.Status.Progress)
	}

	// The limits themselves are fine: 256 and 1024 bytes, and 0 and 100.
	h.worker(http.MethodPost, progressPath(j.ID), tok, map[string]any{
		"percent": 0, "step": strings.Repeat("s", maxProgressStepBytes), "message": strings.Repeat("m", maxProgressMessageBytes),
	}).expect(t, http.StatusNoContent)
	if p := h.kubeJob(h.tenantA, j.ID).Status.Progress; p == nil || p.Percent != 0 || len(p.Message) != maxProgressMessageBytes {
		t.Errorf("progress at the limits: %+v", p)
	}
}

// TestResultCallback: up to 1 MiB is stored once, in status.result, even
// with a smaller general body limit; 1 MiB + 1 is a 413 that points to
// artifacts; invalid JSON is a 400; nothing is stored by a refusal.
func TestResultCallback(t *testing.T) {
	h := newHarness(t, withWorkerKey, func(cfg *Config) { cfg.MaxBodyBytes = 4 << 10 })
	j := h.submit(h.tenantA, nil)
	tok := h.workerToken(h.tenantA, j.ID)
	before := h.kubeJob(h.tenantA, j.ID)

	tooLarge := `"` + strings.Repeat("a", MaxResultBytes-1) + `"` // 1 MiB + 1
	r := h.worker(http.MethodPut, resultPath(j.ID), tok, tooLarge).expect(t, http.StatusRequestEntityTooLarge)
	if p := r.problem(t); p.Code != problemPayloadTooLarge.Code || !strings.Contains(p.Detail, "artifact") {
		t.Errorf("too large: %s", r.body)
	}
	for _, bad := range []string{`{"a":`, `{"a":1} {"b":2}`, `null`, ``} {
		h.worker(http.MethodPut, resultPath(j.ID), tok, bad).expect(t, http.StatusBadRequest)
	}
	if after := h.kubeJob(h.tenantA, j.ID); after.ResourceVersion != before.ResourceVersion {
		t.Errorf("a refused result changed the job: %d bytes", len(after.Status.Result.Raw))
	}

	exactly := `"` + strings.Repeat("a", MaxResultBytes-2) + `"` // 1 MiB
	h.worker(http.MethodPut, resultPath(j.ID), tok, exactly).expect(t, http.StatusNoContent)
	if got := h.kubeJob(h.tenantA, j.ID).Status.Result; got == nil || len(got.Raw) != MaxResultBytes {
		t.Fatalf("a 1 MiB result was not stored whole")
	}
	// A second PUT replaces the first, byte for byte (nulls inside kept),
	// compacted; clients do not see it before the job completes.
	h.worker(http.MethodPut, resultPath(j.ID), tok, `{ "output": "s3://b/a.webm", "thumb": null }`).expect(t, http.StatusNoContent)
	if got := h.kubeJob(h.tenantA, j.ID).Status.Result; got == nil || string(got.Raw) != `{"output":"s3://b/a.webm","thumb":null}` {
		t.Fatalf("result after the second PUT: %v", got)
	}
	if job := h.request(http.MethodGet, "/v1/jobs/"+j.ID, h.tenantA, nil).expect(t, http.StatusOK).job(t); string(job.Result) != "null" {
		t.Errorf("a running job shows result %s", job.Result)
	}
	h.request(http.MethodGet, resultPath(j.ID), h.tenantA, nil).expect(t, http.StatusConflict)
}

// TestResultCallbackWithController: the real controller (a manager started
// with framework.StartManager) completes a job whose termination message is
// empty and keeps the result its worker PUT; the worker's token is the one
// the controller put in the job's Secret.
func TestResultCallbackWithController(t *testing.T) {
	h := newHarness(t, withWorkerKey)
	testEnv.StartManager(t, controller.CacheOptions(), func(mgr manager.Manager) error {
		return controller.Setup(mgr, controller.Options{CallbackURL: "http://api.example:80", WorkerTokenKey: testWorkerKey})
	})
	ctx := context.Background()
	// Pods need the namespace's default service account; envtest creates none.
	h.must(h.env.Client.Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: h.tenantA, Name: "default"}}))
	typ := h.typ + "-ctrl"
	h.createType(typ, `{"type":"object"}`, false)
	h.eventually("the controller makes the type submittable", func() bool {
		return h.request(http.MethodGet, "/v1/types/"+typ, h.tenantA, nil).StatusCode == http.StatusOK
	})
	j := h.request(http.MethodPost, "/v1/jobs", h.tenantA, map[string]any{"type": typ}).expect(t, http.StatusAccepted).job(t)
	job := h.integrationJob(h.tenantA, j.ID)
	var secret corev1.Secret
	h.must(h.env.Client.Get(ctx, types.NamespacedName{Namespace: h.tenantA, Name: j.ID + "-worker"}, &secret))
	tok := string(secret.Data["token"])

	start := time.Now().Add(-time.Minute).Truncate(time.Second)
	h.env.CreatePod(t, workerPod(job, corev1.PodRunning, start).Running("worker").Obj())
	h.env.UpdateJobStatus(t, job, func(s *batchv1.JobStatus) { s.StartTime = ptr.To(metav1.NewTime(start)); s.Active = 1 })
	h.integrationStatus(h.tenantA, j.ID, StatusRunning)

	h.worker(http.MethodPost, progressPath(j.ID), tok, map[string]any{"percent": 100, "step": "done"}).expect(t, http.StatusNoContent)
	h.worker(http.MethodPut, resultPath(j.ID), tok, `{"frames": 2600, "output": "s3://bucket/a.webm"}`).expect(t, http.StatusNoContent)

	// No termination message: the PUT result is the one kept.
	h.env.SetPodStatus(t, workerPod(job, corev1.PodSucceeded, start).
		Terminated("worker", 0, "", metav1.NewTime(start.Add(time.Second))).Obj())
	end := start.Add(30 * time.Second)
	h.env.UpdateJobStatus(t, job, func(s *batchv1.JobStatus) {
		s.Active, s.Succeeded = 0, 1
		s.CompletionTime = ptr.To(metav1.NewTime(end))
		s.Conditions = append(s.Conditions, wrappers.CompleteConditions(metav1.NewTime(end))...)
	})
	got := h.integrationStatus(h.tenantA, j.ID, StatusCompleted).job(t)
	if string(got.Result) != `{"frames":2600,"output":"s3://bucket/a.webm"}` || got.Progress == nil || got.Progress.Percent != 100 {
		t.Errorf("completed job: result %s, progress %+v", got.Result, got.Progress)
	}
	var result map[string]any
	h.request(http.MethodGet, resultPath(j.ID), h.tenantA, nil).expect(t, http.StatusOK).json(t, &result)
	if result["output"] != "s3://bucket/a.webm" {
		t.Errorf("result %v", result)
	}
	// Finished: the token no longer works.
	h.eventually("the cache sees the job completed", func() bool {
		var aj v1alpha1.AsyncJob
		err := h.server.store.cache.Get(ctx, types.NamespacedName{Namespace: h.tenantA, Name: j.ID}, &aj)
		return err == nil && aj.Status.State == v1alpha1.StateCompleted
	})
	h.worker(http.MethodPut, resultPath(j.ID), tok, `{"late": true}`).expect(t, http.StatusConflict)
	if raw, _ := json.Marshal(h.kubeJob(h.tenantA, j.ID).Status.Result); strings.Contains(string(raw), "late") {
		t.Error("a finished job's result changed")
	}
}
