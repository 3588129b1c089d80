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

package e2e

import (
	"context"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"
)

// eventLog records every event of one watch from a resourceVersion on. It
// resumes, through client-go's RetryWatcher, from the last event it saw when
// the API server closes the watch, so nothing in between is missed; what it
// cannot resume (410 Gone) it keeps as err rather than skipping.
type eventLog struct {
	rw   *watchtools.RetryWatcher
	done chan struct{}

	mu     sync.Mutex
	events []watch.Event
	err    error
}

// watchFunc opens a watch with the given options (resourceVersion, bookmarks).
type watchFunc func(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error)

// startEventLog watches from resourceVersion rv, typically a list's.
func startEventLog(rv string, w watchFunc) (*eventLog, error) {
	rw, err := watchtools.NewRetryWatcherWithContext(context.Background(), rv, &cache.ListWatch{WatchFuncWithContext: cache.WatchFuncWithContext(w)})
	if err != nil {
		return nil, err
	}
	l := &eventLog{rw: rw, done: make(chan struct{})}
	go func() {
		defer close(l.done)
		for ev := range rw.ResultChan() {
			l.mu.Lock()
			if ev.Type == watch.Error {
				l.err = apierrors.FromObject(ev.Object)
			} else {
				l.events = append(l.events, ev)
			}
			l.mu.Unlock()
		}
	}()
	return l, nil
}

// snapshot returns the events so far and the error that ended the watch, if any.
func (l *eventLog) snapshot() ([]watch.Event, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]watch.Event(nil), l.events...), l.err
}

func (l *eventLog) stop() {
	l.rw.Stop()
	<-l.done
}
