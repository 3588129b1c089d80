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

package entrypoint

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/go-logr/logr"
)

// reporter coalesces progress: set only stores the latest report, and one
// goroutine sends it, at most once per interval. While a send is retried,
// every attempt carries the latest report, so an old value is never sent
// after a newer one is known.
type reporter struct {
	cb       *callbacks
	interval time.Duration
	log      logr.Logger

	wake chan struct{} // holds a token when a report arrived since the last look
	done chan struct{} // closed when run returns

	mu       sync.Mutex
	latest   Progress
	seq      uint64 // counts reports that differ from the one before
	sentSeq  uint64 // the seq last delivered or rejected for good
	disabled bool   // the server said this token or job cannot take progress any more
}

func newReporter(cb *callbacks, interval time.Duration, log logr.Logger) *reporter {
	return &reporter{cb: cb, interval: interval, log: log,
		wake: make(chan struct{}, 1), done: make(chan struct{})}
}

// set records p as the latest report. It never blocks.
func (r *reporter) set(p Progress) {
	r.mu.Lock()
	if r.seq > 0 && p == r.latest {
		r.mu.Unlock()
		return
	}
	r.latest = p
	r.seq++
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// run sends reports as they come, at most one per interval (retries
// included: a failing server gets no more load), until stop is
// closed. Requests are made with ctx, which only ends when sending must end
// altogether: closing stop never cuts off a request in flight, which would
// leave the server with a report the reporter does not know it has.
func (r *reporter) run(ctx context.Context, stop <-chan struct{}) {
	defer close(r.done)
	var last time.Time
	for {
		select {
		case <-stop:
			return
		case <-r.wake:
		}
		if wait := r.interval - time.Since(last); !last.IsZero() && wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-stop:
				t.Stop()
				return
			case <-t.C:
			}
		}
		last = time.Now()
		r.deliver(ctx, stop, r.interval)
	}
}

// flush waits for run to return (its stop must be closed) and sends the
// latest report if it was not sent yet, trying until ctx ends. Its retries
// follow the backoff alone: the flush timeout bounds them.
func (r *reporter) flush(ctx context.Context) {
	<-r.done
	r.deliver(ctx, nil, 0)
}

// pending returns the latest report unless it was already delivered.
func (r *reporter) pending() (Progress, uint64, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.latest, r.seq, !r.disabled && r.seq > r.sentSeq
}

// deliver sends the latest report, retrying no sooner than minDelay.
func (r *reporter) deliver(ctx context.Context, stop <-chan struct{}, minDelay time.Duration) {
	err := r.cb.retry(ctx, stop, "progress", minDelay, func(ctx context.Context) error {
		p, seq, ok := r.pending()
		if !ok {
			return nil
		}
		err := r.cb.postProgress(ctx, p)
		if err == nil || permanent(err) {
			r.mu.Lock()
			r.sentSeq = max(r.sentSeq, seq)
			r.disabled = r.disabled || gone(err)
			r.mu.Unlock()
		}
		return err
	})
	switch {
	case err == nil, stopped(stop): // flush tries again
	case gone(err):
		r.log.Info("The progress callback refused this job's token or job; no more progress will be sent", "error", err.Error())
	case permanent(err):
		r.log.Info("The progress callback rejected a report; dropped it", "error", err.Error())
	default:
		r.log.Info("Could not send progress; the latest report is kept for the next try", "error", err.Error())
	}
}

func stopped(stop <-chan struct{}) bool {
	select {
	case <-stop:
		return true
	default:
		return false
	}
}

// gone reports whether err says that no later report can succeed either: the
// token is not (or no longer) valid, or the job is unknown or finished.
func gone(err error) bool {
	var se *statusError
	if !errors.As(err, &se) {
		return false
	}
	switch se.code {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusConflict, http.StatusGone:
		return true
	}
	return false
}
