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

package paramschema

import (
	"sync"

	"k8s.io/apimachinery/pkg/types"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
)

// Cache keeps each AsyncJobType's compiled schema for its current generation,
// so a burst of submissions or reconciles of one type compiles it once. It is
// derived state: two processes with their own caches cannot disagree.
type Cache struct {
	mu      sync.Mutex
	entries map[types.UID]cacheEntry
}

type cacheEntry struct {
	generation int64
	schema     *Schema
	err        error
}

// NewCache returns an empty cache.
func NewCache() *Cache {
	return &Cache{entries: map[types.UID]cacheEntry{}}
}

// ForType returns the type's compiled parametersSchema, or why it does not compile.
func (c *Cache) ForType(t *asyncjobv1alpha1.AsyncJobType) (*Schema, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[t.UID]; ok && e.generation == t.Generation {
		return e.schema, e.err
	}
	var doc []byte
	if t.Spec.ParametersSchema != nil {
		doc = t.Spec.ParametersSchema.Raw
	}
	s, err := Compile(doc)
	c.entries[t.UID] = cacheEntry{generation: t.Generation, schema: s, err: err}
	return s, err
}

// Forget drops a deleted type's entry.
func (c *Cache) Forget(uid types.UID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, uid)
}
