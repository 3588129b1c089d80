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

package bench

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestGroupWrites(t *testing.T) {
	before := requestCounts{
		{Verb: "POST", Resource: "jobs"}:    10,
		{Verb: "GET", Resource: "jobs"}:     3,
		{Verb: "PUT", Resource: "leases"}:   5,
		{Verb: "PATCH", Resource: "events"}: 1,
	}
	after := requestCounts{
		{Verb: "POST", Resource: "jobs"}:          14,
		{Verb: "GET", Resource: "jobs"}:           9,
		{Verb: "PUT", Resource: "jobs/status"}:    4,
		{Verb: "POST", Resource: "pods"}:          4,
		{Verb: "POST", Resource: "pods/binding"}:  4,
		{Verb: "PATCH", Resource: "pods/status"}:  8,
		{Verb: "APPLY", Resource: "asyncjobs"}:    2,
		{Verb: "DELETE", Resource: "asyncjobs"}:   2,
		{Verb: "PUT", Resource: "leases"}:         7,
		{Verb: "PATCH", Resource: "events"}:       1,
		{Verb: "WATCH", Resource: "asyncjobs"}:    1,
		{Verb: "LIST", Resource: "asyncjobtypes"}: 1,
	}
	got := groupWrites(after.since(before).byResource(writeVerbs), 4)
	flows := apiCounters{flows: map[string]float64{identityAPI: 12, "global-default": 3}}.
		since(apiCounters{flows: map[string]float64{identityAPI: 4, "global-default": 3}}).perClient(4)
	if diff := cmp.Diff(map[string]float64{"asyncjob api": 2, "asyncjob controller": 0, "raw client": 0}, flows); diff != "" {
		t.Errorf("requests per client (-want +got):\n%s", diff)
	}
	want := map[string]float64{
		"jobs": 1, "jobs/status": 1, "pods": 2, "pods/status": 2, "asyncjobs": 1, "other": 0.5,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("groupWrites (-want +got):\n%s", diff)
	}
	reads := after.since(before).byResource(readVerbs)
	if diff := cmp.Diff(map[string]float64{"jobs": 6, "asyncjobtypes": 1}, reads); diff != "" {
		t.Errorf("reads by resource (-want +got):\n%s", diff)
	}
}
