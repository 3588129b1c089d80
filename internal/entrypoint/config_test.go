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
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestConfigFromEnv(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

	got, err := ConfigFromEnv(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{TokenFile: DefaultTokenFile, TerminationLog: DefaultTerminationLog, ProgressInterval: time.Second, FlushTimeout: 10 * time.Second}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(Config{}, "Log")); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}

	got, err = ConfigFromEnv(env(map[string]string{
		EnvCallbackURL: "http://asyncjob-api.asyncjob-system.svc:8080", EnvJobID: "j1",
		EnvTokenFile: "/t", EnvResultFile: "/out/result.json", EnvTerminationLog: "/tmp/term",
		EnvProgressInterval: "250ms", EnvFlushTimeout: "3s", EnvFFmpegDuration: "00:01:00.50",
		EnvInputsDir: "/asyncjob/inputs", EnvOutputsDir: "/asyncjob/outputs",
		EnvInputs: `["clip.mov","subs.srt"]`, EnvOutputs: `["/asyncjob/outputs/*"]`,
	}))
	if err != nil {
		t.Fatal(err)
	}
	want = Config{CallbackURL: "http://asyncjob-api.asyncjob-system.svc:8080", JobID: "j1", TokenFile: "/t",
		ResultFile: "/out/result.json", TerminationLog: "/tmp/term", ProgressInterval: 250 * time.Millisecond,
		FlushTimeout: 3 * time.Second, FFmpegDuration: 60500 * time.Millisecond,
		InputsDir: "/asyncjob/inputs", OutputsDir: "/asyncjob/outputs",
		Inputs: []string{"clip.mov", "subs.srt"}, Outputs: []string{"/asyncjob/outputs/*"}}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(Config{}, "Log")); diff != "" {
		t.Errorf("from the environment (-want +got):\n%s", diff)
	}

	for k, v := range map[string]string{EnvProgressInterval: "1", EnvFlushTimeout: "-1s", EnvFFmpegDuration: "N/A", EnvInputs: `"clip.mov"`, EnvOutputs: `[1]`} {
		if _, err := ConfigFromEnv(env(map[string]string{k: v})); err == nil || !strings.HasPrefix(err.Error(), k+": ") {
			t.Errorf("%s=%s: got %v, want an error naming the variable", k, v, err)
		}
	}
}
