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

// Package queue is the built-in queue's judgement, shared by the controller
// (which admits) and the API (which shows a job its place in line). It is pure:
// no Kubernetes, no clock.
//
// Order: the waiting jobs of one type start by (priority, higher first;
// submission time, older first (SubmittedAt); name, then namespace), a total
// order, so every replica and every restart computes the same line.
//
// Fairness: the line is walked in that order and each free slot goes to the
// first job whose tenant is below its perTenant bound. A tenant at its bound is
// skipped, never waited for, so one tenant's backlog cannot hold back another
// tenant's jobs; within a tenant jobs still start strictly in order.
package queue

import (
	"slices"
	"strings"
	"time"

	"github.com/asyncjob/asyncjob/api/v1alpha1"
)

// Entry is one waiting job.
type Entry struct {
	Namespace string
	Name      string
	Tenant    string
	Priority  int32
	Created   time.Time
}

// Compare orders entries: negative when a starts before b.
func Compare(a, b Entry) int {
	switch {
	case a.Priority != b.Priority:
		if a.Priority > b.Priority {
			return -1
		}
		return 1
	case !a.Created.Equal(b.Created):
		return a.Created.Compare(b.Created)
	case a.Name != b.Name:
		return strings.Compare(a.Name, b.Name)
	}
	return strings.Compare(a.Namespace, b.Namespace)
}

// Order returns the entries sorted in the order they start.
func Order(waiting []Entry) []Entry {
	out := slices.Clone(waiting)
	slices.SortStableFunc(out, Compare)
	return out
}

// Bounds are a type's concurrency bounds; zero means unbounded.
type Bounds struct {
	Max       int
	PerTenant int
}

// Running counts the jobs of a type that run now: unsuspended and unfinished.
type Running struct {
	Total     int
	PerTenant map[string]int
}

// Admit chooses which waiting jobs start now, in the order they start: as many
// as the free slots allow, skipping jobs whose tenant is at its bound. It never
// takes the running count past either bound, and it starts nothing when the
// bound is already exceeded (for instance after the bound was lowered).
func Admit(waiting []Entry, running Running, b Bounds) []Entry {
	total := running.Total
	perTenant := map[string]int{}
	for t, n := range running.PerTenant {
		perTenant[t] = n
	}
	var start []Entry
	for _, e := range Order(waiting) {
		if b.Max > 0 && total >= b.Max {
			break
		}
		if b.PerTenant > 0 && perTenant[e.Tenant] >= b.PerTenant {
			continue // fairness: this tenant's backlog does not block the others
		}
		start = append(start, e)
		total++
		perTenant[e.Tenant]++
	}
	return start
}

// Ahead counts the waiting jobs that start before e (e itself excluded, and
// so are entries equal to it). It is O(n) and needs no sorted input, so the
// API can answer a read from its cache without sorting the whole line.
func Ahead(waiting []Entry, e Entry) int {
	n := 0
	for _, w := range waiting {
		if Compare(w, e) < 0 {
			n++
		}
	}
	return n
}

// EstimateStart estimates when the job at position (1 = next) starts, from the
// mean running time of the type's recent jobs and its number of slots: the
// line moves by slots jobs every mean, and it last moved at moved (the latest
// start or end of one of the type's jobs), so the job starts about
// ceil(position/slots) means after moved. Anchoring on moved rather than on
// the time of the read keeps the estimate, and so the representation's ETag,
// unchanged until the line moves. ok is false without history (or slots).
func EstimateStart(moved time.Time, position int, slots int, meanRun time.Duration) (time.Time, bool) {
	if meanRun <= 0 || slots <= 0 || position <= 0 || moved.IsZero() {
		return time.Time{}, false
	}
	rounds := (position + slots - 1) / slots
	return moved.Add(time.Duration(rounds) * meanRun), true
}

// SubmittedAt is when an AsyncJob was submitted, for its place in line: the
// API's sub-second annotation when it is there and not after the creation
// (it cannot be later than its own object), else creationTimestamp.
func SubmittedAt(aj *v1alpha1.AsyncJob) time.Time {
	created := aj.CreationTimestamp.Time
	if v, ok := aj.Annotations[v1alpha1.AnnotationSubmittedAt]; ok {
		// creationTimestamp is truncated to the second: allow the one second.
		if t, err := time.Parse(time.RFC3339Nano, v); err == nil && !created.IsZero() && t.Before(created.Add(time.Second)) && !t.Before(created.Add(-time.Minute)) {
			return t
		}
	}
	return created
}
