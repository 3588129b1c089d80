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

package controller

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/internal/httpapi"
	"github.com/asyncjob/asyncjob/internal/webhook"
	"github.com/asyncjob/asyncjob/test/wrappers"
)

// hookRequest is one request a test receiver got.
type hookRequest struct {
	Header http.Header
	Body   []byte
	At     time.Time
}

// receiver is a webhook receiver that answers each request with the next
// scripted answer (the last one repeats) and keeps what it got.
type receiver struct {
	*httptest.Server
	mu      sync.Mutex
	got     []hookRequest
	answers []func(http.ResponseWriter)
}

func answer(code int, header ...string) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.WriteHeader(code)
	}
}

func newReceiver(t *testing.T, answers ...func(http.ResponseWriter)) *receiver {
	r := &receiver{answers: answers}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		n := len(r.got)
		r.got = append(r.got, hookRequest{Header: req.Header.Clone(), Body: body, At: time.Now()})
		a := r.answers[min(n, len(r.answers)-1)]
		r.mu.Unlock()
		a(w)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) requests() []hookRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]hookRequest(nil), r.got...)
}

func (r *receiver) waitRequests(t *testing.T, n int) []hookRequest {
	t.Helper()
	eventually(t, fmt.Sprintf("%d webhook requests", n), func(context.Context) error {
		if got := len(r.requests()); got < n {
			return fmt.Errorf("%d so far", got)
		}
		return nil
	})
	return r.requests()
}

// verifyAll checks every request with the maintained standard-webhooks
// library, against the tenant's secret as the cluster holds it.
func verifyAll(t *testing.T, ns string, reqs []hookRequest) {
	t.Helper()
	wh, err := standardwebhooks.NewWebhook(tenantSecret(t, ns))
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range reqs {
		if err := wh.Verify(r.Body, r.Header); err != nil {
			t.Errorf("request %d does not verify: %v", i, err)
		}
	}
}

func tenantSecret(t *testing.T, ns string) string {
	t.Helper()
	sec := &corev1.Secret{}
	if err := env.Client.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: webhook.SecretName}, sec); err != nil {
		t.Fatalf("the tenant's signing secret: %v", err)
	}
	return string(sec.Data[webhook.KeyCurrent])
}

var loopbackAllowed = webhook.Policy{Allowed: mustPolicy("127.0.0.0/8", "::1/128").Allowed}

func mustPolicy(cidrs ...string) webhook.Policy {
	p, err := webhook.ParsePolicy(cidrs)
	if err != nil {
		panic(err)
	}
	return p
}

// startDeliverer runs a manager with only the webhook deliverer: the tests
// write the AsyncJob's status themselves, as the main reconciler would.
func startDeliverer(t *testing.T, opts WebhookOptions, tweaks ...func(*manager.Options)) (ctrl.Manager, func()) {
	t.Helper()
	if opts.Render == nil {
		opts.Render = httpapi.RenderJob
	}
	var mgr ctrl.Manager
	stop := env.StartManager(t, CacheOptions(), func(m ctrl.Manager) error {
		mgr = m
		return SetupWebhookDelivery(m, opts)
	}, tweaks...)
	return mgr, stop
}

func createHookedJob(t *testing.T, ns, url string, events ...asyncjobv1alpha1.WebhookEventType) *asyncjobv1alpha1.AsyncJob {
	t.Helper()
	aj := wrappers.MakeAsyncJob("job-"+strconv.FormatInt(time.Now().UnixNano()%1e6, 10), ns).Type("convert").Webhook(url, events...).Obj()
	mustCreate(t, aj)
	return aj
}

// setState writes the status the main reconciler would write.
func setState(t *testing.T, aj *asyncjobv1alpha1.AsyncJob, state asyncjobv1alpha1.AsyncJobState) {
	t.Helper()
	eventually(t, "writing the state "+string(state), func(ctx context.Context) error {
		cur, err := getAJ(ctx, aj.Namespace, aj.Name)
		if err != nil {
			return err
		}
		now := metav1.Now()
		cur.Status.State = state
		if state == asyncjobv1alpha1.StateRunning || state.IsFinished() {
			cur.Status.StartTime = ptr.To(metav1.NewTime(now.Add(-time.Second)))
		}
		if state.IsFinished() {
			cur.Status.CompletionTime = &now
		}
		return env.Client.Status().Update(ctx, cur)
	})
}

// waitDelivery waits until the job's only delivery of type typ is in state.
func waitDelivery(t *testing.T, aj *asyncjobv1alpha1.AsyncJob, typ asyncjobv1alpha1.WebhookEventType, state asyncjobv1alpha1.WebhookDeliveryState) asyncjobv1alpha1.WebhookDelivery {
	t.Helper()
	var out asyncjobv1alpha1.WebhookDelivery
	eventually(t, fmt.Sprintf("the %s delivery %s", typ, state), func(ctx context.Context) error {
		cur, err := getAJ(ctx, aj.Namespace, aj.Name)
		if err != nil {
			return err
		}
		if cur.Status.Webhook != nil {
			for _, d := range cur.Status.Webhook.Deliveries {
				if d.Type == typ {
					out = d
					if d.State == state {
						return nil
					}
				}
			}
		}
		return fmt.Errorf("delivery log %+v", cur.Status.Webhook)
	})
	return out
}

func ids(reqs []hookRequest) []string {
	var out []string
	for _, r := range reqs {
		out = append(out, r.Header.Get("webhook-id"))
	}
	return out
}

func TestWebhookCompletedJobArrivesSigned(t *testing.T) {
	needEnv(t)
	ns := newNamespace(t)
	rcv := newReceiver(t, answer(http.StatusNoContent))
	startDeliverer(t, WebhookOptions{Policy: loopbackAllowed})

	aj := createHookedJob(t, ns, rcv.URL+"/hook")
	setState(t, aj, asyncjobv1alpha1.StateRunning) // not subscribed by default
	setState(t, aj, asyncjobv1alpha1.StateCompleted)
	reqs := rcv.waitRequests(t, 1)
	d := waitDelivery(t, aj, asyncjobv1alpha1.WebhookJobCompleted, asyncjobv1alpha1.WebhookDelivered)
	consistently(t, "one request for one event", 2*time.Second, func(context.Context) error {
		if n := len(rcv.requests()); n != 1 {
			return fmt.Errorf("%d requests: %v", n, ids(rcv.requests()))
		}
		return nil
	})
	verifyAll(t, ns, reqs)

	r := reqs[0]
	if r.Header.Get("webhook-id") != d.ID || d.AttemptCount != 1 || len(d.Attempts) != 1 || d.Attempts[0].StatusCode != 204 {
		t.Errorf("delivery %+v for request id %s", d, r.Header.Get("webhook-id"))
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	// By hand, per the specification, independent of any library.
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(tenantSecret(t, ns), "whsec_"))
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(r.Header.Get("webhook-id") + "." + r.Header.Get("webhook-timestamp") + "." + string(r.Body)))
	if want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)); r.Header.Get("webhook-signature") != want {
		t.Errorf("webhook-signature %q, want %q", r.Header.Get("webhook-signature"), want)
	}
	var p struct {
		Type      string          `json:"type"`
		Timestamp time.Time       `json:"timestamp"`
		Data      json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(r.Body, &p); err != nil {
		t.Fatal(err)
	}
	job := mustJSON(t, p.Data)
	if p.Type != "job.completed" || p.Timestamp.IsZero() || job["id"] != aj.Name || job["status"] != string(httpapi.StatusCompleted) {
		t.Errorf("payload %s", r.Body)
	}
}

func TestWebhookRetriesKeepTheID(t *testing.T) {
	needEnv(t)
	ns := newNamespace(t)
	rcv := newReceiver(t, answer(500), answer(500), answer(200))
	retrying, delivered := testutil.ToFloat64(webhookAttempts.WithLabelValues("retrying")), testutil.ToFloat64(webhookAttempts.WithLabelValues("delivered"))
	startDeliverer(t, WebhookOptions{Policy: loopbackAllowed, Schedule: webhook.Schedule{time.Second, time.Second, time.Second}})

	aj := createHookedJob(t, ns, rcv.URL)
	setState(t, aj, asyncjobv1alpha1.StateFailed)
	reqs := rcv.waitRequests(t, 3)
	d := waitDelivery(t, aj, asyncjobv1alpha1.WebhookJobFailed, asyncjobv1alpha1.WebhookDelivered)
	verifyAll(t, ns, reqs)
	for i, r := range reqs {
		if r.Header.Get("webhook-id") != d.ID {
			t.Errorf("request %d has webhook-id %s, want %s", i, r.Header.Get("webhook-id"), d.ID)
		}
		if i > 0 {
			prev, _ := strconv.ParseInt(reqs[i-1].Header.Get("webhook-timestamp"), 10, 64)
			cur, _ := strconv.ParseInt(r.Header.Get("webhook-timestamp"), 10, 64)
			if cur <= prev {
				t.Errorf("webhook-timestamp %d of attempt %d is not after %d", cur, i, prev)
			}
		}
	}
	var codes []int32
	for _, a := range d.Attempts {
		codes = append(codes, a.StatusCode)
	}
	if d.AttemptCount != 3 || fmt.Sprint(codes) != "[500 500 200]" || d.Attempts[0].Error != "HTTP 500" {
		t.Errorf("delivery log %+v", d)
	}
	if r, d := testutil.ToFloat64(webhookAttempts.WithLabelValues("retrying"))-retrying, testutil.ToFloat64(webhookAttempts.WithLabelValues("delivered"))-delivered; r != 2 || d != 1 {
		t.Errorf("asyncjob_webhook_attempts_total: retrying +%v, delivered +%v; want +2, +1", r, d)
	}
}

func TestWebhookGoneStopsTheJobsDeliveries(t *testing.T) {
	needEnv(t)
	ns := newNamespace(t)
	rcv := newReceiver(t, answer(http.StatusGone))
	startDeliverer(t, WebhookOptions{Policy: loopbackAllowed, Schedule: webhook.Schedule{time.Second}})

	aj := createHookedJob(t, ns, rcv.URL, asyncjobv1alpha1.WebhookJobRunning, asyncjobv1alpha1.WebhookJobCompleted)
	setState(t, aj, asyncjobv1alpha1.StateRunning)
	rcv.waitRequests(t, 1)
	waitDelivery(t, aj, asyncjobv1alpha1.WebhookJobRunning, asyncjobv1alpha1.WebhookStopped)
	setState(t, aj, asyncjobv1alpha1.StateCompleted)
	consistently(t, "nothing more after 410", 3*time.Second, func(ctx context.Context) error {
		cur, err := getAJ(ctx, aj.Namespace, aj.Name)
		if err != nil {
			return err
		}
		if n := len(rcv.requests()); n != 1 || len(cur.Status.Webhook.Deliveries) != 1 {
			return fmt.Errorf("%d requests, log %+v", n, cur.Status.Webhook.Deliveries)
		}
		return nil
	})
}

func TestWebhookHonoursRetryAfter(t *testing.T) {
	needEnv(t)
	ns := newNamespace(t)
	rcv := newReceiver(t, answer(http.StatusServiceUnavailable, "Retry-After", "3"), answer(200))
	startDeliverer(t, WebhookOptions{Policy: loopbackAllowed, Schedule: webhook.Schedule{100 * time.Millisecond}})

	aj := createHookedJob(t, ns, rcv.URL)
	setState(t, aj, asyncjobv1alpha1.StateCompleted)
	reqs := rcv.waitRequests(t, 2)
	d := waitDelivery(t, aj, asyncjobv1alpha1.WebhookJobCompleted, asyncjobv1alpha1.WebhookDelivered)
	if gap := reqs[1].At.Sub(reqs[0].At); gap < 3*time.Second {
		t.Errorf("the retry came %v after a Retry-After of 3 s", gap)
	}
	if d.Attempts[1].Time.Sub(d.Attempts[0].Time.Time) < 3*time.Second {
		t.Errorf("attempts recorded at %v and %v", d.Attempts[0].Time, d.Attempts[1].Time)
	}
}

// waitAttempts waits until the job's delivery of typ has n attempts recorded.
func waitAttempts(t *testing.T, aj *asyncjobv1alpha1.AsyncJob, typ asyncjobv1alpha1.WebhookEventType, n int32) {
	t.Helper()
	eventually(t, fmt.Sprintf("%d attempts recorded", n), func(ctx context.Context) error {
		cur, err := getAJ(ctx, aj.Namespace, aj.Name)
		if err != nil {
			return err
		}
		if cur.Status.Webhook != nil {
			for _, d := range cur.Status.Webhook.Deliveries {
				if d.Type == typ && d.AttemptCount >= n {
					return nil
				}
			}
		}
		return fmt.Errorf("log %+v", cur.Status.Webhook)
	})
}

func exactlyRequests(t *testing.T, rcv *receiver, n int, wantID string) {
	t.Helper()
	consistently(t, fmt.Sprintf("exactly %d requests", n), 3*time.Second, func(context.Context) error {
		got := ids(rcv.requests())
		if len(got) != n {
			return fmt.Errorf("requests %v", got)
		}
		for _, id := range got {
			if id != wantID {
				return fmt.Errorf("requests %v, want all %s", got, wantID)
			}
		}
		return nil
	})
}

func TestWebhookRestartBetweenAttemptsNeitherLosesNorRepeats(t *testing.T) {
	needEnv(t)
	ns := newNamespace(t)
	rcv := newReceiver(t, answer(500), answer(200))
	opts := WebhookOptions{Policy: loopbackAllowed, Schedule: webhook.Schedule{3 * time.Second}}
	_, stop := startDeliverer(t, opts)

	aj := createHookedJob(t, ns, rcv.URL)
	setState(t, aj, asyncjobv1alpha1.StateCompleted)
	rcv.waitRequests(t, 1)
	waitAttempts(t, aj, asyncjobv1alpha1.WebhookJobCompleted, 1)
	stop()

	startDeliverer(t, opts)
	d := waitDelivery(t, aj, asyncjobv1alpha1.WebhookJobCompleted, asyncjobv1alpha1.WebhookDelivered)
	exactlyRequests(t, rcv, 2, d.ID)
	verifyAll(t, ns, rcv.requests())
}

func TestWebhookLeaderChangeNeitherLosesNorRepeats(t *testing.T) {
	needEnv(t)
	ns := newNamespace(t)
	rcv := newReceiver(t, answer(500), answer(200))
	opts := WebhookOptions{Policy: loopbackAllowed, Schedule: webhook.Schedule{3 * time.Second}}
	election := func(o *manager.Options) {
		o.LeaderElection = true
		o.LeaderElectionID = "webhook-test-" + ns
		o.LeaderElectionNamespace = "default"
		o.LeaderElectionReleaseOnCancel = true
		// Long enough that a loaded machine does not lose the lease by
		// itself; the leader releases it when stopped, and the other
		// replica takes it at its next retry.
		o.LeaseDuration = ptr.To(15 * time.Second)
		o.RenewDeadline = ptr.To(10 * time.Second)
		o.RetryPeriod = ptr.To(300 * time.Millisecond)
	}
	mgrA, stopA := startDeliverer(t, opts, election)
	<-mgrA.Elected() // A leads: B, started after, waits
	mgrB, _ := startDeliverer(t, opts, election)

	aj := createHookedJob(t, ns, rcv.URL)
	setState(t, aj, asyncjobv1alpha1.StateCompleted)
	rcv.waitRequests(t, 1)
	waitAttempts(t, aj, asyncjobv1alpha1.WebhookJobCompleted, 1)
	select {
	case <-mgrB.Elected():
		t.Fatal("two leaders at once")
	default:
	}
	stopA() // releases the lease
	select {
	case <-mgrB.Elected():
	case <-time.After(30 * time.Second):
		t.Fatal("the second replica never became leader")
	}
	d := waitDelivery(t, aj, asyncjobv1alpha1.WebhookJobCompleted, asyncjobv1alpha1.WebhookDelivered)
	exactlyRequests(t, rcv, 2, d.ID)
}

func TestWebhookRedeliverSendsAgainWithTheSameID(t *testing.T) {
	needEnv(t)
	ns := newNamespace(t)
	rcv := newReceiver(t, answer(200))
	startDeliverer(t, WebhookOptions{Policy: loopbackAllowed})

	aj := createHookedJob(t, ns, rcv.URL)
	setState(t, aj, asyncjobv1alpha1.StateCancelled)
	d := waitDelivery(t, aj, asyncjobv1alpha1.WebhookJobCancelled, asyncjobv1alpha1.WebhookDelivered)
	rcv.waitRequests(t, 1)

	eventually(t, "asking for a redelivery", func(ctx context.Context) error {
		cur, err := getAJ(ctx, aj.Namespace, aj.Name)
		if err != nil {
			return err
		}
		metav1.SetMetaDataAnnotation(&cur.ObjectMeta, asyncjobv1alpha1.AnnotationWebhookRedeliver, d.ID)
		return env.Client.Update(ctx, cur)
	})
	rcv.waitRequests(t, 2)
	eventually(t, "the redelivery recorded and the annotation removed", func(ctx context.Context) error {
		cur, err := getAJ(ctx, aj.Namespace, aj.Name)
		if err != nil {
			return err
		}
		got := cur.Status.Webhook.Deliveries[0]
		if _, ok := cur.Annotations[asyncjobv1alpha1.AnnotationWebhookRedeliver]; ok || got.AttemptCount != 2 || got.State != asyncjobv1alpha1.WebhookDelivered {
			return fmt.Errorf("annotations %v, delivery %+v", cur.Annotations, got)
		}
		return nil
	})
	exactlyRequests(t, rcv, 2, d.ID)
	verifyAll(t, ns, rcv.requests())
}

func TestWebhookRefusesANameResolvingToLoopback(t *testing.T) {
	needEnv(t)
	ns := newNamespace(t)
	rcv := newReceiver(t, answer(200))
	startDeliverer(t, WebhookOptions{}) // the default policy: loopback refused
	_, port, _ := net.SplitHostPort(rcv.Listener.Addr().String())

	aj := createHookedJob(t, ns, "http://localhost:"+port+"/hook")
	setState(t, aj, asyncjobv1alpha1.StateCompleted)
	d := waitDelivery(t, aj, asyncjobv1alpha1.WebhookJobCompleted, asyncjobv1alpha1.WebhookFailed)
	if d.AttemptCount != 1 || d.Attempts[0].Error != "destination refused" || d.NextAttemptTime != nil {
		t.Errorf("delivery %+v", d)
	}
	if n := len(rcv.requests()); n != 0 {
		t.Errorf("the receiver on loopback got %d requests", n)
	}
}

func TestWebhookDeliveryLogStaysBounded(t *testing.T) {
	needEnv(t)
	ns := newNamespace(t)
	rcv := newReceiver(t, answer(200))
	startDeliverer(t, WebhookOptions{Policy: loopbackAllowed})

	aj := createHookedJob(t, ns, rcv.URL, asyncjobv1alpha1.WebhookJobRunning, asyncjobv1alpha1.WebhookJobProgress, asyncjobv1alpha1.WebhookJobCompleted)
	setState(t, aj, asyncjobv1alpha1.StateRunning)
	reports := asyncjobv1alpha1.MaxWebhookDeliveries + 4
	for i := range reports {
		eventually(t, "reporting progress", func(ctx context.Context) error {
			cur, err := getAJ(ctx, aj.Namespace, aj.Name)
			if err != nil {
				return err
			}
			cur.Status.Progress = &asyncjobv1alpha1.Progress{Percent: int32(i), UpdateTime: ptr.To(metav1.NowMicro())}
			return env.Client.Status().Update(ctx, cur)
		})
		rcv.waitRequests(t, i+2) // running, then one per report
	}
	setState(t, aj, asyncjobv1alpha1.StateCompleted)
	waitDelivery(t, aj, asyncjobv1alpha1.WebhookJobCompleted, asyncjobv1alpha1.WebhookDelivered)
	cur, err := getAJ(context.Background(), aj.Namespace, aj.Name)
	if err != nil {
		t.Fatal(err)
	}
	log := cur.Status.Webhook.Deliveries
	if len(log) != asyncjobv1alpha1.MaxWebhookDeliveries || log[0].Type != asyncjobv1alpha1.WebhookJobRunning || log[len(log)-1].Type != asyncjobv1alpha1.WebhookJobCompleted {
		t.Errorf("log of %d: first %s, last %s", len(log), log[0].Type, log[len(log)-1].Type)
	}
	if n := len(rcv.requests()); n != reports+2 {
		t.Errorf("%d requests, want %d", n, reports+2)
	}
}

// TestWebhookNextToTheMainReconciler runs both controllers in one manager, as
// cmd does: the job's Job runs and completes, each subscribed event arrives
// once, and neither controller's status writes undo the other's.
func TestWebhookNextToTheMainReconciler(t *testing.T) {
	needEnv(t)
	rcv := newReceiver(t, answer(500), answer(200))
	env.StartManager(t, CacheOptions(), func(m ctrl.Manager) error {
		if err := Setup(m, Options{MaxConcurrentReconciles: 2}); err != nil {
			return err
		}
		return SetupWebhookDelivery(m, WebhookOptions{Policy: loopbackAllowed, Schedule: webhook.Schedule{time.Second}, Render: httpapi.RenderJob})
	})
	ns := newNamespace(t)
	jt := createReadyType(t, convertType(uniqueTypeName(t)).Obj())
	mustCreate(t, convertJob("hooked", ns, jt.Name).Webhook(rcv.URL, asyncjobv1alpha1.WebhookJobRunning, asyncjobv1alpha1.WebhookJobCompleted).Obj())
	job := waitJob(t, ns, "hooked")
	start := time.Now().Add(-time.Minute).Truncate(time.Second)
	env.CreatePod(t, runningPod(job, start))
	env.UpdateJobStatus(t, job, func(s *batchv1.JobStatus) {
		s.StartTime = ptr.To(metav1.NewTime(start))
		s.Active = 1
	})
	aj := waitState(t, ns, "hooked", asyncjobv1alpha1.StateRunning)
	waitDelivery(t, aj, asyncjobv1alpha1.WebhookJobRunning, asyncjobv1alpha1.WebhookDelivered)

	env.SetPodStatus(t, terminatedPod(job, "a", corev1.PodSucceeded, start, 0, `{"ok":true}`))
	end := start.Add(30 * time.Second)
	env.UpdateJobStatus(t, job, func(s *batchv1.JobStatus) {
		s.Active, s.Succeeded = 0, 1
		s.CompletionTime = ptr.To(metav1.NewTime(end))
		s.Conditions = append(s.Conditions, wrappers.CompleteConditions(metav1.NewTime(end))...)
	})
	waitState(t, ns, "hooked", asyncjobv1alpha1.StateCompleted)
	waitDelivery(t, aj, asyncjobv1alpha1.WebhookJobCompleted, asyncjobv1alpha1.WebhookDelivered)

	reqs := rcv.requests()
	verifyAll(t, ns, reqs)
	var events []string
	for _, r := range reqs {
		var p struct{ Type string }
		_ = json.Unmarshal(r.Body, &p)
		events = append(events, p.Type)
	}
	if fmt.Sprint(events) != "[job.running job.running job.completed]" {
		t.Errorf("requests of types %v, want the running one retried once, then completed", events)
	}
	done, err := getAJ(context.Background(), ns, "hooked")
	if err != nil {
		t.Fatal(err)
	}
	if done.Status.Result == nil || string(done.Status.Result.Raw) != `{"ok":true}` || len(done.Status.Webhook.Deliveries) != 2 ||
		done.Status.Webhook.Deliveries[0].AttemptCount != 2 {
		t.Errorf("status: result %v, webhook %+v", done.Status.Result, done.Status.Webhook)
	}
}

// TestWebhookSignsWithBothSecretsDuringARotation: after a rotation, during
// the grace period, a delivery carries two signatures; a receiver with either
// secret verifies it.
func TestWebhookSignsWithBothSecretsDuringARotation(t *testing.T) {
	needEnv(t)
	ns := newNamespace(t)
	first, err := webhook.NewSecretData()
	if err != nil {
		t.Fatal(err)
	}
	rotated, err := webhook.Rotate(first, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	mustCreate(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: webhook.SecretName, Namespace: ns}, Data: rotated})
	rcv := newReceiver(t, answer(200))
	startDeliverer(t, WebhookOptions{Policy: loopbackAllowed})

	aj := createHookedJob(t, ns, rcv.URL)
	setState(t, aj, asyncjobv1alpha1.StateCompleted)
	r := rcv.waitRequests(t, 1)[0]
	if sigs := strings.Fields(r.Header.Get("webhook-signature")); len(sigs) != 2 {
		t.Fatalf("want two signatures during the grace period, got %q", r.Header.Get("webhook-signature"))
	}
	for _, key := range []string{webhook.KeyCurrent, webhook.KeyPrevious} {
		wh, err := standardwebhooks.NewWebhook(string(rotated[key]))
		if err != nil {
			t.Fatal(err)
		}
		if err := wh.Verify(r.Body, r.Header); err != nil {
			t.Errorf("a receiver with the %s secret cannot verify: %v", key, err)
		}
	}
}
