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
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/internal/webhook"
)

// webhookDefault reads the tenant's default-webhook ConfigMap from the
// informer cache (NewCache watches that one name in every namespace), so a
// submission costs no API-server call for it. ok is false when there is none.
func (s *store) webhookDefault(ctx context.Context, ns string) (map[string]string, bool, error) {
	var cm corev1.ConfigMap
	err := s.cache.Get(ctx, types.NamespacedName{Namespace: ns, Name: WebhookDefaultConfigMap}, &cm)
	if apierrors.IsNotFound(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fromKube(err, kubeAnswers{})
	}
	return cm.Data, true, nil
}

// signingSecret returns the tenant's signing Secret, creating it on first
// use. The controller may create it at the same moment: AlreadyExists means
// someone else won, and their Secret is read. Secrets are read from the API
// server, not a cache: the API watches no Secrets but its own keys.
func (s *store) signingSecret(ctx context.Context, ns string) (*corev1.Secret, error) {
	key := types.NamespacedName{Namespace: ns, Name: webhook.SecretName}
	var sec corev1.Secret
	err := s.api.Get(ctx, key, &sec)
	if err == nil {
		return &sec, nil
	}
	if !apierrors.IsNotFound(err) {
		return nil, fromKube(err, kubeAnswers{})
	}
	data, err := webhook.NewSecretData()
	if err != nil {
		return nil, err
	}
	fresh := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: webhook.SecretName,
			Labels: map[string]string{"app.kubernetes.io/managed-by": "asyncjob"}},
		Type: corev1.SecretTypeOpaque,
		Data: data,
	}
	err = s.writer.Create(ctx, fresh)
	if err == nil {
		return fresh, nil
	}
	if !apierrors.IsAlreadyExists(err) {
		return nil, fromKube(err, kubeAnswers{})
	}
	if err := s.api.Get(ctx, key, &sec); err != nil {
		return nil, fromKube(err, kubeAnswers{})
	}
	return &sec, nil
}

// rotateSigningSecret replaces the current secret, keeping the old one as
// previous for grace. The update carries the resourceVersion that was read:
// a concurrent rotation (on any replica) makes this one fail with 409 rather
// than silently dropping the secret the other one just kept for its grace.
func (s *store) rotateSigningSecret(ctx context.Context, ns string, now time.Time, grace time.Duration) (*corev1.Secret, error) {
	sec, err := s.signingSecret(ctx, ns)
	if err != nil {
		return nil, err
	}
	data, err := webhook.Rotate(sec.Data, now, grace)
	if err != nil {
		return nil, err
	}
	sec.Data = data
	conflict := newError(problemSecretRotationConflict, "the signing secret was changed by a concurrent request; GET /v1/webhooks/secret to see it, and rotate again if you still need to")
	if err := s.writer.Update(ctx, sec); err != nil {
		return nil, fromKube(err, kubeAnswers{conflict: conflict, notFound: conflict})
	}
	return sec, nil
}

// redeliverAttempts bounds the retries of the annotation patch on conflicts.
const redeliverAttempts = 5

// requestRedelivery adds delivery id to the redeliver annotation, which the
// controller consumes (it resets the deliveries named there and removes the
// annotation). The merge patch carries the resourceVersion it was computed
// from, so an id another request added, or the controller's removal, is
// never overwritten: on a conflict the job is re-read and the patch redone.
// An id already in the annotation needs no write: asking twice is asking once.
func (s *store) requestRedelivery(ctx context.Context, aj *v1alpha1.AsyncJob, id string) error {
	gone := jobNotFound(aj.Name)
	for range redeliverAttempts {
		ids := strings.Fields(aj.Annotations[v1alpha1.AnnotationWebhookRedeliver])
		if slices.Contains(ids, id) {
			return nil
		}
		patch, err := json.Marshal(map[string]any{"metadata": map[string]any{
			"resourceVersion": aj.ResourceVersion,
			"annotations":     map[string]string{v1alpha1.AnnotationWebhookRedeliver: strings.Join(append(ids, id), " ")},
		}})
		if err != nil {
			return err
		}
		err = s.writer.Patch(ctx, aj, client.RawPatch(types.MergePatchType, patch))
		if err == nil {
			return nil
		}
		if !apierrors.IsConflict(err) {
			return fromKube(err, kubeAnswers{notFound: gone})
		}
		fresh := &v1alpha1.AsyncJob{}
		if err := s.api.Get(ctx, client.ObjectKeyFromObject(aj), fresh); err != nil {
			return fromKube(err, kubeAnswers{notFound: gone})
		}
		if fresh.UID != aj.UID {
			return gone
		}
		aj = fresh
	}
	return newError(problemUnavailable, "the job changes too often to record the redelivery right now; retry").withRetryAfter(1)
}
