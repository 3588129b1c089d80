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
	"sync"

	"k8s.io/apimachinery/pkg/types"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/internal/paramschema"
)

// schemaCache keeps each type's compiled parameters schema per generation, so a
// burst of AsyncJobs of one type compiles its schema once.
type schemaCache struct {
	mu      sync.Mutex
	entries map[types.UID]schemaEntry
}

type schemaEntry struct {
	generation int64
	schema     *paramschema.Schema
	err        error
}

func newSchemaCache() *schemaCache {
	return &schemaCache{entries: map[types.UID]schemaEntry{}}
}

func (c *schemaCache) get(t *asyncjobv1alpha1.AsyncJobType) (*paramschema.Schema, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[t.UID]; ok && e.generation == t.Generation {
		return e.schema, e.err
	}
	var raw []byte
	if t.Spec.ParametersSchema != nil {
		raw = t.Spec.ParametersSchema.Raw
	}
	s, err := paramschema.Compile(raw)
	c.entries[t.UID] = schemaEntry{generation: t.Generation, schema: s, err: err}
	return s, err
}

// forget drops a deleted type's entry.
func (c *schemaCache) forget(uid types.UID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, uid)
}

// formatFieldErrors renders schema failures for a condition message and a
// Failure: "/format: value must be one of ...; /input: is required".
func formatFieldErrors(errs []paramschema.FieldError) string {
	out := ""
	for i, e := range errs {
		if i > 0 {
			out += "; "
		}
		p := e.Pointer
		if p == "" {
			p = "(parameters)"
		}
		out += p + ": " + e.Detail
	}
	return truncateMessage(out)
}
