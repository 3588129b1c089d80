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

// Package tombstone keeps a small record of the AsyncJobs the controller
// removed after their TTL, so that the REST API can answer 410 Gone for them
// for a while instead of 404. The record is one ConfigMap per tenant
// namespace: one data entry per removed job (its id -> who owned it, when it
// was removed, until when it answers Gone), bounded in number and in age. The
// controller writes it before it deletes the AsyncJob; the API reads it from
// an informer cache.
package tombstone

import (
	"encoding/json"
	"sort"
	"time"

	"github.com/asyncjob/asyncjob/api/v1alpha1"
)

const (
	// ConfigMapName is the name of the tombstone ConfigMap in each namespace.
	ConfigMapName = "asyncjob-tombstones"
	// Label marks tombstone ConfigMaps (LabelValue), so the API's cache holds only
	// asyncjob's ConfigMaps and never every ConfigMap in the cluster.
	Label = v1alpha1.LabelConfig
	// LabelValue is Label's value on tombstone ConfigMaps.
	LabelValue = v1alpha1.LabelConfigTombstones

	// DefaultRetention is how long a removed job answers Gone by default.
	DefaultRetention = 24 * time.Hour
	// DefaultMaxEntries bounds the tombstones of one namespace by default.
	DefaultMaxEntries = 1000
	// MaxEntriesLimit keeps a full ConfigMap far below the 1 MiB an object may
	// take in etcd: an entry is about 150 bytes.
	MaxEntriesLimit = 5000
)

// Entry is one removed job.
type Entry struct {
	// Tenant owned the job; only that tenant is told it is gone.
	Tenant string `json:"tenant"`
	// RemovedAt is when the controller removed it; the oldest go first when
	// the namespace holds too many.
	RemovedAt time.Time `json:"removedAt"`
	// GoneUntil is when its tombstone expires: afterwards the job is unknown
	// (404). Stored, not derived, so that the API needs no configuration of
	// its own and a changed retention applies to new removals only.
	GoneUntil time.Time `json:"goneUntil"`
}

// Set is a namespace's tombstones by job id (the AsyncJob's name).
type Set map[string]Entry

// Parse reads a ConfigMap's data. An entry that does not parse is dropped:
// the set is a hint for a better error, never a source of truth.
func Parse(data map[string]string) Set {
	s := make(Set, len(data))
	for id, raw := range data {
		var e Entry
		if json.Unmarshal([]byte(raw), &e) == nil {
			s[id] = e
		}
	}
	return s
}

// Data is the set as a ConfigMap's data.
func (s Set) Data() map[string]string {
	data := make(map[string]string, len(s))
	for id, e := range s {
		raw, _ := json.Marshal(e) // strings and times: cannot fail
		data[id] = string(raw)
	}
	return data
}

// Record adds the tombstone of job id, removed at now and gone for retention,
// unless the set holds one already (a repeated pass changes nothing); then
// drops the expired tombstones and, beyond maxEntries, the oldest. It reports
// whether the set changed, that is whether it must be written.
func (s Set) Record(id, tenant string, now time.Time, retention time.Duration, maxEntries int) bool {
	changed := false
	if _, ok := s[id]; !ok {
		s[id] = Entry{Tenant: tenant, RemovedAt: now.UTC().Truncate(time.Second), GoneUntil: now.Add(retention).UTC().Truncate(time.Second)}
		changed = true
	}
	return s.Prune(now, maxEntries) || changed
}

// Prune drops the tombstones expired at now and, while more than maxEntries
// remain, the oldest (by removal, then id, so every replica drops the same).
// It reports whether it dropped any.
func (s Set) Prune(now time.Time, maxEntries int) bool {
	changed := false
	for id, e := range s {
		if !now.Before(e.GoneUntil) {
			delete(s, id)
			changed = true
		}
	}
	if len(s) <= maxEntries {
		return changed
	}
	ids := make([]string, 0, len(s))
	for id := range s {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool {
		a, b := s[ids[i]], s[ids[j]]
		if !a.RemovedAt.Equal(b.RemovedAt) {
			return a.RemovedAt.Before(b.RemovedAt)
		}
		return ids[i] < ids[j]
	})
	for _, id := range ids[:len(ids)-max(maxEntries, 0)] {
		delete(s, id)
	}
	return true
}

// Gone reports whether data (a tombstone ConfigMap's) says that tenant's job
// id was removed and still answers Gone at now. It parses only that entry: the
// API calls it on every lookup of a job it does not have.
func Gone(data map[string]string, id, tenant string, now time.Time) bool {
	raw, ok := data[id]
	if !ok {
		return false
	}
	var e Entry
	if json.Unmarshal([]byte(raw), &e) != nil {
		return false
	}
	return e.Tenant == tenant && now.Before(e.GoneUntil)
}
