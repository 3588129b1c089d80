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
	"fmt"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
)

// apiKeyHashes returns the entries of the API-key Secret (entry name -> key
// hash), read through the informer cache, so a rotated key applies without a
// restart. A missing Secret has no entries: nobody can authenticate.
func (s *store) apiKeyHashes(ctx context.Context, secret types.NamespacedName) (map[string][]byte, error) {
	var sec corev1.Secret
	err := s.cache.Get(ctx, secret, &sec)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fromKube(fmt.Errorf("reading API keys: %w", err), kubeAnswers{})
	}
	return sec.Data, nil
}

// reviewToken asks the API server whether token is valid (for audiences, when
// any are given) and whose it is.
func (s *store) reviewToken(ctx context.Context, token string, audiences []string) (authenticationv1.TokenReviewStatus, error) {
	review := &authenticationv1.TokenReview{Spec: authenticationv1.TokenReviewSpec{Token: token, Audiences: audiences}}
	if err := s.writer.Create(ctx, review); err != nil {
		return authenticationv1.TokenReviewStatus{}, fromKube(fmt.Errorf("token review: %w", err), kubeAnswers{})
	}
	return review.Status, nil
}
