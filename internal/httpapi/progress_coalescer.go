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

package httpapi

import (
	"context"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/types"
)

// DefaultProgressInterval is the least time between two writes of one job's
// progress (Config.ProgressInterval when 0).
const DefaultProgressInterval = time.Second

// progressWriter stores one report unless one was stored less than interval
// ago; the store's writeProgress.
type progressWriter func(ctx context.Context, key types.NamespacedName, uid types.UID, r progressReport, interval time.Duration) (progressOutcome, time.Time, error)

// coalescer turns any number of progress reports into at most one write per
// job per interval on this replica, the latest report winning, and no
// accepted report left unwritten unless a newer one is stored (see
// docs/worker-contract.md, "Progress: how the API stores it").
//
// Per job it keeps, while a window is open, the latest report not yet written
// and one timer. A report that finds no window open is written at once,
// while the worker waits (the leading edge: "written"); any other report
// replaces the held one and is written when the window closes (the trailing
// edge: "buffered"). Whether the store may write is decided again at each
// write from the job's stored progress, which is how replicas see each
// other's writes.
type coalescer struct {
	interval time.Duration
	write    progressWriter
	timeout  time.Duration // of one write from a timer
	log      logr.Logger

	mu     sync.Mutex
	jobs   map[types.NamespacedName]*pendingProgress
	closed bool
	wg     sync.WaitGroup // scheduled and running window ends
}

// pendingProgress is the open window of one job.
type pendingProgress struct {
	uid   types.UID
	held  *progressReport // received, not yet written
	timer *time.Timer     // ends the window; nil while a write is in flight
}

func newCoalescer(interval, timeout time.Duration, write progressWriter, log logr.Logger) *coalescer {
	return &coalescer{interval: interval, timeout: timeout, write: write, log: log, jobs: map[types.NamespacedName]*pendingProgress{}}
}

// submit accepts r for job key. progressDeferred means that r is held, to be
// written within the interval unless a newer report is stored first; the
// other outcomes are the store's. An error means r was not accepted.
func (c *coalescer) submit(ctx context.Context, key types.NamespacedName, uid types.UID, r progressReport) (progressOutcome, error) {
	c.mu.Lock()
	if p, open := c.jobs[key]; open {
		if p.uid != uid { // the name belongs to a new job: drop the old one's report
			p.held, p.uid = nil, uid
		}
		p.hold(r)
		c.mu.Unlock()
		return progressDeferred, nil
	}
	p := &pendingProgress{uid: uid}
	c.jobs[key] = p
	interval := c.interval
	if c.closed {
		interval = 0
	}
	c.mu.Unlock()

	outcome, retryAt, err := c.write(ctx, key, uid, r, interval)
	c.mu.Lock()
	defer c.mu.Unlock()
	next := time.Now().Add(c.interval)
	switch {
	case err != nil:
		// Not accepted: the worker retries. Reports held meanwhile wait for
		// the window as usual.
	case outcome == progressDeferred:
		p.hold(r)
		next = retryAt
	}
	c.endWindowAt(key, p, next)
	return outcome, err
}

// hold keeps r unless a later report is held already.
func (p *pendingProgress) hold(r progressReport) {
	if p.held == nil || !r.ReceivedAt.Before(p.held.ReceivedAt) {
		p.held = &r
	}
}

// endWindowAt schedules the end of p's window; once the coalescer is closed,
// right away. Called with c.mu held.
func (c *coalescer) endWindowAt(key types.NamespacedName, p *pendingProgress, at time.Time) {
	if c.closed {
		at = time.Now()
	}
	c.wg.Add(1)
	p.timer = time.AfterFunc(time.Until(at), func() {
		defer c.wg.Done()
		c.windowEnded(key, p)
	})
}

// windowEnded writes what p holds, if anything, and opens the next window;
// with nothing held, the job's window is closed and its next report is
// written at once.
func (c *coalescer) windowEnded(key types.NamespacedName, p *pendingProgress) {
	c.mu.Lock()
	p.timer = nil
	if p.held == nil || c.jobs[key] != p {
		if c.jobs[key] == p {
			delete(c.jobs, key)
		}
		c.mu.Unlock()
		return
	}
	r, uid := *p.held, p.uid
	p.held = nil
	interval := c.interval
	if c.closed { // a replica that stops must not take accepted reports with it
		interval = 0
	}
	c.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	outcome, retryAt, err := c.write(ctx, key, uid, r, interval)
	cancel()

	c.mu.Lock()
	defer c.mu.Unlock()
	next := time.Now().Add(c.interval)
	switch {
	case err != nil:
		// Accepted, so not dropped: try again in the next window (once,
		// when closing: Close does not wait forever).
		c.log.Info("could not write a job's progress; trying again", "job", key, "error", err.Error())
		if !c.closed {
			p.hold(r)
		}
	case outcome == progressDeferred:
		p.hold(r)
		next = retryAt
	}
	c.endWindowAt(key, p, next)
}

// Close writes every held report at once, whatever the windows, and makes
// later reports write at once. It returns when they are written or ctx ends.
func (c *coalescer) Close(ctx context.Context) {
	c.mu.Lock()
	c.closed = true
	for key, p := range c.jobs {
		if p.timer != nil && p.timer.Stop() {
			p.timer = nil
			c.wg.Done() // its callback will not run: run it now instead
			c.endWindowAt(key, p, time.Now())
		}
	}
	c.mu.Unlock()
	done := make(chan struct{})
	go func() { c.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
}
