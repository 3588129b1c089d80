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
//
// Entries are keyed by the type's name, so a type can be forgotten by the name
// a reconcile request carries even when the object itself is gone (a Delete
// event, or a type deleted while the watch was down). A type re-created under
// the same name has a new UID and replaces the old entry.
type Cache struct {
	mu      sync.Mutex
	entries map[string]cacheEntry
	// compile is Compile; tests observe it.
	compile func(doc []byte) (*Schema, error)
}

type cacheEntry struct {
	uid        types.UID
	generation int64
	schema     *Schema
	err        error
}

// NewCache returns an empty cache.
func NewCache() *Cache {
	return &Cache{entries: map[string]cacheEntry{}, compile: Compile}
}

// ForType returns the type's compiled parametersSchema, or why it does not
// compile. The schema is compiled without the lock held, so one slow schema
// does not stall every other type; two concurrent first requests for the same
// generation may both compile it, and both results are the same.
func (c *Cache) ForType(t *asyncjobv1alpha1.AsyncJobType) (*Schema, error) {
	c.mu.Lock()
	e, ok := c.entries[t.Name]
	c.mu.Unlock()
	if ok && e.uid == t.UID && e.generation == t.Generation {
		return e.schema, e.err
	}

	var doc []byte
	if t.Spec.ParametersSchema != nil {
		doc = t.Spec.ParametersSchema.Raw
	}
	s, err := c.compile(doc)

	c.mu.Lock()
	defer c.mu.Unlock()
	// A caller holding an older generation of the type (a lagging informer)
	// must not replace the entry of a newer one.
	if cur, ok := c.entries[t.Name]; !ok || cur.uid != t.UID || cur.generation < t.Generation {
		c.entries[t.Name] = cacheEntry{uid: t.UID, generation: t.Generation, schema: s, err: err}
	}
	return s, err
}

// Has reports whether the named type has an entry.
func (c *Cache) Has(name string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.entries[name]
	return ok
}

// Forget drops the entry of a deleted type.
func (c *Cache) Forget(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, name)
}
