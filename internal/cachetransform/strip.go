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

// Package cachetransform trims what informer caches keep of each object to
// what asyncjob reads: a process holds every AsyncJob (100,000 and more), so
// bookkeeping that only the API server and kubectl use is most of its memory.
package cachetransform

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
)

// StripManagedFields drops metadata.managedFields (server-side apply's
// field ownership, often larger than the object's own fields). Safe for any
// object a process reads, patches or updates: nothing in asyncjob reads
// them, and an update that carries no managedFields leaves the server's as
// they are (an empty list does not reset them).
func StripManagedFields() toolscache.TransformFunc { return cache.TransformStripManagedFields() }

// StripForReading drops managedFields and kubectl's last-applied-configuration
// annotation (a full copy of the object as last applied; for an applied
// Secret, its data). Only for objects the process never updates whole from
// its cache: an update without the annotation would remove it from the
// server. Status updates, merge patches computed against the cached copy and
// reads are safe: none of them sends the annotation or its absence.
func StripForReading() toolscache.TransformFunc {
	stripManaged := cache.TransformStripManagedFields()
	return func(in any) (any, error) {
		out, err := stripManaged(in)
		if err != nil {
			return out, err
		}
		obj, err := meta.Accessor(out)
		if err != nil {
			return out, nil // not an object (a tombstone): nothing to strip
		}
		if a := obj.GetAnnotations(); a != nil {
			if _, ok := a[corev1.LastAppliedConfigAnnotation]; ok {
				delete(a, corev1.LastAppliedConfigAnnotation)
				if len(a) == 0 {
					obj.SetAnnotations(nil)
				}
			}
		}
		return out, nil
	}
}
