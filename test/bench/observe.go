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
	"fmt"
	"sync"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/internal/scheme"
)

// observer watches Jobs and AsyncJobs and stamps, on arrival, the first
// moment each was seen created and seen finished. Both workloads are observed
// the same way, by one watch each on what their client reads: a raw Job is
// done when a watch delivers its Complete condition (what kubectl wait sees);
// an AsyncJob when a watch delivers state Completed, which is what the REST
// API answers from its own informer on the same objects.
type observer struct {
	mu sync.Mutex
	// jobs and asyncJobs are keyed by namespace/name; owned by
	// namespace/AsyncJob name (the asyncjob.io/name label of its Job).
	jobs, asyncJobs, owned map[string]*seen
}

// seen is what the watch delivered about one object, and when.
type seen struct {
	created  time.Time
	finished time.Time
	failed   bool
}

// startObserver starts the watches; they run until ctx ends.
func startObserver(ctx context.Context, cfg *rest.Config) (*observer, error) {
	o := &observer{jobs: map[string]*seen{}, asyncJobs: map[string]*seen{}, owned: map[string]*seen{}}
	c, err := cache.New(cfg, cache.Options{Scheme: scheme.New()})
	if err != nil {
		return nil, err
	}
	jobInf, err := c.GetInformer(ctx, &batchv1.Job{})
	if err != nil {
		return nil, err
	}
	ajInf, err := c.GetInformer(ctx, &asyncjobv1alpha1.AsyncJob{})
	if err != nil {
		return nil, err
	}
	if _, err := jobInf.AddEventHandler(handlerFor(o.onJob)); err != nil {
		return nil, err
	}
	if _, err := ajInf.AddEventHandler(handlerFor(o.onAsyncJob)); err != nil {
		return nil, err
	}
	go func() { _ = c.Start(ctx) }()
	if !c.WaitForCacheSync(ctx) {
		return nil, fmt.Errorf("the observer's watches did not sync")
	}
	return o, nil
}

func handlerFor(f func(obj any, now time.Time)) toolscache.ResourceEventHandlerFuncs {
	return toolscache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { f(obj, time.Now()) },
		UpdateFunc: func(_, obj any) { f(obj, time.Now()) },
	}
}

func (o *observer) onJob(obj any, now time.Time) {
	job, ok := obj.(*batchv1.Job)
	if !ok {
		return
	}
	finished, failed := jobFinished(job)
	o.mu.Lock()
	defer o.mu.Unlock()
	record(o.jobs, job.Namespace+"/"+job.Name, now, finished, failed)
	if owner := job.Labels[asyncjobv1alpha1.LabelName]; owner != "" {
		record(o.owned, job.Namespace+"/"+owner, now, finished, failed)
	}
}

func (o *observer) onAsyncJob(obj any, now time.Time) {
	aj, ok := obj.(*asyncjobv1alpha1.AsyncJob)
	if !ok {
		return
	}
	state := aj.Status.State
	o.mu.Lock()
	defer o.mu.Unlock()
	record(o.asyncJobs, aj.Namespace+"/"+aj.Name, now, state.IsFinished(), state.IsFinished() && state != asyncjobv1alpha1.StateCompleted)
}

func record(m map[string]*seen, key string, now time.Time, finished, failed bool) {
	s := m[key]
	if s == nil {
		s = &seen{created: now}
		m[key] = s
	}
	if finished && s.finished.IsZero() {
		s.finished, s.failed = now, failed
	}
}

// jobFinished reads a Job's terminal condition: Complete, or Failed.
func jobFinished(job *batchv1.Job) (finished, failed bool) {
	for _, c := range job.Status.Conditions {
		if c.Status != corev1.ConditionTrue {
			continue
		}
		switch c.Type {
		case batchv1.JobComplete:
			return true, false
		case batchv1.JobFailed:
			return true, true
		}
	}
	return false, false
}

// lookup returns a copy of what was seen of key in one of the maps.
func (o *observer) lookup(m map[string]*seen, key string) (seen, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	s, ok := m[key]
	if !ok {
		return seen{}, false
	}
	return *s, true
}

// finishedCount counts the keys that have been seen finished.
func (o *observer) finishedCount(m map[string]*seen, keys []string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for _, k := range keys {
		if s, ok := m[k]; ok && !s.finished.IsZero() {
			n++
		}
	}
	return n
}

// waitFinished waits until every key has been seen finished, or timeout.
func (o *observer) waitFinished(ctx context.Context, m map[string]*seen, keys []string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		n := o.finishedCount(m, keys)
		if n == len(keys) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d finished after %s", n, len(keys), timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}
