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
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-logr/logr/testr"

	"github.com/asyncjob/asyncjob/internal/entrypoint"
)

// TestEntrypointAgainstTheAPI runs the real entrypoint (internal/entrypoint)
// against the real callbacks: a command that prints progress as fast as it
// can, with a 200 KiB result file, ends with its last report stored as the
// job's progress and its result in status.result.
func TestEntrypointAgainstTheAPI(t *testing.T) {
	h := newHarness(t, withWorkerKey)
	j := h.submit(h.tenantA, nil)
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	h.must(os.WriteFile(tokenFile, []byte(h.workerToken(h.tenantA, j.ID)+"\n"), 0o600))
	resultFile := filepath.Join(dir, "result.json")
	big := strings.Repeat("x", 200<<10)
	script := `i=0; while [ $i -lt 2000 ]; do echo "::progress $((i / 20)) working: line $i"; i=$((i+1)); done
echo "::progress 100 done: all lines"`
	// Written up front (a 200 KiB variable would be too long for exec):
	// the entrypoint reads it once the command has exited 0.
	h.must(os.WriteFile(resultFile, []byte(`{"data": "`+big+`"}`), 0o600))
	code := entrypoint.Run(context.Background(), entrypoint.Config{
		Command:        []string{"sh", "-c", script},
		CallbackURL:    h.srv.URL,
		JobID:          j.ID,
		TokenFile:      tokenFile,
		ResultFile:     resultFile,
		TerminationLog: filepath.Join(dir, "termination-log"),
		// The entrypoint's own coalescing off: every report reaches the API.
		ProgressInterval: 0,
		Stdin:            strings.NewReader(""),
		Stdout:           io.Discard,
		Stderr:           io.Discard,
		Log:              testr.New(t),
	})
	if code != 0 {
		msg, _ := os.ReadFile(filepath.Join(dir, "termination-log"))
		t.Fatalf("entrypoint exited %d: %s", code, msg)
	}
	h.eventually("the last report is stored", func() bool {
		p := h.kubeJob(h.tenantA, j.ID).Status.Progress
		return p != nil && p.Percent == 100 && p.Step == "done" && p.Message == "all lines"
	})
	if r := h.kubeJob(h.tenantA, j.ID).Status.Result; r == nil || string(r.Raw) != `{"data":"`+big+`"}` {
		t.Errorf("status.result is not the 200 KiB result")
	}
}
