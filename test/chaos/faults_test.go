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

package chaos

import (
	"context"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
)

// Fault kinds of the chaos loop.
const (
	killLeader       = "SIGKILL leader controller"
	killAPI          = "SIGKILL API replica"
	restartAPIServer = "restart kube-apiserver"
	restartEtcd      = "restart etcd"
)

var faultKinds = []string{killLeader, killAPI, restartAPIServer, restartEtcd}

// fault is one failure the chaos loop caused and how long the system took
// to run a job end to end after it.
type fault struct {
	kind     string
	at       time.Time
	down     time.Duration // how long the component stayed down (restarts)
	replica  int           // the API replica killed (killAPI)
	recovery time.Duration
}

// runFaults injects faults until duration has passed, each kind once first
// (however short duration is), in random order, then kinds at random, at random moments (2-8 s after the
// system recovered from the previous one). After each, probe submits a job;
// the fault's recovery time runs from its injection to that job COMPLETED.
func runFaults(t *testing.T, e *env, duration time.Duration, probe func() *logical) []fault {
	t.Helper()
	ctx := context.Background()
	var out []fault
	order := rand.Perm(len(faultKinds))
	begin := time.Now()
	for i := 0; i < len(order) || time.Since(begin) < duration; i++ {
		pause(2*time.Second, 8*time.Second)
		kind := faultKinds[rand.IntN(len(faultKinds))]
		if i < len(order) {
			kind = faultKinds[order[i]]
		}
		f := fault{kind: kind}
		if err := inject(ctx, e, &f); err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		l := probe()
		if l.sub.ID == "" {
			t.Fatalf("after %s: the probe submission got no 202: %v", kind, l.sub.Failures)
		}
		if _, err := e.waitStatus(ctx, l.sub.ID, 5*time.Minute, "COMPLETED"); err != nil {
			t.Fatalf("after %s: the system did not recover: %v", kind, err)
		}
		f.recovery = time.Since(f.at)
		t.Logf("fault %d: %s (down %s): recovered in %s", i+1, kind, f.down.Round(time.Millisecond), f.recovery.Round(100*time.Millisecond))
		out = append(out, f)
	}
	return out
}

func inject(ctx context.Context, e *env, f *fault) error {
	switch f.kind {
	case killLeader:
		// A leader may still be being elected after an earlier fault.
		return wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 2*time.Minute, true, func(context.Context) (bool, error) {
			f.at = time.Now()
			i, err := e.s.KillLeader()
			if err != nil && i < 0 {
				return false, nil // no leader yet
			}
			return err == nil, err
		})
	case killAPI:
		f.at, f.replica = time.Now(), rand.IntN(len(e.clients))
		return e.s.KillAPI(f.replica)
	case restartAPIServer:
		f.at, f.down = time.Now(), randomDuration(2*time.Second, 5*time.Second)
		return e.s.Cluster.RestartAPIServer(ctx, f.down)
	case restartEtcd:
		f.at, f.down = time.Now(), randomDuration(2*time.Second, 5*time.Second)
		return e.s.Cluster.RestartEtcd(ctx, f.down)
	}
	return errors.New("unknown fault kind")
}

func randomDuration(lo, hi time.Duration) time.Duration {
	return lo + time.Duration(rand.Int64N(int64(hi-lo)))
}

func pause(lo, hi time.Duration) { time.Sleep(randomDuration(lo, hi)) }
