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
	"net/http"
	"strconv"
	"testing"
	"time"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
)

// TestJudgeProgress: the rule TestChaos applies to each progress job,
// without a cluster: what counts as the documented loss and what fails.
func TestJudgeProgress(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 5, 0, 0, 0, time.UTC)
	rep := func(seq, code, replica int) progressReport {
		return progressReport{seq: seq, code: code, replica: replica, at: t0.Add(time.Duration(seq) * time.Second)}
	}
	stored := func(seq int) *asyncjobv1alpha1.Progress {
		return &asyncjobv1alpha1.Progress{Percent: int32(min(seq, 100)), Step: "r" + strconv.Itoa(seq)}
	}
	killAPI0At := func(d time.Duration) []fault { return []fault{{kind: killAPI, replica: 0, at: t0.Add(d)}} }
	cases := []struct {
		name    string
		reports []progressReport
		stored  *asyncjobv1alpha1.Progress
		faults  []fault
		exact   bool
		inWin   int
		lost    int
		bad     bool
	}{
		{name: "the last acknowledged is stored", reports: []progressReport{rep(1, 204, 0), rep(2, 202, 1), rep(3, 409, 0)}, stored: stored(2), exact: true},
		{name: "a later report whose answer was lost is stored", reports: []progressReport{rep(1, 204, 0), rep(2, 0, 1), rep(3, 409, 0)}, stored: stored(2)},
		{name: "a held report lost to a SIGKILL of its replica", reports: []progressReport{rep(1, 204, 1), rep(2, 202, 0), rep(3, 409, 1)}, stored: stored(1),
			faults: killAPI0At(2500 * time.Millisecond), inWin: 1},
		{name: "a held report lost, the other replica killed", reports: []progressReport{rep(1, 204, 1), rep(2, 202, 0)}, stored: stored(1),
			faults: []fault{{kind: killAPI, replica: 1, at: t0.Add(2500 * time.Millisecond)}}, lost: 1},
		{name: "a held report lost, its replica killed long after", reports: []progressReport{rep(1, 204, 1), rep(2, 202, 0)}, stored: stored(1),
			faults: killAPI0At(2*time.Second + holdWindow + time.Second), lost: 1},
		{name: "a held report lost, its replica killed before it", reports: []progressReport{rep(1, 204, 1), rep(2, 202, 0)}, stored: stored(1),
			faults: killAPI0At(time.Second), lost: 1},
		{name: "a stored (204) report is never the window's", reports: []progressReport{rep(1, 204, 1), rep(2, 204, 0)}, stored: stored(1),
			faults: killAPI0At(2500 * time.Millisecond), lost: 1},
		{name: "nothing stored after acknowledgements", reports: []progressReport{rep(1, 204, 0)}, stored: nil, lost: 1},
		{name: "nothing sent, nothing stored", exact: true},
		{name: "a refused report is stored", reports: []progressReport{rep(1, 204, 0), rep(2, 401, 0)}, stored: stored(2), bad: true},
		{name: "a report never sent is stored", reports: []progressReport{rep(1, 204, 0)}, stored: stored(5), bad: true},
		{name: "a stored step and percent that disagree", reports: []progressReport{rep(1, 204, 0)}, stored: &asyncjobv1alpha1.Progress{Percent: 7, Step: "r1"}, bad: true},
	}
	for _, c := range cases {
		v := judgeProgress(c.reports, c.stored, c.faults)
		if (v.bad != "") != c.bad || v.exact != c.exact || v.lostInWindow != c.inWin || len(v.lost) != c.lost {
			t.Errorf("%s: verdict %+v; want bad %v, exact %v, in window %d, lost %d", c.name, v, c.bad, c.exact, c.inWin, c.lost)
		}
	}
	if !(progressReport{code: http.StatusAccepted}).acknowledged() || (progressReport{code: http.StatusConflict}).acknowledged() {
		t.Error("202 and 204 acknowledge a report, nothing else")
	}
}
