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
	"io"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"

	"github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/internal/artifact"
)

// jobByName reads the AsyncJob ns/name from the API server, not the cache:
// an upload checks for a replay before it stores anything, and the job may
// have been created a moment ago.
func (s *store) jobByName(ctx context.Context, ns, name string) (*v1alpha1.AsyncJob, bool, error) {
	var aj v1alpha1.AsyncJob
	err := s.api.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, &aj)
	if apierrors.IsNotFound(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fromKube(err, kubeAnswers{})
	}
	return &aj, true, nil
}

// cleanupTimeout bounds removing a rejected upload's files.
const cleanupTimeout = 30 * time.Second

// storedInputs is what one upload has written to the artifact store, so a
// rejected upload can take it back.
type storedInputs struct {
	st      *artifact.Store
	ns, job string
	// shared: the job id comes from an Idempotency-Key, so another request
	// may upload under it too; only this request's own files are removed.
	shared bool
	names  []string
}

// put streams one file into the store. IfNotExist: a name already stored
// under this id is another request's (the same Idempotency-Key in flight),
// never overwritten.
func (si *storedInputs) put(ctx context.Context, name, contentType string, r io.Reader, maxBytes int64) (v1alpha1.Artifact, error) {
	a, err := si.st.Put(ctx, si.ns, si.job, artifact.Input, name, r, artifact.PutOptions{
		ContentType: contentType, MaxBytes: maxBytes, IfNotExist: true,
	})
	if err == nil {
		si.names = append(si.names, name)
	}
	return a, err
}

// remove deletes what the upload stored, with a context of its own: it runs
// because the request failed, often because its client went away. A file it
// cannot remove is logged: it has no AsyncJob, so no finalizer will.
func (si *storedInputs) remove(ctx context.Context, log func(error)) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	if !si.shared {
		// A random id is this request's alone: remove whatever is there,
		// including a write that failed after reaching the store.
		if _, err := si.st.DeleteAll(ctx, si.ns, si.job, artifact.Input); err != nil {
			log(err)
		}
		return
	}
	for _, name := range si.names {
		if err := si.st.Delete(ctx, si.ns, si.job, artifact.Input, name); err != nil {
			log(err)
		}
	}
}
