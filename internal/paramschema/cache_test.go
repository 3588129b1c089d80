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
	"sync/atomic"
	"testing"

	"k8s.io/apimachinery/pkg/types"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/test/wrappers"
)

func cacheType(name string, uid types.UID, generation int64, schema string) *asyncjobv1alpha1.AsyncJobType {
	return wrappers.MakeAsyncJobType(name).UID(string(uid)).Generation(generation).Schema(schema).Obj()
}

// countingCache counts the compilations of a cache.
func countingCache() (*Cache, *atomic.Int32) {
	c := NewCache()
	var n atomic.Int32
	c.compile = func(doc []byte) (*Schema, error) {
		n.Add(1)
		return Compile(doc)
	}
	return c, &n
}

func mustForType(t *testing.T, c *Cache, jt *asyncjobv1alpha1.AsyncJobType) {
	t.Helper()
	if _, err := c.ForType(jt); err != nil {
		t.Fatal(err)
	}
}

func TestCacheCompilesOncePerGeneration(t *testing.T) {
	c, compiles := countingCache()
	v1 := cacheType("convert", "uid-1", 1, `{"type":"object","required":["a"]}`)
	first, err := c.ForType(v1)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := c.ForType(v1); again != first || compiles.Load() != 1 {
		t.Errorf("the same generation: got a new schema %v, compiled %d times, want the cached one, compiled once", again != first, compiles.Load())
	}
	v2 := cacheType("convert", "uid-1", 2, `{"type":"object"}`)
	if s, _ := c.ForType(v2); s == first || len(s.Validate([]byte(`{}`))) != 0 {
		t.Errorf("a new generation must be compiled again")
	}
	// A reader with the older generation (a lagging informer) gets its own
	// schema but does not evict the newer one.
	if s, _ := c.ForType(v1); len(s.Validate([]byte(`{}`))) != 1 {
		t.Errorf("the older generation's schema should require a")
	}
	before := compiles.Load()
	if _, err := c.ForType(v2); err != nil || compiles.Load() != before {
		t.Errorf("generation 2 was evicted by a read of generation 1: compiled %d more times", compiles.Load()-before)
	}
}

func TestCacheForgetsByName(t *testing.T) {
	c, compiles := countingCache()
	mustForType(t, c, cacheType("convert", "uid-1", 1, `{"type":"object"}`))
	mustForType(t, c, cacheType("report", "uid-2", 1, `{"type":"object"}`))
	// The reconcile request of a deleted type carries only its name.
	c.Forget("convert")
	if _, ok := c.entries["convert"]; ok || len(c.entries) != 1 {
		t.Errorf("entries after Forget(convert): %v, want only report", c.entries)
	}
	// A type re-created under the same name is a new object: compiled afresh.
	before := compiles.Load()
	recreated := cacheType("report", "uid-3", 1, `{"type":"object","required":["b"]}`)
	if s, _ := c.ForType(recreated); compiles.Load() != before+1 || len(s.Validate([]byte(`{}`))) != 1 {
		t.Errorf("a re-created type (new UID, same generation) was served the old schema")
	}
	if len(c.entries) != 1 || c.entries["report"].uid != "uid-3" {
		t.Errorf("the re-created type should replace the old entry, entries %v", c.entries)
	}
}

// TestCacheCompilesWithoutTheLock: while one type compiles, the cache's lock is
// free, so other types are served.
func TestCacheCompilesWithoutTheLock(t *testing.T) {
	c := NewCache()
	mustForType(t, c, cacheType("cached", "uid-0", 1, `{"type":"object"}`))
	lockFree := false
	c.compile = func(doc []byte) (*Schema, error) {
		if c.mu.TryLock() {
			lockFree = true
			c.mu.Unlock()
		}
		return Compile(doc)
	}
	if _, err := c.ForType(cacheType("slow", "uid-1", 1, `{"type":"object"}`)); err != nil {
		t.Fatal(err)
	}
	if !lockFree {
		t.Errorf("the cache's mutex was held during compilation")
	}
}

// TestCacheConcurrentRequestsConverge: concurrent first requests for one type
// may each compile it, but they leave one entry that later requests use.
func TestCacheConcurrentRequestsConverge(t *testing.T) {
	c, compiles := countingCache()
	jt := cacheType("convert", "uid-1", 1, `{"type":"object","required":["a"]}`)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			s, err := c.ForType(jt)
			if err != nil || len(s.Validate([]byte(`{}`))) != 1 {
				t.Errorf("ForType() = %v, %v", s, err)
			}
		})
	}
	wg.Wait()
	if len(c.entries) != 1 {
		t.Fatalf("entries %v, want one", c.entries)
	}
	cached := c.entries["convert"].schema
	before := compiles.Load()
	if s, _ := c.ForType(jt); s != cached || compiles.Load() != before {
		t.Errorf("after the concurrent requests: compiled again (%d) or served another schema", compiles.Load()-before)
	}
}
