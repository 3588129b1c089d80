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

	"github.com/asyncjob/asyncjob/api/v1alpha1"
)

// JobQueue is a waiting job's place in line: absent when unknown, never guessed.
type JobQueue struct {
	// Name is the queue: for a type with spec.kueue, its Kueue LocalQueue.
	Name string `json:"name"`
	// Position is 1 for the next job to be admitted.
	Position int `json:"position"`
	// Ahead is how many jobs wait ahead of this one.
	Ahead int `json:"ahead"`
}

// withQueue adds the job's place in line to its representation, when known.
func (s *Server) withQueue(ctx context.Context, aj *v1alpha1.AsyncJob, job *Job) {
	if aj.Status.State != v1alpha1.StatePending {
		return
	}
	jobType := s.store.cachedType(ctx, aj.Spec.Type)
	if name, position, ahead, ok := s.store.kueuePosition(ctx, aj, jobType); ok {
		job.Queue = &JobQueue{Name: name, Position: position, Ahead: ahead}
	}
}
