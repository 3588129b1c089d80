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

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/asyncjob/asyncjob/api/v1alpha1"
)

// maxOutputs is status.outputs' maxItems in the CRD: the API server would
// refuse one more, so the API refuses it first, before storing anything.
const maxOutputs = 32

// outputRefusal says why aj cannot take an output named name now, or nil.
// The worker route checks it before storing the file, and recordOutput
// again on every fresh read of the job.
func outputRefusal(aj *v1alpha1.AsyncJob, name string) *apiError {
	switch {
	case aj.DeletionTimestamp != nil:
		return newError(problemJobGone, "job %s is being deleted; its worker can no longer store outputs", aj.Name)
	case aj.Status.State.IsFinished():
		return newError(problemJobFinished, "job %s is already %s; its outputs can no longer change", aj.Name, statusOf(aj.Status.State))
	}
	if _, ok := findRecord(aj.Spec.Inputs, name); ok {
		return newError(problemArtifactNameTaken, "job %s has an input named %q; an output needs another name (a name is unique across a job's inputs and outputs)", aj.Name, name)
	}
	if _, ok := findRecord(aj.Status.Outputs, name); !ok && len(aj.Status.Outputs) >= maxOutputs {
		return newError(problemValidationFailed, "job %s has %d outputs already, the most a job may have", aj.Name, maxOutputs)
	}
	return nil
}

// recordOutput records out in status.outputs of aj (as workerAuth read it),
// replacing an output of the same name. It is a JSON merge patch of
// status.outputs alone with the resourceVersion it was decided on as a
// precondition: a concurrent write (the controller finishing or cancelling
// the job, another output) makes it fail, and it is decided again on a fresh
// read, so an output is never recorded on a finished job and no other
// output is lost.
func (s *store) recordOutput(ctx context.Context, aj *v1alpha1.AsyncJob, out v1alpha1.Artifact) error {
	uid := aj.UID
	aj = aj.DeepCopy()
	gone := newError(problemJobGone, "job %s was deleted; its worker can no longer store outputs", aj.Name)
	for range maxStatusAttempts {
		if aj.UID != uid {
			return gone
		}
		if refusal := outputRefusal(aj, out.Name); refusal != nil {
			return refusal
		}
		patch := client.MergeFromWithOptions(aj.DeepCopy(), client.MergeFromWithOptimisticLock{})
		outputs := make([]v1alpha1.Artifact, 0, len(aj.Status.Outputs)+1)
		replaced := false
		for _, o := range aj.Status.Outputs {
			if o.Name == out.Name {
				o, replaced = out, true
			}
			outputs = append(outputs, o)
		}
		if !replaced {
			outputs = append(outputs, out)
		}
		aj.Status.Outputs = outputs
		err := s.writer.Status().Patch(ctx, aj, patch)
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
		aj = fresh
	}
	return busy()
}
