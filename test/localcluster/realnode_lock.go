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

package localcluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

// realNodeLock serializes real nodes across processes (test binaries of
// different packages run in parallel): kubelet's kubepods cgroups, which
// cleanup empties, and the CNI bridge are per machine.
const realNodeLock = "/run/asyncjob-localcluster-realnode.lock"

// lockRealNode waits, within ctx, until no other real node runs on this
// machine. Closing the returned file releases the lock; so does exiting.
func lockRealNode(ctx context.Context) (*os.File, error) {
	f, err := os.OpenFile(realNodeLock, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			_ = f.Close()
			return nil, err
		}
		select {
		case <-ctx.Done():
			_ = f.Close()
			return nil, fmt.Errorf("another local cluster's real node is running (lock %s): %w", realNodeLock, ctx.Err())
		case <-time.After(time.Second):
		}
	}
}
