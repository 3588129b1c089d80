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

package controller

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/test/wrappers"
)

// admissionWatch follows a namespace's Jobs through a watch on the API server
// and checks the bound at every change it sees: at no observed moment do more
// than max Jobs run (unsuspended and unfinished). It records the order in
// which Jobs were first seen unsuspended.
type admissionWatch struct {
	mu        sync.Mutex
	jobs      map[string]*batchv1.Job
	admitted  []string
	violation string
}

func watchAdmissions(t *testing.T, ns string, maxRunning int) *admissionWatch {
	t.Helper()
	wc, err := client.NewWithWatch(env.Config, client.Options{Scheme: env.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	w, err := wc.Watch(context.Background(), &batchv1.JobList{}, client.InNamespace(ns))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	aw := &admissionWatch{jobs: map[string]*batchv1.Job{}}
	go func() {
		for ev := range w.ResultChan() {
			job, ok := ev.Object.(*batchv1.Job)
			if !ok {
				continue
			}
			aw.mu.Lock()
			if ev.Type == watch.Deleted {
				delete(aw.jobs, job.Name)
			} else {
				aw.jobs[job.Name] = job
			}
			if !isSuspended(job) && !slices.Contains(aw.admitted, job.Name) {
				aw.admitted = append(aw.admitted, job.Name)
			}
			if n := aw.runningLocked(); len(n) > maxRunning && aw.violation == "" {
				aw.violation = fmt.Sprintf("%d Jobs running at once: %v", len(n), n)
			}
			aw.mu.Unlock()
		}
	}()
	return aw
}

func (aw *admissionWatch) runningLocked() []string {
	var out []string
	for name, j := range aw.jobs {
		if jobRunning(j) {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

func (aw *admissionWatch) running() []string {
	aw.mu.Lock()
	defer aw.mu.Unlock()
	return aw.runningLocked()
}

func (aw *admissionWatch) order() []string {
	aw.mu.Lock()
	defer aw.mu.Unlock()
	return slices.Clone(aw.admitted)
}

func (aw *admissionWatch) check(t *testing.T) {
	t.Helper()
	aw.mu.Lock()
	defer aw.mu.Unlock()
	if aw.violation != "" {
		t.Fatal(aw.violation)
	}
}

// waitRunning waits until exactly the named Jobs run.
func (aw *admissionWatch) waitRunning(t *testing.T, want ...string) {
	t.Helper()
	slices.Sort(want)
	eventually(t, fmt.Sprintf("exactly %v run", want), func(context.Context) error {
		if got := aw.running(); !slices.Equal(got, want) {
			return fmt.Errorf("running %v", got)
		}
		return nil
	})
	aw.check(t)
}

// completeJob finishes a Job as the Job controller would.
func completeJob(t *testing.T, ns, name string) {
	t.Helper()
	job := &batchv1.Job{}
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, job); err != nil {
		t.Fatal(err)
	}
	now := metav1.Now()
	env.UpdateJobStatus(t, job, func(s *batchv1.JobStatus) {
		s.StartTime, s.CompletionTime, s.Succeeded = ptr.To(now), ptr.To(now), 1
		s.Conditions = append(s.Conditions, wrappers.CompleteConditions(now)...)
	})
}

// waitPositions waits until the waiting AsyncJobs carry status.queue.position
// 1, 2, ... in the order given, with the Running condition's Queued reason,
// and the others named in none carry one.
func waitPositions(t *testing.T, ns string, line []string, none ...string) {
	t.Helper()
	eventually(t, fmt.Sprintf("positions follow %v", line), func(ctx context.Context) error {
		for i, name := range line {
			aj, err := getAJ(ctx, ns, name)
			if err != nil {
				return err
			}
			if aj.Status.Queue == nil || aj.Status.Queue.Position != int32(i+1) {
				return fmt.Errorf("%s: queue %+v, want position %d", name, aj.Status.Queue, i+1)
			}
			if c := meta.FindStatusCondition(aj.Status.Conditions, asyncjobv1alpha1.ConditionRunning); c == nil || c.Reason != asyncjobv1alpha1.ReasonQueued {
				return fmt.Errorf("%s: Running condition %+v, want reason Queued", name, c)
			}
			if aj.Status.State != asyncjobv1alpha1.StatePending {
				return fmt.Errorf("%s: state %s, want Pending", name, aj.Status.State)
			}
		}
		for _, name := range none {
			aj, err := getAJ(ctx, ns, name)
			if err != nil {
				return err
			}
			if aj.Status.Queue != nil {
				return fmt.Errorf("%s: queue %+v, want none", name, aj.Status.Queue)
			}
		}
		return nil
	})
}

// TestIntegrationQueueBoundOfTwo: ten submissions to a type with max 2 run at
// most two at once (checked at every change a watch sees), in submission
// order; cancelling or deleting a waiting job takes it out of line at once,
// cancelling a running one frees its slot, and a controller restart in the
// middle changes nothing.
func TestIntegrationQueueBoundOfTwo(t *testing.T) {
	needEnv(t)
	stop := startController(t)
	ns := newNamespace(t)
	jt := createReadyType(t, convertType(uniqueTypeName(t)).Concurrency(2, 0).Obj())
	aw := watchAdmissions(t, ns, 2)
	var names []string
	for i := range 10 {
		name := fmt.Sprintf("q%02d", i)
		names = append(names, name)
		mustCreate(t, convertJob(name, ns, jt.Name).Obj())
	}
	// Every job has its Job, suspended until admitted: nothing is created twice.
	eventually(t, "every job has its Job", func(ctx context.Context) error {
		jobs, err := jobsIn(ctx, ns)
		if err != nil || len(jobs) != 10 {
			return fmt.Errorf("%d Jobs, %v", len(jobs), err)
		}
		return nil
	})
	aw.waitRunning(t, "q00", "q01")
	waitPositions(t, ns, names[2:], "q00", "q01")

	// A cancelled and a deleted waiting job leave the line.
	aj := waitJobObj(t, ns, "q05")
	aj.Spec.Cancel = true
	if err := env.Client.Update(context.Background(), aj); err != nil {
		t.Fatal(err)
	}
	if err := env.Client.Delete(context.Background(), waitJobObj(t, ns, "q06"), client.PropagationPolicy(metav1.DeletePropagationForeground)); err != nil {
		t.Fatal(err)
	}
	waitPositions(t, ns, []string{"q02", "q03", "q04", "q07", "q08", "q09"}, "q05", "q06")

	// Cancelling a running job frees its slot (envtest's Job has no pods left).
	aj = waitJobObj(t, ns, "q01")
	aj.Spec.Cancel = true
	if err := env.Client.Update(context.Background(), aj); err != nil {
		t.Fatal(err)
	}
	aw.waitRunning(t, "q00", "q02")
	completeJob(t, ns, "q00")
	aw.waitRunning(t, "q02", "q03")
	waitPositions(t, ns, []string{"q04", "q07", "q08", "q09"})

	// A restart mid-queue: the new controller admits nothing more, and the
	// line is the same.
	stop()
	startController(t)
	consistently(t, "the restarted controller keeps the bound", 2*time.Second, func(context.Context) error {
		if got := aw.running(); !slices.Equal(got, []string{"q02", "q03"}) {
			return fmt.Errorf("running %v", got)
		}
		return nil
	})
	waitPositions(t, ns, []string{"q04", "q07", "q08", "q09"})

	for _, step := range []struct{ finish, next string }{
		{"q02", "q04"}, {"q03", "q07"}, {"q04", "q08"}, {"q07", "q09"},
	} {
		completeJob(t, ns, step.finish)
		running := slices.DeleteFunc(aw.running(), func(s string) bool { return s == step.finish })
		aw.waitRunning(t, append(running, step.next)...)
	}
	aw.check(t)
	want := []string{"q00", "q01", "q02", "q03", "q04", "q07", "q08", "q09"}
	if diff := cmp.Diff(want, aw.order()); diff != "" {
		t.Errorf("admission order (-want +got):\n%s", diff)
	}
}

// TestIntegrationQueuePriority: a job of higher priority goes to the head of
// the line and starts next; a tenant at its perTenant bound is skipped, so
// another tenant's later job starts first.
func TestIntegrationQueuePriority(t *testing.T) {
	needEnv(t)
	startController(t)
	ns := newNamespace(t)
	jt := createReadyType(t, convertType(uniqueTypeName(t)).Concurrency(2, 1).MaxPriority(10).Obj())
	aw := watchAdmissions(t, ns, 2)
	mustCreate(t, convertJob("p1", ns, jt.Name).Obj())
	aw.waitRunning(t, "p1")
	mustCreate(t, convertJob("p2", ns, jt.Name).Obj())
	mustCreate(t, convertJob("p3", ns, jt.Name).Obj())
	waitPositions(t, ns, []string{"p2", "p3"})
	mustCreate(t, convertJob("p4", ns, jt.Name).Priority(5).Obj())
	waitPositions(t, ns, []string{"p4", "p2", "p3"})
	// Tenant acme is at its bound of 1: another tenant's job starts at once.
	mustCreate(t, convertJob("other", ns, jt.Name).Tenant("globex").Obj())
	aw.waitRunning(t, "p1", "other")
	waitPositions(t, ns, []string{"p4", "p2", "p3"})
	completeJob(t, ns, "p1")
	aw.waitRunning(t, "other", "p4")
	waitPositions(t, ns, []string{"p2", "p3"})
	aw.check(t)
}

func waitJobObj(t *testing.T, ns, name string) *asyncjobv1alpha1.AsyncJob {
	t.Helper()
	aj, err := getAJ(context.Background(), ns, name)
	if err != nil {
		t.Fatal(err)
	}
	return aj
}
