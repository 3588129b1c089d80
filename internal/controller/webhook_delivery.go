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
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/internal/webhook"
)

// WebhookOptions configure webhook delivery.
type WebhookOptions struct {
	// Clock is injectable for tests; the real clock by default.
	Clock clock.PassiveClock
	// Policy says which destinations may be reached.
	Policy webhook.Policy
	// Timeout bounds one attempt (webhook.DefaultTimeout when zero).
	Timeout time.Duration
	// Schedule is the retry schedule (webhook.DefaultSchedule when empty).
	Schedule webhook.Schedule
	// Render is the payload's data: the job as the REST API renders it
	// (httpapi.RenderJob), injected so this package does not import the API.
	Render func(*asyncjobv1alpha1.AsyncJob) any
	// MaxConcurrentReconciles: AsyncJobs whose deliveries are attempted in parallel (4 when zero).
	MaxConcurrentReconciles int
}

// SetupWebhookDelivery registers the webhook deliverer with the manager. It is
// a controller, so it runs on the elected leader only: one sender whatever
// the number of replicas.
func SetupWebhookDelivery(mgr ctrl.Manager, opts WebhookOptions) error {
	if opts.Render == nil {
		return errors.New("webhook delivery needs a Render function")
	}
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	if len(opts.Schedule) == 0 {
		opts.Schedule = webhook.DefaultSchedule
	}
	if opts.MaxConcurrentReconciles <= 0 {
		opts.MaxConcurrentReconciles = 4
	}
	r := &WebhookDeliverer{
		Client:    mgr.GetClient(),
		APIReader: mgr.GetAPIReader(),
		Clock:     opts.Clock,
		Sender:    webhook.NewSender(opts.Policy, opts.Timeout),
		Schedule:  opts.Schedule,
		Render:    opts.Render,
		Jitter:    func() float64 { return rand.Float64()*2 - 1 },
	}
	withWebhook := predicate.NewPredicateFuncs(func(o client.Object) bool {
		aj, ok := o.(*asyncjobv1alpha1.AsyncJob)
		return ok && aj.Spec.Webhook != nil
	})
	return ctrl.NewControllerManagedBy(mgr).
		For(&asyncjobv1alpha1.AsyncJob{}, builder.WithPredicates(withWebhook)).
		WithOptions(controller.Options{MaxConcurrentReconciles: opts.MaxConcurrentReconciles}).
		Named("asyncjob-webhook").
		Complete(r)
}

// WebhookDeliverer sends an AsyncJob's webhook deliveries and keeps their log
// in status.webhook, which it alone writes, with a patch of that field only
// under a resourceVersion precondition (never clobbering the main
// reconciler's fields, which it does not touch either).
//
// Order, for at-least-once with one id per event: new deliveries are
// recorded first; an attempt is made only for a delivery the API server (not
// the cache) shows Pending and due; its outcome is recorded right after. A
// receiver sees a repeat (same webhook-id) only when the process stops, or
// loses leadership, between the receiver's answer and that record: the next
// leader finds the delivery still Pending and sends it again.
type WebhookDeliverer struct {
	// Client reads AsyncJobs from the manager's cache and writes to the API server.
	Client client.Client
	// APIReader reads from the API server: the delivery log right before an
	// attempt, and the tenant's signing Secret (not cached: secrets are not
	// watched cluster-wide).
	APIReader client.Reader
	Clock     clock.PassiveClock
	Sender    *webhook.Sender
	Schedule  webhook.Schedule
	Render    func(*asyncjobv1alpha1.AsyncJob) any
	// Jitter returns a draw in [-1, 1).
	Jitter func() float64
}

// +kubebuilder:rbac:groups=asyncjob.io,resources=asyncjobs,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=asyncjob.io,resources=asyncjobs/status,verbs=get;update;patch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;create

// Reconcile records the deliveries the AsyncJob owes, attempts the due ones,
// and comes back when the next one falls due.
func (r *WebhookDeliverer) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	aj := &asyncjobv1alpha1.AsyncJob{}
	if err := r.Client.Get(ctx, req.NamespacedName, aj); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	if aj.Spec.Webhook == nil {
		return reconcile.Result{}, nil
	}
	now := r.Clock.Now()
	if st, changed := planWebhook(aj, now); changed {
		if err := r.writeLog(ctx, aj, st); err != nil {
			return conflictOr(err)
		}
	}
	if len(redeliveries(aj)) > 0 {
		if err := r.clearRedeliver(ctx, aj); err != nil {
			return conflictOr(err)
		}
	}
	due, _ := dueDeliveries(aj.Status.Webhook, now)
	for _, id := range due {
		if err := r.attempt(ctx, req.NamespacedName, id); err != nil {
			return conflictOr(err)
		}
	}
	fresh := aj
	if len(due) > 0 {
		fresh = &asyncjobv1alpha1.AsyncJob{}
		if err := r.APIReader.Get(ctx, req.NamespacedName, fresh); err != nil {
			return reconcile.Result{}, client.IgnoreNotFound(err)
		}
	}
	again, wake := dueDeliveries(fresh.Status.Webhook, r.Clock.Now())
	switch {
	case len(again) > 0: // fell due during this pass
		return reconcile.Result{RequeueAfter: conflictRequeue}, nil
	case wake > 0:
		return reconcile.Result{RequeueAfter: wake}, nil
	}
	return reconcile.Result{}, nil
}

func conflictOr(err error) (reconcile.Result, error) {
	if apierrors.IsConflict(err) {
		return reconcile.Result{RequeueAfter: conflictRequeue}, nil
	}
	return reconcile.Result{}, err
}

// writeLog writes status.webhook alone, if aj is still the version read.
func (r *WebhookDeliverer) writeLog(ctx context.Context, aj *asyncjobv1alpha1.AsyncJob, st *asyncjobv1alpha1.WebhookStatus) error {
	base := aj.DeepCopy()
	aj.Status.Webhook = st
	return r.Client.Status().Patch(ctx, aj, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{}))
}

// clearRedeliver removes the redeliver annotation, once its deliveries are
// reset, and only if nobody changed it since (a newer request stays).
func (r *WebhookDeliverer) clearRedeliver(ctx context.Context, aj *asyncjobv1alpha1.AsyncJob) error {
	base := aj.DeepCopy()
	delete(aj.Annotations, asyncjobv1alpha1.AnnotationWebhookRedeliver)
	return r.Client.Patch(ctx, aj, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{}))
}

// attempt sends delivery id once and records the outcome.
func (r *WebhookDeliverer) attempt(ctx context.Context, key types.NamespacedName, id string) error {
	// The cache may not show our own last write yet: confirm the delivery is
	// still waiting and due against the API server, so it is not sent twice.
	aj := &asyncjobv1alpha1.AsyncJob{}
	if err := r.APIReader.Get(ctx, key, aj); err != nil {
		return client.IgnoreNotFound(err)
	}
	now := r.Clock.Now()
	d := findDelivery(aj.Status.Webhook, id)
	if d == nil || d.State != asyncjobv1alpha1.WebhookPending || (d.NextAttemptTime != nil && d.NextAttemptTime.After(now)) {
		return nil
	}
	log := ctrl.LoggerFrom(ctx).WithValues("delivery", id, "event", d.Type)

	secrets, err := r.signingSecrets(ctx, aj.Namespace)
	if err != nil {
		return err
	}
	body, err := webhook.Body(string(d.Type), d.EventTime.Time, r.Render(aj))
	if err != nil {
		return fmt.Errorf("encoding the webhook payload: %w", err)
	}
	headers, err := webhook.Headers(id, now, body, secrets.Active(now))
	if err != nil {
		return err
	}
	o := r.Sender.Send(ctx, aj.Spec.Webhook.URL, headers, body)
	if ctx.Err() != nil {
		// Stopping: leave it Pending for the next leader (the repeat window).
		return ctx.Err()
	}
	log.V(1).Info("Webhook attempt", "statusCode", o.StatusCode, "error", o.Error)
	jitter := r.Jitter()
	var recorded *asyncjobv1alpha1.WebhookDelivery
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		recorded = nil
		cur := &asyncjobv1alpha1.AsyncJob{}
		if err := r.APIReader.Get(ctx, key, cur); err != nil {
			return client.IgnoreNotFound(err)
		}
		st := &asyncjobv1alpha1.WebhookStatus{}
		if cur.Status.Webhook != nil {
			st = cur.Status.Webhook.DeepCopy()
		}
		if !recordAttempt(st, id, o, now, r.Schedule, jitter) {
			return nil
		}
		if err := r.writeLog(ctx, cur, st); err != nil {
			return err
		}
		recorded = findDelivery(st, id)
		return nil
	})
	if err == nil && recorded != nil {
		outcome := webhookOutcome(recorded.State)
		webhookAttempts.WithLabelValues(outcome).Inc()
		webhookAttemptDuration.WithLabelValues(outcome).Observe(o.Duration.Seconds())
	}
	return err
}

func findDelivery(st *asyncjobv1alpha1.WebhookStatus, id string) *asyncjobv1alpha1.WebhookDelivery {
	if st == nil {
		return nil
	}
	if i := indexOf(st, id); i >= 0 {
		return &st.Deliveries[i]
	}
	return nil
}

// signingSecrets gets the tenant's signing Secret, creating it the first time
// (the REST API may create it too: whoever loses the race reads the winner's).
func (r *WebhookDeliverer) signingSecrets(ctx context.Context, ns string) (webhook.Secrets, error) {
	key := types.NamespacedName{Namespace: ns, Name: webhook.SecretName}
	sec := &corev1.Secret{}
	err := r.APIReader.Get(ctx, key, sec)
	if apierrors.IsNotFound(err) {
		data, genErr := webhook.NewSecretData()
		if genErr != nil {
			return webhook.Secrets{}, genErr
		}
		sec = &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: key.Name, Namespace: ns}, Type: corev1.SecretTypeOpaque, Data: data}
		err = r.Client.Create(ctx, sec)
		if apierrors.IsAlreadyExists(err) {
			sec = &corev1.Secret{}
			err = r.APIReader.Get(ctx, key, sec)
		}
	}
	if err != nil {
		return webhook.Secrets{}, fmt.Errorf("the webhook signing secret of %s: %w", ns, err)
	}
	return webhook.Parse(sec.Data)
}
