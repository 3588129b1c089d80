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

package e2e

import (
	"context"
	"testing"

	"k8s.io/apimachinery/pkg/types"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/test/stack"
	"github.com/asyncjob/asyncjob/test/storagewatch"
)

// jobCreations is the whole run's watch of Job creations, in etcd, from before
// the first submission on, so "one AsyncJob, one Job" is checked on every Job
// ever created, not on what is left at the end: a Job deleted and recreated
// under the same name counts as a second creation.
type jobCreations struct {
	*storagewatch.JobCreations
}

// requireOneJobEach fails t unless each of the jobs got exactly one Job,
// created once, over the whole run so far.
func (j *jobCreations) requireOneJobEach(t *testing.T, ids []string) map[string]types.UID {
	t.Helper()
	ctx := context.Background()
	if err := j.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	seen, err := j.ByOwner()
	if err != nil {
		t.Fatal(err)
	}
	jobUIDs := map[string]types.UID{}
	for _, id := range ids {
		aj := &asyncjobv1alpha1.AsyncJob{}
		if err := s.Client.Get(ctx, types.NamespacedName{Namespace: stack.Namespace(tenant), Name: id}, aj); err != nil {
			t.Fatalf("job %s: %v", id, err)
		}
		rec, ok := seen[aj.UID]
		if !ok || rec.Created != 1 || len(rec.UIDs) != 1 {
			t.Errorf("job %s: the watch on Jobs saw %+v, want exactly one Job created once", id, rec)
			continue
		}
		jobUIDs[id] = rec.UIDs[0]
	}
	return jobUIDs
}
