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
	"context"
	"sync"
	"time"
)

// submission is one job's submission as its client saw it.
type submission struct {
	key        string // namespace/name of the object it created
	start, end time.Time
	err        error
}

// submitAll submits n jobs from c concurrent clients, each running submit for
// the next index until none is left, and returns every submission by index.
func submitAll(ctx context.Context, n, c int, submit func(ctx context.Context, i int) (key string, err error)) []submission {
	subs := make([]submission, n)
	next := make(chan int)
	var wg sync.WaitGroup
	for range c {
		wg.Go(func() {
			for i := range next {
				start := time.Now()
				key, err := submit(ctx, i)
				subs[i] = submission{key: key, start: start, end: time.Now(), err: err}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return subs
}

// WorkloadResult is one side of the comparison: N jobs submitted at
// concurrency C and run to the end.
type WorkloadResult struct {
	Name string
	// Submitted counts accepted submissions; SubmitErrors the others, the first
	// of which is FirstError.
	Submitted, SubmitErrors int
	FirstError              string
	// Done counts jobs seen finished, Failed those of them that did not succeed.
	Done, Failed int
	// SubmitRate is accepted submissions per second, from the first
	// submission's start to the last one's end.
	SubmitRate float64
	Submit     Latencies
	// AllDone is from the first submission's start until the last job was
	// seen finished.
	AllDone      time.Duration
	SubmitToDone Latencies
	// Writes are kube-apiserver writes per job, by resource group, from the
	// first submission until the writes settled; WritesPerJob is their sum
	// without "other" (node heartbeats and leases, which run regardless).
	Writes       map[string]float64
	WritesPerJob float64
	// Requests are the requests per job each client (the REST API, the
	// controller, the raw client) sent kube-apiserver, reads and writes.
	Requests map[string]float64
	// CPU is each process's CPU time over the same interval; OthersCPU is the
	// rest of the machine's (other work sharing the cores).
	CPU       map[string]time.Duration
	OthersCPU time.Duration
	// Elapsed is the measured interval: from the first submission until the
	// writes settled.
	Elapsed time.Duration
	// Incomplete says why the phase did not finish cleanly (a timeout, a
	// failed scrape); empty when it did.
	Incomplete string
	// For asyncjob only: from submission to its Job seen created, and from its
	// Job seen Complete to the AsyncJob seen Completed.
	ToJobCreated, StatusLag Latencies
}

// summariseSubmissions fills the submission and completion figures from subs
// and what the observer saw finished in finished (by key).
func summariseSubmissions(r *WorkloadResult, subs []submission, finished func(key string) (seen, bool)) {
	var first, lastSubmit, lastDone time.Time
	var submitLat, toDone []time.Duration
	for _, s := range subs {
		if first.IsZero() || s.start.Before(first) {
			first = s.start
		}
		if s.err != nil {
			r.SubmitErrors++
			if r.FirstError == "" {
				r.FirstError = s.err.Error()
			}
			continue
		}
		r.Submitted++
		submitLat = append(submitLat, s.end.Sub(s.start))
		if s.end.After(lastSubmit) {
			lastSubmit = s.end
		}
		f, ok := finished(s.key)
		if !ok || f.finished.IsZero() {
			continue
		}
		r.Done++
		if f.failed {
			r.Failed++
		}
		toDone = append(toDone, f.finished.Sub(s.start))
		if f.finished.After(lastDone) {
			lastDone = f.finished
		}
	}
	if r.Submitted > 0 {
		r.SubmitRate = float64(r.Submitted) / lastSubmit.Sub(first).Seconds()
	}
	if r.Done > 0 {
		r.AllDone = lastDone.Sub(first)
	}
	r.Submit = summarise(submitLat)
	r.SubmitToDone = summarise(toDone)
}
