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
	"bytes"
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/internal/webhook"
)

// webhookBody is a valid submission with the given webhook member.
func (h *harness) webhookBody(hook any) map[string]any {
	body := map[string]any{"type": h.typ, "parameters": map[string]any{"input": "https://example.com/a.mov", "format": "webm"}}
	if hook != nil {
		body["webhook"] = hook
	}
	return body
}

// TestSubmitWithWebhook: the webhook is stored in spec.webhook with its events
// deduplicated, and rendered on the job with a pending status before any
// delivery, and a link to the delivery log; a job without one renders null.
func TestSubmitWithWebhook(t *testing.T) {
	h := newHarness(t)
	hook := map[string]any{"url": "https://hooks.example.com/asyncjob?x=1",
		"events": []string{"job.failed", "job.completed", "job.failed", "job.progress"}}
	j := h.request(http.MethodPost, "/v1/jobs", h.tenantA, h.webhookBody(hook)).expect(t, http.StatusAccepted).job(t)

	aj := h.kubeJob(h.tenantA, j.ID)
	want := &v1alpha1.WebhookSpec{URL: "https://hooks.example.com/asyncjob?x=1",
		Events: []v1alpha1.WebhookEventType{v1alpha1.WebhookJobProgress, v1alpha1.WebhookJobCompleted, v1alpha1.WebhookJobFailed}}
	if aj.Spec.Webhook == nil || aj.Spec.Webhook.URL != want.URL || !slices.Equal(aj.Spec.Webhook.Events, want.Events) {
		t.Fatalf("spec.webhook = %+v, want %+v", aj.Spec.Webhook, want)
	}
	for _, got := range []Job{j, h.request(http.MethodGet, "/v1/jobs/"+j.ID, h.tenantA, nil).expect(t, http.StatusOK).job(t)} {
		w := got.Webhook
		if w == nil || w.URL != want.URL || !slices.Equal(w.Events, []string{"job.progress", "job.completed", "job.failed"}) ||
			w.Status != "pending" || w.Attempts != 0 || w.LastAttemptAt != nil || w.LastError != nil || w.NextAttemptAt != nil {
			t.Errorf("webhook = %+v", w)
		}
		if got.Links.WebhookDeliveries != "/v1/jobs/"+j.ID+"/webhook-deliveries" {
			t.Errorf("links = %+v", got.Links)
		}
	}

	// No events: the default ones are shown (and nothing is stored for them).
	j2 := h.request(http.MethodPost, "/v1/jobs", h.tenantA, h.webhookBody(map[string]any{"url": "http://hooks.example.com/"})).
		expect(t, http.StatusAccepted).job(t)
	if j2.Webhook == nil || !slices.Equal(j2.Webhook.Events, []string{"job.completed", "job.failed", "job.cancelled"}) {
		t.Errorf("default events: %+v", j2.Webhook)
	}
	if ev := h.kubeJob(h.tenantA, j2.ID).Spec.Webhook.Events; len(ev) != 0 {
		t.Errorf("stored events %v, want none", ev)
	}

	// Without a webhook: null, and no link.
	plain := h.request(http.MethodPost, "/v1/jobs", h.tenantA, h.webhookBody(nil)).expect(t, http.StatusAccepted)
	if !bytes.Contains(plain.body, []byte(`"webhook":null`)) || bytes.Contains(plain.body, []byte("webhookDeliveries")) {
		t.Errorf("job without a webhook: %s", plain.body)
	}
}

// TestSubmitWebhookInvalid: every bad webhook is a 422 naming the field, and
// nothing is created. Refused address literals are refused at submission.
func TestSubmitWebhookInvalid(t *testing.T) {
	h := newHarness(t)
	for _, tc := range []struct {
		name    string
		hook    any
		pointer string
	}{
		{"not an object", "https://example.com", "/webhook"},
		{"no url", map[string]any{"events": []string{"job.failed"}}, "/webhook/url"},
		{"url not a string", map[string]any{"url": 7}, "/webhook/url"},
		{"empty url", map[string]any{"url": ""}, "/webhook/url"},
		{"relative url", map[string]any{"url": "/hooks"}, "/webhook/url"},
		{"ftp", map[string]any{"url": "ftp://example.com/x"}, "/webhook/url"},
		{"user information", map[string]any{"url": "https://u:p@example.com/"}, "/webhook/url"},
		{"fragment", map[string]any{"url": "https://example.com/#x"}, "/webhook/url"},
		{"too long", map[string]any{"url": "https://example.com/" + strings.Repeat("a", 2048)}, "/webhook/url"},
		{"loopback", map[string]any{"url": "http://127.0.0.1:8080/hook"}, "/webhook/url"},
		{"IPv6 loopback", map[string]any{"url": "http://[::1]/hook"}, "/webhook/url"},
		{"metadata endpoint", map[string]any{"url": "http://169.254.169.254/latest/meta-data"}, "/webhook/url"},
		{"private", map[string]any{"url": "https://10.1.2.3/"}, "/webhook/url"},
		{"unknown event", map[string]any{"url": "https://example.com/", "events": []string{"job.failed", "job.exploded"}}, "/webhook/events/1"},
		{"events not strings", map[string]any{"url": "https://example.com/", "events": []int{1}}, "/webhook/events"},
		{"unknown member", map[string]any{"url": "https://example.com/", "secret": "x"}, "/webhook/secret"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := h.request(http.MethodPost, "/v1/jobs", h.tenantA, h.webhookBody(tc.hook)).expect(t, http.StatusUnprocessableEntity)
			p := r.problem(t)
			if p.Code != problemValidationFailed.Code || len(p.Errors) != 1 || p.Errors[0].Pointer != tc.pointer {
				t.Errorf("problem %+v, want one error at %s", p, tc.pointer)
			}
		})
	}
	h.expectNoJobs(h.tenantA)
}

// TestWebhookPolicyAllowsOperatorRanges: a range the operator allows is
// accepted (the API's allowed CIDRs, as the controller's).
func TestWebhookPolicyAllowsOperatorRanges(t *testing.T) {
	policy, err := webhook.ParsePolicy([]string{"127.0.0.0/8"})
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, func(c *Config) { c.WebhookPolicy = policy })
	h.request(http.MethodPost, "/v1/jobs", h.tenantA, h.webhookBody(map[string]any{"url": "http://127.0.0.1:9/hook"})).expect(t, http.StatusAccepted)
	h.request(http.MethodPost, "/v1/jobs", h.tenantA, h.webhookBody(map[string]any{"url": "http://[::1]:9/hook"})).expect(t, http.StatusUnprocessableEntity)
}

// TestWebhookIsFingerprinted: with one Idempotency-Key, the same webhook
// (events in another order, repeated) replays; another webhook, or none, is 422.
func TestWebhookIsFingerprinted(t *testing.T) {
	h := newHarness(t)
	key := "Idempotency-Key"
	first := h.webhookBody(map[string]any{"url": "https://example.com/h", "events": []string{"job.failed", "job.completed"}})
	j := h.request(http.MethodPost, "/v1/jobs", h.tenantA, first, key, "k1").expect(t, http.StatusAccepted).job(t)
	same := h.webhookBody(map[string]any{"url": "https://example.com/h", "events": []string{"job.completed", "job.failed", "job.completed"}})
	r := h.request(http.MethodPost, "/v1/jobs", h.tenantA, same, key, "k1").expect(t, http.StatusAccepted)
	if r.Header.Get("Idempotent-Replayed") != "true" || r.job(t).ID != j.ID {
		t.Errorf("same webhook: not a replay: %s", r.body)
	}
	for name, body := range map[string]map[string]any{
		"other url":    h.webhookBody(map[string]any{"url": "https://example.com/other", "events": []string{"job.failed", "job.completed"}}),
		"other events": h.webhookBody(map[string]any{"url": "https://example.com/h"}),
		"no webhook":   h.webhookBody(nil),
	} {
		p := h.request(http.MethodPost, "/v1/jobs", h.tenantA, body, key, "k1").expect(t, http.StatusUnprocessableEntity).problem(t)
		if p.Code != problemIdempotencyMismatch.Code {
			t.Errorf("%s: %+v", name, p)
		}
	}
	// A request without a webhook fingerprints as before webhooks existed.
	plain := h.webhookBody(nil)
	hash, err := requestHash(submitRequest{Type: h.typ, Parameters: []byte(`{"input":"https://example.com/a.mov","format":"webm"}`)})
	h.must(err)
	pj := h.request(http.MethodPost, "/v1/jobs", h.tenantA, plain, key, "k2").expect(t, http.StatusAccepted).job(t)
	if got := h.kubeJob(h.tenantA, pj.ID).Annotations[annotationRequestHash]; got != hash {
		t.Errorf("hash of a request without webhook changed: %s vs %s", got, hash)
	}
}

// setWebhookDefault creates the tenant's default-webhook ConfigMap and waits
// until the server's cache has it.
func (h *harness) setWebhookDefault(ns string, data map[string]string) {
	h.t.Helper()
	ctx := context.Background()
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: WebhookDefaultConfigMap,
		Labels: map[string]string{v1alpha1.LabelConfig: v1alpha1.LabelConfigWebhookDefault}}, Data: data}
	h.must(h.env.Client.Create(ctx, cm))
	h.eventually("the default webhook reaches the cache", func() bool {
		var got corev1.ConfigMap
		return h.server.store.cache.Get(ctx, types.NamespacedName{Namespace: ns, Name: WebhookDefaultConfigMap}, &got) == nil
	})
}

// TestWebhookDefault: the tenant's default applies to a submission that names
// no webhook, never to one that does, and only to that tenant.
func TestWebhookDefault(t *testing.T) {
	h := newHarness(t)
	h.setWebhookDefault(h.tenantA, map[string]string{"url": "https://default.example.com/hook", "events": "job.failed, job.completed job.failed"})

	j := h.request(http.MethodPost, "/v1/jobs", h.tenantA, h.webhookBody(nil)).expect(t, http.StatusAccepted).job(t)
	spec := h.kubeJob(h.tenantA, j.ID).Spec.Webhook
	if spec == nil || spec.URL != "https://default.example.com/hook" ||
		!slices.Equal(spec.Events, []v1alpha1.WebhookEventType{v1alpha1.WebhookJobCompleted, v1alpha1.WebhookJobFailed}) {
		t.Errorf("default not applied: %+v", spec)
	}
	if j.Webhook == nil || j.Webhook.URL != "https://default.example.com/hook" {
		t.Errorf("rendered: %+v", j.Webhook)
	}

	own := h.request(http.MethodPost, "/v1/jobs", h.tenantA, h.webhookBody(map[string]any{"url": "https://own.example.com/"})).
		expect(t, http.StatusAccepted).job(t)
	if spec := h.kubeJob(h.tenantA, own.ID).Spec.Webhook; spec == nil || spec.URL != "https://own.example.com/" || len(spec.Events) != 0 {
		t.Errorf("the submission's own webhook: %+v", spec)
	}

	other := h.request(http.MethodPost, "/v1/jobs", h.tenantB, h.webhookBody(nil)).expect(t, http.StatusAccepted).job(t)
	if spec := h.kubeJob(h.tenantB, other.ID).Spec.Webhook; spec != nil || other.Webhook != nil {
		t.Errorf("another tenant got A's default: %+v", spec)
	}
}

// TestWebhookDefaultInvalidIsIgnored: a default the policy refuses is not
// applied; submissions still succeed.
func TestWebhookDefaultInvalidIsIgnored(t *testing.T) {
	h := newHarness(t)
	h.setWebhookDefault(h.tenantA, map[string]string{"url": "http://169.254.169.254/"})
	j := h.request(http.MethodPost, "/v1/jobs", h.tenantA, h.webhookBody(nil)).expect(t, http.StatusAccepted).job(t)
	if spec := h.kubeJob(h.tenantA, j.ID).Spec.Webhook; spec != nil {
		t.Errorf("refused default applied: %+v", spec)
	}
}

// syncBuffer collects log lines from concurrent handlers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) add(prefix, args string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b.WriteString(prefix + " " + args + "\n")
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (r response) secret(t *testing.T) WebhookSecret {
	t.Helper()
	if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", cc)
	}
	var s WebhookSecret
	r.json(t, &s)
	if _, err := webhook.Parse(map[string][]byte{webhook.KeyCurrent: []byte(s.Secret)}); err != nil {
		t.Fatalf("secret %q is not a whsec_ secret: %v", s.Secret, err)
	}
	return s
}

// TestWebhookSecret: the first GET creates the tenant's secret, later ones
// and another replica return the same; tenants have their own; a rotation
// answers a new secret and keeps the old one as previous until it expires.
// No secret reaches the log.
func TestWebhookSecret(t *testing.T) {
	logs := &syncBuffer{}
	logger := funcr.New(logs.add, funcr.Options{Verbosity: 10})
	grace := 2 * time.Hour
	h := newHarness(t, func(c *Config) { c.Log = logger; c.WebhookRotationGrace = grace })
	ctx := context.Background()
	key := types.NamespacedName{Namespace: h.tenantA, Name: webhook.SecretName}

	first := h.request(http.MethodGet, "/v1/webhooks/secret", h.tenantA, nil).expect(t, http.StatusOK).secret(t)
	if first.PreviousSecret != "" || first.PreviousSecretExpiresAt != nil {
		t.Errorf("a new secret has a previous one: %+v", first)
	}
	var sec corev1.Secret
	h.must(h.env.Client.Get(ctx, key, &sec))
	if string(sec.Data[webhook.KeyCurrent]) != first.Secret {
		t.Fatalf("the Secret holds another secret than the one answered")
	}
	created := sec.ResourceVersion
	sib, _ := h.sibling(t)
	for _, srv := range []*harness{h, sib, h} {
		if got := srv.request(http.MethodGet, "/v1/webhooks/secret", h.tenantA, nil).expect(t, http.StatusOK).secret(t); got.Secret != first.Secret || got.PreviousSecret != "" {
			t.Errorf("the secret changed between calls: %q vs %q", got.Secret, first.Secret)
		}
	}
	h.must(h.env.Client.Get(ctx, key, &sec))
	if sec.ResourceVersion != created {
		t.Errorf("GET wrote the Secret again")
	}

	// Tenant B has its own, in its own namespace.
	other := h.request(http.MethodGet, "/v1/webhooks/secret", h.tenantB, nil).expect(t, http.StatusOK).secret(t)
	if other.Secret == first.Secret {
		t.Errorf("two tenants share a secret")
	}

	before := time.Now().Add(grace).Truncate(time.Second)
	rotated := sib.request(http.MethodPost, "/v1/webhooks/secret/rotate", h.tenantA, nil).expect(t, http.StatusOK).secret(t)
	after := time.Now().Add(grace)
	if rotated.Secret == first.Secret || rotated.PreviousSecret != first.Secret || rotated.PreviousSecretExpiresAt == nil ||
		rotated.PreviousSecretExpiresAt.Before(before) || rotated.PreviousSecretExpiresAt.After(after) {
		t.Fatalf("rotation: %+v (old %q, expiry within [%v, %v])", rotated, first.Secret, before, after)
	}
	if got := h.request(http.MethodGet, "/v1/webhooks/secret", h.tenantA, nil).expect(t, http.StatusOK).secret(t); !sameSecret(got, rotated) {
		t.Errorf("after rotation GET answers %+v, want %+v", got, rotated)
	}
	if got := h.request(http.MethodGet, "/v1/webhooks/secret", h.tenantB, nil).expect(t, http.StatusOK).secret(t); !sameSecret(got, other) {
		t.Errorf("A's rotation changed B's secret")
	}
	if b := h.request(http.MethodPost, "/v1/webhooks/secret/rotate", h.tenantB, nil).expect(t, http.StatusOK).secret(t); b.PreviousSecret != other.Secret {
		t.Errorf("B's rotation: %+v", b)
	}
	if got := h.request(http.MethodGet, "/v1/webhooks/secret", h.tenantA, nil).expect(t, http.StatusOK).secret(t); !sameSecret(got, rotated) {
		t.Errorf("B's rotation changed A's secret")
	}

	// Once the grace period is over, the previous secret is no longer shown.
	h.must(h.env.Client.Get(ctx, key, &sec))
	sec.Data[webhook.KeyPreviousExpiresAt] = []byte(time.Now().Add(-time.Minute).UTC().Format(time.RFC3339))
	h.must(h.env.Client.Update(ctx, &sec))
	if got := h.request(http.MethodGet, "/v1/webhooks/secret", h.tenantA, nil).expect(t, http.StatusOK).secret(t); got.PreviousSecret != "" || got.Secret != rotated.Secret {
		t.Errorf("expired previous secret still answered: %+v", got)
	}

	out := logs.String()
	if !strings.Contains(out, "/v1/webhooks/secret/rotate") && !strings.Contains(out, "/v1/webhooks/secret") {
		t.Fatalf("the access log was not captured: %s", out)
	}
	for _, s := range []string{first.Secret, rotated.Secret, other.Secret} {
		raw := strings.TrimPrefix(s, webhook.SecretPrefix)
		if strings.Contains(out, raw) {
			t.Errorf("a secret reached the log")
		}
	}
}

func sameSecret(a, b WebhookSecret) bool {
	return a.Secret == b.Secret && a.PreviousSecret == b.PreviousSecret &&
		(a.PreviousSecretExpiresAt == nil) == (b.PreviousSecretExpiresAt == nil) &&
		(a.PreviousSecretExpiresAt == nil || a.PreviousSecretExpiresAt.Equal(*b.PreviousSecretExpiresAt))
}

// TestWebhookSecretConcurrentRotations: rotations at once either succeed or
// answer 409; the survivors agree with the Secret, and no rotation's old
// secret is silently dropped while another rotation reports it as previous.
func TestWebhookSecretConcurrentRotations(t *testing.T) {
	h := newHarness(t)
	h.request(http.MethodGet, "/v1/webhooks/secret", h.tenantA, nil).expect(t, http.StatusOK)
	const n = 6
	results := make([]response, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = h.request(http.MethodPost, "/v1/webhooks/secret/rotate", h.tenantA, nil)
		}()
	}
	wg.Wait()
	ok := 0
	for _, r := range results {
		switch r.StatusCode {
		case http.StatusOK:
			ok++
		case http.StatusConflict:
			if p := r.problem(t); p.Code != problemSecretRotationConflict.Code {
				t.Errorf("409 %+v", p)
			}
		default:
			t.Errorf("rotation answered %d %s", r.StatusCode, r.body)
		}
	}
	if ok == 0 {
		t.Errorf("no rotation succeeded")
	}
}

// webhookJob submits a job with a webhook and writes a delivery log into its
// status, as the controller would.
func (h *harness) webhookJob(tenant string) Job {
	h.t.Helper()
	j := h.request(http.MethodPost, "/v1/jobs", tenant, h.webhookBody(map[string]any{"url": "https://hooks.example.com/"})).
		expect(h.t, http.StatusAccepted).job(h.t)
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	next := metav1.NewTime(t0.Add(time.Hour))
	h.setStatus(tenant, j.ID, func(st *v1alpha1.AsyncJobStatus) {
		st.Webhook = &v1alpha1.WebhookStatus{Deliveries: []v1alpha1.WebhookDelivery{
			{ID: "msg_running", Type: v1alpha1.WebhookJobRunning, EventTime: metav1.NewTime(t0), State: v1alpha1.WebhookDelivered, AttemptCount: 1,
				Attempts: []v1alpha1.WebhookAttempt{{Time: metav1.NewMicroTime(t0.Add(time.Second)), StatusCode: 204, DurationMilliseconds: 12}}},
			{ID: "msg_failed", Type: v1alpha1.WebhookJobFailed, EventTime: metav1.NewTime(t0.Add(time.Minute)), State: v1alpha1.WebhookPending,
				AttemptCount: 12, NextAttemptTime: &next, Attempts: []v1alpha1.WebhookAttempt{
					{Time: metav1.NewMicroTime(t0.Add(2 * time.Minute)), StatusCode: 500, DurationMilliseconds: 30},
					{Time: metav1.NewMicroTime(t0.Add(3 * time.Minute)), DurationMilliseconds: 10000, Error: "timeout after 10s"},
				}},
		}}
	})
	return j
}

// TestWebhookDeliveries: the log renders status.webhook newest first, and the
// job's webhook summarises its latest delivery.
func TestWebhookDeliveries(t *testing.T) {
	h := newHarness(t)
	j := h.webhookJob(h.tenantA)
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { v := t0.Add(d); return &v }
	str := func(s string) *string { return &s }
	code := func(c int32) *int32 { return &c }
	links := func(id string) DeliveryLinks {
		return DeliveryLinks{Redeliver: "/v1/jobs/" + j.ID + "/webhook-deliveries/" + id + "/redeliver"}
	}
	want := WebhookDeliveryList{Items: []WebhookDelivery{
		{ID: "msg_failed", Type: "job.failed", Status: "pending", EventAt: t0.Add(time.Minute), Attempts: 12,
			NextAttemptAt: at(time.Hour), Links: links("msg_failed"), RecentAttempts: []WebhookAttempt{
				{At: t0.Add(3 * time.Minute), DurationMs: 10000, Error: str("timeout after 10s")},
				{At: t0.Add(2 * time.Minute), HTTPStatus: code(500), DurationMs: 30, Error: str("the receiver answered HTTP 500")},
			}},
		{ID: "msg_running", Type: "job.running", Status: "delivered", EventAt: t0, Attempts: 1, Links: links("msg_running"),
			RecentAttempts: []WebhookAttempt{{At: t0.Add(time.Second), HTTPStatus: code(204), DurationMs: 12}}},
	}}
	var got WebhookDeliveryList
	h.request(http.MethodGet, "/v1/jobs/"+j.ID+"/webhook-deliveries", h.tenantA, nil).expect(t, http.StatusOK).json(t, &got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("delivery log (-want +got):\n%s", diff)
	}

	wantHook := &JobWebhook{URL: "https://hooks.example.com/", Events: []string{"job.completed", "job.failed", "job.cancelled"},
		Status: "pending", Attempts: 12, LastAttemptAt: at(3 * time.Minute), LastError: str("timeout after 10s"), NextAttemptAt: at(time.Hour)}
	gotHook := h.request(http.MethodGet, "/v1/jobs/"+j.ID, h.tenantA, nil).expect(t, http.StatusOK).job(t).Webhook
	if diff := cmp.Diff(wantHook, gotHook); diff != "" {
		t.Errorf("job.webhook (-want +got):\n%s", diff)
	}

	// Delivered: no next attempt, no error.
	h.setStatus(h.tenantA, j.ID, func(st *v1alpha1.AsyncJobStatus) {
		d := &st.Webhook.Deliveries[1]
		d.State, d.NextAttemptTime, d.AttemptCount = v1alpha1.WebhookDelivered, nil, 13
		d.Attempts = append(d.Attempts, v1alpha1.WebhookAttempt{Time: metav1.NewMicroTime(t0.Add(time.Hour)), StatusCode: 200})
	})
	wantHook.Status, wantHook.Attempts, wantHook.LastAttemptAt, wantHook.LastError, wantHook.NextAttemptAt = "delivered", 13, at(time.Hour), nil, nil
	gotHook = h.request(http.MethodGet, "/v1/jobs/"+j.ID, h.tenantA, nil).expect(t, http.StatusOK).job(t).Webhook
	if diff := cmp.Diff(wantHook, gotHook); diff != "" {
		t.Errorf("job.webhook after delivery (-want +got):\n%s", diff)
	}
}

// TestWebhookRedeliver: a redelivery is recorded in the annotation, once
// however often it is asked for; an unknown delivery is 404, a job without a
// webhook 409 on both routes, another tenant's job 404 as a missing one.
func TestWebhookRedeliver(t *testing.T) {
	h := newHarness(t)
	j := h.webhookJob(h.tenantA)
	path := "/v1/jobs/" + j.ID + "/webhook-deliveries/"
	annotation := func() string { return h.kubeJob(h.tenantA, j.ID).Annotations[v1alpha1.AnnotationWebhookRedeliver] }

	for range 2 {
		r := h.request(http.MethodPost, path+"msg_running/redeliver", h.tenantA, nil).expect(t, http.StatusAccepted)
		var d WebhookDelivery
		r.json(t, &d)
		if d.ID != "msg_running" || r.Header.Get("Location") != "/v1/jobs/"+j.ID+"/webhook-deliveries" {
			t.Errorf("202 %s, Location %q", r.body, r.Header.Get("Location"))
		}
		if got := annotation(); got != "msg_running" {
			t.Errorf("annotation %q, want msg_running", got)
		}
	}
	h.request(http.MethodPost, path+"msg_failed/redeliver", h.tenantA, nil).expect(t, http.StatusAccepted)
	if got := annotation(); got != "msg_running msg_failed" {
		t.Errorf("annotation %q", got)
	}

	p := h.request(http.MethodPost, path+"msg_nope/redeliver", h.tenantA, nil).expect(t, http.StatusNotFound).problem(t)
	if p.Code != problemDeliveryNotFound.Code {
		t.Errorf("unknown delivery: %+v", p)
	}

	plain := h.submit(h.tenantA, nil)
	for _, r := range []response{
		h.request(http.MethodGet, "/v1/jobs/"+plain.ID+"/webhook-deliveries", h.tenantA, nil),
		h.request(http.MethodPost, "/v1/jobs/"+plain.ID+"/webhook-deliveries/msg_running/redeliver", h.tenantA, nil),
	} {
		if p := r.expect(t, http.StatusConflict).problem(t); p.Code != problemNoWebhook.Code {
			t.Errorf("job without webhook: %+v", p)
		}
	}

	// Tenant B: A's job (with its deliveries) is not found, like a missing job.
	missing := "00000000-0000-4000-8000-000000000000"
	for _, tc := range []struct{ method, suffix string }{
		{http.MethodGet, "/webhook-deliveries"},
		{http.MethodPost, "/webhook-deliveries/msg_running/redeliver"},
	} {
		other := h.request(tc.method, "/v1/jobs/"+j.ID+tc.suffix, h.tenantB, nil)
		never := h.request(tc.method, "/v1/jobs/"+missing+tc.suffix, h.tenantB, nil)
		expectSameNotFound(t, tc.method, other, j.ID, never, missing)
	}
	if got := annotation(); got != "msg_running msg_failed" {
		t.Errorf("annotation changed by another tenant: %q", got)
	}
}

// TestRedeliverFromAStaleRead: the patch is conditioned on the version it
// was computed from, so an annotation written since (by another replica, or
// the controller) is kept, not overwritten: the store re-reads and redoes it.
func TestRedeliverFromAStaleRead(t *testing.T) {
	h := newHarness(t)
	j := h.webhookJob(h.tenantA)
	ctx := context.Background()
	stale := h.kubeJob(h.tenantA, j.ID)
	fresh := stale.DeepCopy()
	fresh.Annotations[v1alpha1.AnnotationWebhookRedeliver] = "msg_running"
	h.must(h.env.Client.Update(ctx, fresh))
	h.must(h.server.store.requestRedelivery(ctx, stale, "msg_failed"))
	if got := h.kubeJob(h.tenantA, j.ID).Annotations[v1alpha1.AnnotationWebhookRedeliver]; got != "msg_running msg_failed" {
		t.Errorf("annotation %q, want both ids", got)
	}
}

// TestWebhookSecretCreatedOnce: first calls at the same moment on two
// replicas create one Secret and all answer its secret.
func TestWebhookSecretCreatedOnce(t *testing.T) {
	h := newHarness(t)
	sib, _ := h.sibling(t)
	const n = 8
	got := make([]response, n)
	var wg sync.WaitGroup
	for i := range n {
		srv := h
		if i%2 == 1 {
			srv = sib
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i] = srv.request(http.MethodGet, "/v1/webhooks/secret", h.tenantA, nil)
		}()
	}
	wg.Wait()
	var sec corev1.Secret
	h.must(h.env.Client.Get(context.Background(), types.NamespacedName{Namespace: h.tenantA, Name: webhook.SecretName}, &sec))
	for _, r := range got {
		if s := r.expect(t, http.StatusOK).secret(t); s.Secret != string(sec.Data[webhook.KeyCurrent]) {
			t.Errorf("an answer differs from the Secret's")
		}
	}
}

// TestWebhookSecretDamaged: a Secret without a valid current secret is a 500
// that leaks nothing, until a rotation replaces it.
func TestWebhookSecretDamaged(t *testing.T) {
	h := newHarness(t)
	h.must(h.env.Client.Create(context.Background(), &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: h.tenantA, Name: webhook.SecretName},
		Data:       map[string][]byte{webhook.KeyCurrent: []byte("not-a-secret")}}))
	r := h.request(http.MethodGet, "/v1/webhooks/secret", h.tenantA, nil).expect(t, http.StatusInternalServerError)
	if bytes.Contains(r.body, []byte("not-a-secret")) || r.problem(t).Code != problemInternal.Code {
		t.Errorf("damaged secret: %s", r.body)
	}
	fresh := h.request(http.MethodPost, "/v1/webhooks/secret/rotate", h.tenantA, nil).expect(t, http.StatusOK).secret(t)
	if fresh.PreviousSecret != "" {
		t.Errorf("the damaged value became previous: %+v", fresh)
	}
	if got := h.request(http.MethodGet, "/v1/webhooks/secret", h.tenantA, nil).expect(t, http.StatusOK).secret(t); got.Secret != fresh.Secret {
		t.Errorf("GET after repair: %+v", got)
	}
}
