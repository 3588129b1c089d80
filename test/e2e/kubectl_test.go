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
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/asyncjob/asyncjob/internal/httpapi"
	"github.com/asyncjob/asyncjob/test/localcluster"
	"github.com/asyncjob/asyncjob/test/stack"
)

// kubectl get asyncjobs, as an operator watching the cluster runs it.
func TestKubectlGetAsyncJobs(t *testing.T) {
	kubectl, err := localcluster.Kubectl(context.Background())
	if err != nil {
		t.Fatalf("building kubectl: %v", err)
	}
	id := api.submit(t, typeQuick, map[string]any{})
	api.waitStatus(t, id, httpapi.StatusCompleted, 2*time.Minute)

	get := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(kubectl, append([]string{"--kubeconfig", s.Cluster.Kubeconfig(), "get", "asyncjobs", id, "-n", stack.Namespace(tenant)}, args...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("kubectl %v: %v\n%s", cmd.Args[1:], err, out)
		}
		return string(out)
	}
	plain := strings.Fields(strings.Split(strings.TrimSpace(get()), "\n")[0])
	if strings.Join(plain, " ") != "NAME TYPE STATUS PROGRESS POSITION AGE" {
		t.Errorf("kubectl get asyncjobs columns: %v", plain)
	}
	wide := strings.Split(strings.TrimSpace(get("-o", "wide")), "\n")
	if got := strings.Join(strings.Fields(wide[0]), " "); got != "NAME TYPE STATUS PROGRESS POSITION AGE JOB ATTEMPTS TENANT" {
		t.Errorf("kubectl get asyncjobs -o wide columns: %s", got)
	}
	// NAME TYPE STATUS PROGRESS POSITION AGE JOB ATTEMPTS TENANT; this type
	// reports no progress and is not queued: kubectl prints empty cells.
	row := regexp.MustCompile(`^` + id + `\s+` + typeQuick + `\s+Completed\s+\d+[smh]\S*\s+` + id + `\s+1\s+` + tenant + `$`)
	if !row.MatchString(strings.TrimSpace(wide[1])) {
		t.Errorf("kubectl get asyncjobs -o wide row:\n%s", wide[1])
	}
}
