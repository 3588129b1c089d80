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

// Package storagewatch watches what the API server writes to etcd, for tests
// that must see every write of a whole run, across API-server restarts: an
// etcd watch resumes from its last revision when etcd or kube-apiserver comes
// back, where a Kubernetes watch restarted on a fresh API server answers 410
// Gone and loses what happened in between.
package storagewatch

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
)

// jobsPrefix is where kube-apiserver keeps batch/v1 Jobs (default --etcd-prefix).
const jobsPrefix = "/registry/jobs/"

// Jobs is what the watch saw created for one AsyncJob.
type Jobs struct {
	// Created counts creations: writes of a key that did not exist, so a Job
	// deleted and created again under its name counts twice.
	Created int
	// UIDs are the distinct UIDs of those Jobs, in order.
	UIDs []types.UID
}

// JobCreations records every Job created from Start on, by the UID of the
// AsyncJob controlling it, and every change of a built-in-queue Job's
// suspend, finish and deletion (QueueStates).
type JobCreations struct {
	cli    *clientv3.Client
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex
	rev     int64 // every write up to rev has been seen
	byOwner map[types.UID]*Jobs
	total   int
	queue   queueTracker
	err     error
}

// Start watches Jobs in the etcd at etcdURL from its current revision on.
func Start(ctx context.Context, etcdURL string) (*JobCreations, error) {
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{etcdURL}, DialTimeout: 5 * time.Second, Logger: nopLogger()})
	if err != nil {
		return nil, err
	}
	head, err := cli.Get(ctx, jobsPrefix, clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		_ = cli.Close()
		return nil, fmt.Errorf("reading etcd's revision: %w", err)
	}
	wctx, cancel := context.WithCancel(context.Background())
	j := &JobCreations{cli: cli, ctx: wctx, cancel: cancel, done: make(chan struct{}), rev: head.Header.Revision, byOwner: map[types.UID]*Jobs{},
		queue: queueTracker{last: map[string]QueueState{}}}
	// The client resumes the watch from the last revision it delivered when
	// etcd restarts, so nothing between is missed.
	ch := cli.Watch(wctx, jobsPrefix, clientv3.WithPrefix(), clientv3.WithRev(head.Header.Revision+1))
	go j.run(ch)
	return j, nil
}

func (j *JobCreations) run(ch clientv3.WatchChan) {
	defer close(j.done)
	decoder := protobuf.NewSerializer(clientgoscheme.Scheme, clientgoscheme.Scheme)
	for resp := range ch {
		if err := resp.Err(); err != nil {
			j.fail(fmt.Errorf("the etcd watch on Jobs ended: %w", err))
			return
		}
		for _, ev := range resp.Events {
			key := string(ev.Kv.Key)
			if ev.Type == clientv3.EventTypeDelete {
				j.mu.Lock()
				j.queue.remove(key, ev.Kv.ModRevision)
				j.mu.Unlock()
				continue
			}
			created := ev.Kv.CreateRevision == ev.Kv.ModRevision
			if !created && !mayBeQueued(ev.Kv.Value) {
				continue
			}
			job, err := decodeJob(decoder, ev.Kv.Value)
			if err != nil {
				j.fail(fmt.Errorf("decoding %s: %w", ev.Kv.Key, err))
				return
			}
			if created {
				j.record(job)
			}
			j.mu.Lock()
			j.queue.put(key, ev.Kv.ModRevision, created, job)
			j.mu.Unlock()
		}
		// A progress notification promises nothing older is still to come;
		// an event batch only vouches for its own last revision.
		seen := resp.Header.Revision
		if !resp.IsProgressNotify() && len(resp.Events) > 0 {
			seen = resp.Events[len(resp.Events)-1].Kv.ModRevision
		} else if !resp.IsProgressNotify() {
			continue
		}
		j.mu.Lock()
		j.rev = max(j.rev, seen)
		j.mu.Unlock()
	}
	if j.ctx.Err() == nil {
		j.fail(errors.New("the etcd watch on Jobs closed"))
	}
}

func decodeJob(decoder runtime.Decoder, value []byte) (*batchv1.Job, error) {
	obj, _, err := decoder.Decode(value, nil, &batchv1.Job{})
	if err != nil {
		return nil, err
	}
	job, ok := obj.(*batchv1.Job)
	if !ok {
		return nil, fmt.Errorf("a %T under %s", obj, jobsPrefix)
	}
	return job, nil
}

func (j *JobCreations) record(job *batchv1.Job) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.total++
	owner := metav1.GetControllerOf(job)
	if owner == nil || owner.Kind != "AsyncJob" || owner.APIVersion != asyncjobv1alpha1.GroupVersion.String() {
		return
	}
	rec := j.byOwner[owner.UID]
	if rec == nil {
		rec = &Jobs{}
		j.byOwner[owner.UID] = rec
	}
	rec.Created++
	if !slices.Contains(rec.UIDs, job.UID) {
		rec.UIDs = append(rec.UIDs, job.UID)
	}
}

func (j *JobCreations) fail(err error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.err == nil {
		j.err = err
	}
}

// Sync returns once the watch has delivered every write etcd had made when
// Sync was called.
func (j *JobCreations) Sync(ctx context.Context) error {
	now, err := j.cli.Get(ctx, jobsPrefix, clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		return fmt.Errorf("reading etcd's revision: %w", err)
	}
	for {
		j.mu.Lock()
		rev, werr := j.rev, j.err
		j.mu.Unlock()
		if werr != nil {
			return werr
		}
		if rev >= now.Header.Revision {
			return nil
		}
		// A progress notification moves rev on when no Job was written since.
		_ = j.cli.RequestProgress(j.ctx)
		select {
		case <-ctx.Done():
			return fmt.Errorf("the etcd watch on Jobs is at revision %d, behind %d: %w", rev, now.Header.Revision, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// ByOwner is what the watch has seen so far, by AsyncJob UID; the error is
// why the watch ended, if it did (what it saw until then is still returned).
func (j *JobCreations) ByOwner() (map[types.UID]Jobs, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := make(map[types.UID]Jobs, len(j.byOwner))
	for uid, rec := range j.byOwner {
		out[uid] = Jobs{Created: rec.Created, UIDs: slices.Clone(rec.UIDs)}
	}
	return out, j.err
}

// Total counts every Job created since Start, AsyncJob's or not.
func (j *JobCreations) Total() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.total
}

// Violations lists every AsyncJob that got more than one Job, or one Job
// created more than once, since Start.
func (j *JobCreations) Violations() ([]string, error) {
	seen, err := j.ByOwner()
	if err != nil {
		return nil, err
	}
	var out []string
	for owner, rec := range seen {
		if rec.Created > 1 || len(rec.UIDs) > 1 {
			out = append(out, fmt.Sprintf("AsyncJob %s: %d Jobs created, Job UIDs %v", owner, rec.Created, rec.UIDs))
		}
	}
	sort.Strings(out)
	return out, nil
}

// Stop ends the watch.
func (j *JobCreations) Stop() {
	j.cancel()
	<-j.done
	_ = j.cli.Close()
}
