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
	"strings"
	"time"

	"github.com/google/uuid"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/internal/tombstone"
)

// getJob returns the tenant's job id from namespace ns. A job of another tenant,
// or an id that is not a job id, is "not found", never "forbidden".
func (s *store) getJob(ctx context.Context, ns, tenant, id string) (*v1alpha1.AsyncJob, error) {
	// Only the canonical lowercase form is a job id; anything else cannot name
	// a job, so answer without asking the API server.
	if _, err := uuid.Parse(id); err != nil || len(id) != 36 || id != strings.ToLower(id) {
		return nil, jobNotFound(id)
	}
	key := types.NamespacedName{Namespace: ns, Name: id}
	var aj v1alpha1.AsyncJob
	err := s.cache.Get(ctx, key, &aj)
	if apierrors.IsNotFound(err) {
		// The cache may not have caught up with a job this or another replica
		// just created: ask the API server before answering 404, so a GET
		// right after its POST never misses.
		err = s.api.Get(ctx, key, &aj)
	}
	if apierrors.IsNotFound(err) && s.removedAfterTTL(ctx, ns, tenant, id) {
		return nil, jobRemoved(id)
	}
	if err != nil {
		return nil, fromKube(err, kubeAnswers{notFound: jobNotFound(id)})
	}
	if aj.Labels[v1alpha1.LabelTenant] != tenant {
		return nil, jobNotFound(id)
	}
	return &aj, nil
}

func jobNotFound(id string) *apiError {
	return newError(problemJobNotFound, "no job %q exists for this client", id)
}

// jobRemoved answers every route of a job the controller removed after its
// TTL, for as long as its tombstone lasts. Its detail is the same for every
// such job, bar the id.
func jobRemoved(id string) *apiError {
	return newError(problemJobExpired, "job %q was removed after its time to live; its record is no longer kept", id)
}

// removedAfterTTL reports whether the tenant's job id has a live tombstone in
// ns (internal/tombstone), read from the cache: a lookup of a missing job costs
// no API-server call for it. Another tenant's tombstone is not seen, so that
// tenant gets the same 404 as for a job that never existed. A cache that
// cannot answer means "no tombstone": 404 is the safe answer.
func (s *store) removedAfterTTL(ctx context.Context, ns, tenant, id string) bool {
	var cm corev1.ConfigMap
	if err := s.cache.Get(ctx, types.NamespacedName{Namespace: ns, Name: tombstone.ConfigMapName}, &cm); err != nil {
		return false
	}
	return tombstone.Gone(cm.Data, id, tenant, time.Now())
}

// createJob creates aj. When its name is taken (an id derived from an
// Idempotency-Key that was used before), it creates nothing and returns the job
// that holds the name, with taken=true; that job is read from the API server,
// since it may be too new for the cache.
func (s *store) createJob(ctx context.Context, aj *v1alpha1.AsyncJob) (*v1alpha1.AsyncJob, bool, error) {
	err := s.writer.Create(ctx, aj)
	if err == nil {
		return aj, false, nil
	}
	if !apierrors.IsAlreadyExists(err) {
		return nil, false, fromKube(err, kubeAnswers{})
	}
	var existing v1alpha1.AsyncJob
	if err := s.api.Get(ctx, client.ObjectKeyFromObject(aj), &existing); err != nil {
		// Deleted between our create and this read: the name is free again,
		// but retrying here could loop; let the client retry.
		removed := newError(problemUnavailable, "a job with this Idempotency-Key is being removed; retry").withRetryAfter(1)
		return nil, false, fromKube(err, kubeAnswers{notFound: removed})
	}
	return &existing, true, nil
}

// requestCancel sets aj's spec.cancel and updates aj to the result. A merge
// patch of one field: no read-modify-write race with the controller's status
// writes, and CEL forbids ever unsetting it.
func (s *store) requestCancel(ctx context.Context, aj *v1alpha1.AsyncJob) error {
	patch := client.RawPatch(types.MergePatchType, []byte(`{"spec":{"cancel":true}}`))
	return fromKube(s.writer.Patch(ctx, aj, patch), kubeAnswers{notFound: jobNotFound(aj.Name)})
}

// deleteJob deletes aj with foreground propagation, so its Job and pods go
// first. The UID precondition deletes exactly the object that was authorised,
// not a namesake created since: a failed precondition means that job is gone.
func (s *store) deleteJob(ctx context.Context, aj *v1alpha1.AsyncJob) error {
	err := s.writer.Delete(ctx, aj,
		client.PropagationPolicy(metav1.DeletePropagationForeground),
		client.Preconditions{UID: &aj.UID})
	gone := jobNotFound(aj.Name)
	return fromKube(err, kubeAnswers{notFound: gone, conflict: gone})
}
