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
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/internal/entrypoint"
	"github.com/asyncjob/asyncjob/internal/workertoken"
)

func TestBuildWorkerSecret(t *testing.T) {
	aj := builderAsyncJob(`{"format":"csv"}`, map[string]string{asyncjobv1alpha1.LabelTenant: "acme"})
	got := buildWorkerSecret(aj, testWorker)
	want := &corev1.Secret{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{
			Name:      "report-1-worker",
			Namespace: "team-a",
			Labels: map[string]string{
				asyncjobv1alpha1.LabelName:   "report-1",
				asyncjobv1alpha1.LabelType:   "report",
				asyncjobv1alpha1.LabelTenant: "acme",
			},
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: "asyncjob.io/v1alpha1", Kind: "AsyncJob", Name: "report-1", UID: "aj-uid",
				Controller: new(true), BlockOwnerDeletion: new(true),
			}},
		},
		Immutable: new(true),
		Type:      corev1.SecretTypeOpaque,
		Data:      map[string][]byte{"token": []byte(workertoken.Sign(testWorker.TokenKey, "team-a", "report-1", "aj-uid"))},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("buildWorkerSecret() mismatch (-want +got):\n%s", diff)
	}
	token := string(got.Data["token"])
	if !workertoken.Verify(testWorker.TokenKey, token, "team-a", "report-1", "aj-uid") {
		t.Errorf("the token %q does not verify for its own AsyncJob", token)
	}
	if workertoken.Verify(testWorker.TokenKey, token, "team-a", "report-1", "a-re-created-uid") {
		t.Errorf("the token verifies for another AsyncJob of the same name")
	}
	if again := buildWorkerSecret(aj, testWorker); !cmp.Equal(got, again) {
		t.Errorf("buildWorkerSecret() is not deterministic: a repeated create would not be harmless")
	}
}

// TestTokenNotInJob: the token is only in the Secret, never in the Job (so
// not in the pod spec that anyone who can read pods sees).
func TestTokenNotInJob(t *testing.T) {
	aj := builderAsyncJob(`{"format":"csv"}`, nil)
	token := string(buildWorkerSecret(aj, testWorker).Data[WorkerSecretKey])
	job, err := buildJob(aj, injectingType(), defaultLimits, testWorker)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(job)
	if err != nil {
		t.Fatal(err)
	}
	sig := token[strings.LastIndexByte(token, '.')+1:]
	if strings.Contains(string(raw), sig) {
		t.Errorf("the Job's JSON contains the token's signature %q:\n%s", sig, raw)
	}
	// And the Job does refer to the Secret, so the test above looks at the right Job.
	if !strings.Contains(string(raw), `"secretName":"report-1-worker"`) {
		t.Errorf("the Job does not mount the token Secret:\n%s", raw)
	}
}

// TestWorkerContractMatchesEntrypoint: what the controller sets is what the
// entrypoint reads.
func TestWorkerContractMatchesEntrypoint(t *testing.T) {
	for _, c := range []struct{ controller, entrypoint string }{
		{EnvCallbackURL, entrypoint.EnvCallbackURL},
		{EnvTokenFile, entrypoint.EnvTokenFile},
		{EnvID, entrypoint.EnvJobID},
		{TokenFile, entrypoint.DefaultTokenFile},
		{EnvInputsDir, entrypoint.EnvInputsDir},
		{EnvOutputsDir, entrypoint.EnvOutputsDir},
		{EnvInputs, entrypoint.EnvInputs},
		{EnvOutputs, entrypoint.EnvOutputs},
	} {
		if c.controller != c.entrypoint {
			t.Errorf("the controller sets %q, the entrypoint reads %q", c.controller, c.entrypoint)
		}
	}
}

func TestOptionsWorker(t *testing.T) {
	key := testWorker.TokenKey
	cases := []struct {
		name    string
		opts    Options
		wantErr string
	}{
		{name: "no callbacks, no key: fine", opts: Options{}},
		{name: "a key without callbacks: fine, unused", opts: Options{WorkerTokenKey: key}},
		{name: "callbacks with a key", opts: Options{CallbackURL: "http://asyncjob-api.asyncjob-system.svc:80", WorkerTokenKey: key}},
		{name: "callbacks with a path prefix, https", opts: Options{CallbackURL: "https://jobs.example.com/asyncjob", WorkerTokenKey: key}},
		{name: "callbacks without a key", opts: Options{CallbackURL: "http://api"}, wantErr: "callbacks need a worker token key of at least 32 bytes"},
		{name: "callbacks with a short key", opts: Options{CallbackURL: "http://api", WorkerTokenKey: key[:31]}, wantErr: "at least 32 bytes"},
		{name: "a relative callback URL", opts: Options{CallbackURL: "asyncjob-api:80", WorkerTokenKey: key}, wantErr: "not an absolute http(s) URL"},
		{name: "a callback URL without a host", opts: Options{CallbackURL: "http:///v1", WorkerTokenKey: key}, wantErr: "not an absolute http(s) URL"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := tc.opts.worker()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("worker() = %+v, %v; want an error containing %q", cfg, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("worker() unexpected error: %v", err)
			}
			if cfg.CallbackURL != tc.opts.CallbackURL || string(cfg.TokenKey) != string(tc.opts.WorkerTokenKey) {
				t.Errorf("worker() = %+v, want the options' values", cfg)
			}
		})
	}
}
