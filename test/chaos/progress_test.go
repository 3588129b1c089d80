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
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/internal/controller"
	"github.com/asyncjob/asyncjob/test/restclient"
	"github.com/asyncjob/asyncjob/test/stack"
)

// typeProgress runs 10 s, and the test plays its worker: it reports progress
// through the REST API with the job's worker token while the chaos runs.
const typeProgress = "chaos-progress"

// holdWindow bounds how long after a 202 a replica may still hold the
// report: the coalescing interval (1 s), plus the writes that fail while the
// Kubernetes API is down (kube-apiserver or etcd restarted for 2-5 s, and
// the API's 10 s deadline on a write in flight). A report lost to a SIGKILL
// of its replica within that time is the documented loss; any other is not.
const holdWindow = 15 * time.Second

// progressReport is one report the worker sent and what it was answered.
type progressReport struct {
	seq     int
	replica int
	code    int // 0: no answer (refused connection, reset, timeout)
	at      time.Time
}

func (r progressReport) acknowledged() bool {
	return r.code == http.StatusNoContent || r.code == http.StatusAccepted
}

// worker is one job's reporting worker.
type worker struct {
	id      string
	reports []progressReport
	err     error
}

// runWorker reports progress for job id until the API says it is finished
// (409) or gone, as the entrypoint would, but faster and over both replicas
// at random, so that reports are both stored at once (204) and held (202).
// Each report is unique: percent seq (up to 100), step "r<seq>".
func (e *env) runWorker(ctx context.Context, id string) *worker {
	w := &worker{id: id}
	token, err := e.workerToken(ctx, id)
	if err != nil {
		w.err = err
		return w
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	for seq := 1; ctx.Err() == nil; seq++ {
		i := rand.IntN(len(e.clients))
		c := restclient.Client{Base: e.clients[i].Base, Key: token, HTTP: e.clients[i].HTTP}
		body := map[string]any{"percent": min(seq, 100), "step": fmt.Sprintf("r%d", seq), "message": fmt.Sprintf("report %d of job %s", seq, id)}
		r := progressReport{seq: seq, replica: i}
		resp, _, err := c.Do(ctx, http.MethodPost, "/v1/jobs/"+id+"/progress", body)
		r.at = time.Now()
		if err == nil {
			r.code = resp.StatusCode
		}
		w.reports = append(w.reports, r)
		if r.code == http.StatusConflict || r.code == http.StatusGone {
			return w // finished: the worker's reports end
		}
		pause(200*time.Millisecond, 900*time.Millisecond)
	}
	w.err = fmt.Errorf("job %s: still reporting after 5 minutes", id)
	return w
}

// workerToken reads the token the controller gave job id's pod (its worker
// Secret), waiting for the controller to create it.
func (e *env) workerToken(ctx context.Context, id string) (string, error) {
	var token string
	key := types.NamespacedName{Namespace: stack.Namespace(tenant), Name: id + controller.WorkerSecretSuffix}
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 3*time.Minute, true, func(ctx context.Context) (bool, error) {
		var s corev1.Secret
		if err := e.s.Client.Get(ctx, key, &s); err != nil {
			return false, nil // not yet, or the API server is being restarted
		}
		token = string(s.Data[controller.WorkerSecretKey])
		return token != "", nil
	})
	if err != nil {
		return "", fmt.Errorf("job %s: no worker token: %w", id, err)
	}
	return token, nil
}

// settleProgress waits, at most holdWindow, until every job stores its
// worker's last acknowledged report: the reports still held when the
// workers stopped are written by then unless their replica was killed.
func (e *env) settleProgress(workers []*worker) {
	_ = wait.PollUntilContextTimeout(context.Background(), 250*time.Millisecond, holdWindow, true, func(ctx context.Context) (bool, error) {
		for _, w := range workers {
			last := ""
			for _, r := range w.reports {
				if r.acknowledged() {
					last = fmt.Sprintf("r%d", r.seq)
				}
			}
			var aj asyncjobv1alpha1.AsyncJob
			if err := e.s.Client.Get(ctx, types.NamespacedName{Namespace: stack.Namespace(tenant), Name: w.id}, &aj); err != nil {
				return false, nil
			}
			stored := ""
			if aj.Status.Progress != nil {
				stored = aj.Status.Progress.Step
			}
			if stored != last {
				return false, nil
			}
		}
		return true, nil
	})
}

// progressFigures is what the progress check prints.
type progressFigures struct {
	jobs, sent, stored, held, refused, unanswered int
	refusedBy                                     map[int]int // refusals by status code
	exact, unacknowledgedStored                   int
	lostInWindow, lostBeyond                      int
}

// checkProgress compares each worker's reports with its job's stored
// progress. The stored report must be the last one acknowledged (204 or 202),
// or a later one that got no answer or a 5xx (it may have been stored all the
// same). Every acknowledged report after the stored one must be a 202 from a
// replica SIGKILLed within holdWindow after it: the documented loss. Anything
// else is lost beyond the window and fails t.
func checkProgress(t *testing.T, e *env, workers []*worker, faults []fault) progressFigures {
	t.Helper()
	ctx := context.Background()
	f := progressFigures{refusedBy: map[int]int{}}
	for _, w := range workers {
		if w.err != nil {
			t.Errorf("progress worker: %v", w.err)
			continue
		}
		f.jobs++
		for _, r := range w.reports {
			f.sent++
			switch {
			case r.code == http.StatusNoContent:
				f.stored++
			case r.code == http.StatusAccepted:
				f.held++
			case r.code == 0 || r.code >= 500:
				f.unanswered++
			default:
				f.refused++
				f.refusedBy[r.code]++
			}
		}
		var aj asyncjobv1alpha1.AsyncJob
		if err := e.s.Client.Get(ctx, types.NamespacedName{Namespace: stack.Namespace(tenant), Name: w.id}, &aj); err != nil {
			t.Errorf("progress job %s: %v", w.id, err)
			continue
		}
		v := judgeProgress(w.reports, aj.Status.Progress, faults)
		switch {
		case v.bad != "":
			f.lostBeyond++
			t.Errorf("progress job %s: %s", w.id, v.bad)
			continue
		case v.exact:
			f.exact++
		case v.unacknowledgedStored:
			f.unacknowledgedStored++
		}
		f.lostInWindow += v.lostInWindow
		f.lostBeyond += len(v.lost)
		for _, r := range v.lost {
			t.Errorf("PROGRESS LOST: job %s: report %d, answered %d by API replica %d at %s, is not stored (stored: report %d), and no SIGKILL of that replica explains it",
				w.id, r.seq, r.code, r.replica, r.at.Format(time.RFC3339Nano), v.storedSeq)
		}
	}
	return f
}

// progressVerdict is what one job's stored progress says of its worker's reports.
type progressVerdict struct {
	storedSeq int // 0: no progress stored
	// exact: the stored report is the last acknowledged one;
	// unacknowledgedStored: it is a later one whose answer was lost.
	exact, unacknowledgedStored bool
	lostInWindow                int              // 202s lost to a SIGKILL of their replica while held
	lost                        []progressReport // acknowledged, not stored, unexplained
	bad                         string           // the stored progress is no report the worker may have stored
}

// judgeProgress compares a job's stored progress with its worker's reports
// (in the order sent, seq 1, 2, ...) under the rule checkProgress states.
func judgeProgress(reports []progressReport, stored *asyncjobv1alpha1.Progress, faults []fault) progressVerdict {
	var v progressVerdict
	if stored != nil {
		n, err := strconv.Atoi(strings.TrimPrefix(stored.Step, "r"))
		if err != nil || n < 1 || n > len(reports) || stored.Percent != int32(min(n, 100)) {
			v.bad = fmt.Sprintf("stored progress %+v is no report the worker sent", stored)
			return v
		}
		if r := reports[n-1]; !r.acknowledged() && r.code != 0 && r.code < 500 {
			v.bad = fmt.Sprintf("report %d was refused (%d) but is stored", n, r.code)
			return v
		}
		v.storedSeq = n
	}
	lastAck := 0
	for _, r := range reports {
		if r.acknowledged() {
			lastAck = r.seq
		}
	}
	v.exact = v.storedSeq == lastAck
	v.unacknowledgedStored = v.storedSeq > lastAck
	for _, r := range reports[v.storedSeq:] {
		switch {
		case !r.acknowledged():
		case r.code == http.StatusAccepted && killedWithin(faults, r.replica, r.at, holdWindow):
			v.lostInWindow++
		default:
			v.lost = append(v.lost, r)
		}
	}
	return v
}

// killedWithin reports whether the chaos SIGKILLed API replica i within
// window after at.
func killedWithin(faults []fault, i int, at time.Time, window time.Duration) bool {
	for _, x := range faults {
		if x.kind == killAPI && x.replica == i && !x.at.Before(at) && x.at.Sub(at) <= window {
			return true
		}
	}
	return false
}

func (f progressFigures) print(t *testing.T) {
	t.Logf("progress figures:\n"+
		"  jobs reporting %d, reports sent %d: stored at once (204) %d, held (202) %d, refused %d %v, no answer or 5xx %d\n"+
		"  stored progress = the last acknowledged report: %d jobs; = a later report whose answer was lost: %d jobs\n"+
		"  acknowledged reports lost within the window (202, replica SIGKILLed while holding it) %d, lost beyond it %d",
		f.jobs, f.sent, f.stored, f.held, f.refused, f.refusedBy, f.unanswered, f.exact, f.unacknowledgedStored, f.lostInWindow, f.lostBeyond)
}

// progressWorkers runs the workers of progress jobs as they are accepted.
type progressWorkers struct {
	wg      sync.WaitGroup
	mu      sync.Mutex
	workers []*worker
}

func (p *progressWorkers) start(ctx context.Context, e *env, id string) {
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		w := e.runWorker(ctx, id)
		p.mu.Lock()
		p.workers = append(p.workers, w)
		p.mu.Unlock()
	}()
}

func (p *progressWorkers) wait() []*worker {
	p.wg.Wait()
	return p.workers
}
