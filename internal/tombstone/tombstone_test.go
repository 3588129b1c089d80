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

package tombstone

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var t0 = time.Date(2026, 12, 2, 5, 0, 0, 0, time.UTC)

func TestRecordAddsOnce(t *testing.T) {
	s := Set{}
	if !s.Record("a", "acme", t0, time.Hour, 10) {
		t.Fatal("first record: want a change")
	}
	want := Set{"a": {Tenant: "acme", RemovedAt: t0, GoneUntil: t0.Add(time.Hour)}}
	if d := cmp.Diff(want, s); d != "" {
		t.Fatalf("after one record (-want +got):\n%s", d)
	}
	// A repeated pass, later, with another retention: nothing moves, so no write.
	if s.Record("a", "acme", t0.Add(time.Minute), 2*time.Hour, 10) {
		t.Error("repeated record: want no change")
	}
	if d := cmp.Diff(want, s); d != "" {
		t.Errorf("after a repeated record (-want +got):\n%s", d)
	}
}

func TestDataRoundTrip(t *testing.T) {
	s := Set{}
	s.Record("a", "acme", t0, time.Hour, 10)
	s.Record("b", "other", t0.Add(time.Second), time.Hour, 10)
	data := s.Data()
	if d := cmp.Diff(s, Parse(data)); d != "" {
		t.Errorf("Parse(Data()) (-want +got):\n%s", d)
	}
	data["junk"] = "{not json"
	if _, ok := Parse(data)["junk"]; ok {
		t.Error("an entry that does not parse must be dropped")
	}
}

func TestRecordCapsOldestFirst(t *testing.T) {
	s := Set{}
	for i := range 5 {
		s.Record(fmt.Sprintf("j%d", i), "acme", t0.Add(time.Duration(i)*time.Second), time.Hour, 3)
	}
	if len(s) != 3 {
		t.Fatalf("%d entries, want the cap of 3", len(s))
	}
	for _, id := range []string{"j2", "j3", "j4"} {
		if _, ok := s[id]; !ok {
			t.Errorf("%s dropped; the oldest (j0, j1) should go first: %v", id, s)
		}
	}
	// Equal removal times: the id decides, so every replica drops the same.
	same := Set{}
	for _, id := range []string{"c", "a", "b"} {
		same[id] = Entry{Tenant: "acme", RemovedAt: t0, GoneUntil: t0.Add(time.Hour)}
	}
	same.Prune(t0, 2)
	if _, ok := same["a"]; ok || len(same) != 2 {
		t.Errorf("with equal times, want a dropped: %v", same)
	}
}

func TestPruneByAge(t *testing.T) {
	s := Set{}
	s.Record("old", "acme", t0, time.Minute, 10)
	s.Record("new", "acme", t0.Add(30*time.Second), time.Minute, 10)
	if s.Prune(t0.Add(59*time.Second), 10) {
		t.Error("nothing has expired yet")
	}
	if !s.Prune(t0.Add(time.Minute), 10) {
		t.Error("old expired at t0+1m: want a change")
	}
	if _, ok := s["old"]; ok || len(s) != 1 {
		t.Errorf("want only new left: %v", s)
	}
	// Recording prunes too.
	if !s.Record("new", "acme", t0.Add(2*time.Minute), time.Minute, 10) || len(s) != 0 {
		t.Errorf("a record after new expired: want it pruned, got %v", s)
	}
}

func TestGone(t *testing.T) {
	s := Set{}
	s.Record("a", "acme", t0, time.Hour, 10)
	data := s.Data()
	cases := []struct {
		name, id, tenant string
		at               time.Time
		want             bool
	}{
		{"its tenant, within retention", "a", "acme", t0.Add(59 * time.Minute), true},
		{"another tenant", "a", "other", t0, false},
		{"after retention", "a", "acme", t0.Add(time.Hour), false},
		{"never removed", "b", "acme", t0, false},
	}
	for _, c := range cases {
		if got := Gone(data, c.id, c.tenant, c.at); got != c.want {
			t.Errorf("%s: Gone = %v, want %v", c.name, got, c.want)
		}
	}
	if Gone(map[string]string{"a": "junk"}, "a", "acme", t0) {
		t.Error("an entry that does not parse is not a tombstone")
	}
}
