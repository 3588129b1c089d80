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
	"bytes"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"k8s.io/client-go/rest"
)

// requestKey is one series of kube-apiserver's apiserver_request_total, without
// the response code, scope and version.
type requestKey struct {
	Verb     string // POST, PUT, PATCH, APPLY, DELETE, GET, LIST, WATCH, ...
	Resource string // resource, or resource/subresource (pods/status, pods/binding)
}

// requestCounts is a snapshot of kube-apiserver's request counters.
type requestCounts map[requestKey]float64

// writeVerbs are the verbs that change stored state, as kube-apiserver labels
// them (the HTTP method; APPLY for a server-side apply patch).
var writeVerbs = map[string]bool{"POST": true, "PUT": true, "PATCH": true, "APPLY": true, "DELETE": true, "DELETECOLLECTION": true}

// readVerbs are single reads and lists; a WATCH is counted once when it opens,
// so it is reported apart.
var readVerbs = map[string]bool{"GET": true, "LIST": true}

// apiCounters is a snapshot of kube-apiserver's counters: requests by verb
// and resource, and requests dispatched per FlowSchema (per client, for the
// benchmark's own FlowSchemas; see identity.go).
type apiCounters struct {
	requests requestCounts
	flows    map[string]float64
}

// since is the counts between before and c.
func (c apiCounters) since(before apiCounters) apiCounters {
	out := apiCounters{requests: c.requests.since(before.requests), flows: map[string]float64{}}
	for k, v := range c.flows {
		if d := v - before.flows[k]; d > 0 {
			out.flows[k] = d
		}
	}
	return out
}

// scrapeCounters reads apiserver_request_total and
// apiserver_flowcontrol_dispatched_requests_total from kube-apiserver's
// /metrics (with an admin client: the endpoint needs authorization).
func scrapeCounters(ctx context.Context, rc rest.Interface) (apiCounters, error) {
	raw, err := rc.Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return apiCounters{}, fmt.Errorf("scraping kube-apiserver /metrics: %w", err)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(raw))
	if err != nil {
		return apiCounters{}, fmt.Errorf("parsing kube-apiserver /metrics: %w", err)
	}
	fam, ok := families["apiserver_request_total"]
	if !ok {
		return apiCounters{}, fmt.Errorf("kube-apiserver /metrics has no apiserver_request_total")
	}
	flows := map[string]float64{}
	for _, m := range families["apiserver_flowcontrol_dispatched_requests_total"].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "flow_schema" {
				flows[l.GetValue()] += m.GetCounter().GetValue()
			}
		}
	}
	out := requestCounts{}
	for _, m := range fam.GetMetric() {
		var k requestKey
		var sub string
		for _, l := range m.GetLabel() {
			switch l.GetName() {
			case "verb":
				k.Verb = l.GetValue()
			case "resource":
				k.Resource = l.GetValue()
			case "subresource":
				sub = l.GetValue()
			}
		}
		if sub != "" {
			k.Resource += "/" + sub
		}
		out[k] += m.GetCounter().GetValue()
	}
	return apiCounters{requests: out, flows: flows}, nil
}

// perClient is the requests each benchmark identity sent, divided by n, by
// the report's name for it.
func (c apiCounters) perClient(n int) map[string]float64 {
	out := map[string]float64{}
	for id, name := range identityNames {
		out[name] = c.flows[id] / float64(n)
	}
	return out
}

// since is the number of requests of each series between before and c.
func (c requestCounts) since(before requestCounts) requestCounts {
	out := requestCounts{}
	for k, v := range c {
		if d := v - before[k]; d > 0 {
			out[k] = d
		}
	}
	return out
}

// byResource sums the requests whose verb is in verbs, per resource.
func (c requestCounts) byResource(verbs map[string]bool) map[string]float64 {
	out := map[string]float64{}
	for k, v := range c {
		if verbs[k.Verb] {
			out[k.Resource] += v
		}
	}
	return out
}

// writeGroups are the columns of the writes table: what one job costs, by
// resource, status apart. Everything else (node heartbeats, leases) goes to
// "other".
var writeGroups = []string{"asyncjobs", "asyncjobs/status", "jobs", "jobs/status", "pods", "pods/status", "events"}

// groupWrites folds per-resource writes into writeGroups plus "other", each
// divided by n; subresources other than status (pods/binding) count with
// their resource.
func groupWrites(byRes map[string]float64, n int) map[string]float64 {
	out := map[string]float64{}
	for _, res := range slices.Sorted(maps.Keys(byRes)) {
		base, sub, _ := strings.Cut(res, "/")
		group := base
		if sub == "status" {
			group = res
		}
		if !slices.Contains(writeGroups, group) {
			group = "other"
		}
		out[group] += byRes[res] / float64(n)
	}
	return out
}
