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
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/asyncjob/asyncjob/api/v1alpha1"
)

func TestGetJobETagAndRetryAfter(t *testing.T) {
	h := newHarness(t)
	j := h.submit(h.tenantA, nil)
	path := "/v1/jobs/" + j.ID
	r := h.request(http.MethodGet, path, h.tenantA, nil).expect(t, http.StatusOK)
	etag := r.Header.Get("ETag")
	if !strings.HasPrefix(etag, `"`) || strings.HasPrefix(etag, "W/") {
		t.Errorf("ETag %q is not a strong entity tag", etag)
	}
	if r.Header.Get("Retry-After") != "7" || r.Header.Get("Sunset") != "" {
		t.Errorf("unfinished job: Retry-After %q, Sunset %q", r.Header.Get("Retry-After"), r.Header.Get("Sunset"))
	}
	nm := h.request(http.MethodGet, path, h.tenantA, nil, "If-None-Match", etag).expect(t, http.StatusNotModified)
	if len(nm.body) != 0 || nm.Header.Get("ETag") != etag {
		t.Errorf("304: body %q, ETag %q", nm.body, nm.Header.Get("ETag"))
	}
	head := h.request(http.MethodHead, path, h.tenantA, nil).expect(t, http.StatusOK)
	if len(head.body) != 0 || head.Header.Get("ETag") != etag {
		t.Errorf("HEAD: body %q, ETag %q", head.body, head.Header.Get("ETag"))
	}
	h.request(http.MethodHead, path, h.tenantA, nil, "If-None-Match", etag).expect(t, http.StatusNotModified)

	// A change of the job changes the ETag: the old one no longer matches.
	started := metav1.NewTime(time.Now().Truncate(time.Second))
	reported := metav1.NewMicroTime(started.Time)
	h.setStatus(h.tenantA, j.ID, func(s *v1alpha1.AsyncJobStatus) {
		s.State = v1alpha1.StateRunning
		s.StartTime = &started
		s.Attempts = 1
		s.Progress = &v1alpha1.Progress{Percent: 45, Step: "transcoding", Message: "frame 1200/2600", UpdateTime: &reported}
	})
	r = h.request(http.MethodGet, path, h.tenantA, nil, "If-None-Match", etag).expect(t, http.StatusOK)
	got := r.job(t)
	if got.Status != StatusRunning || got.Progress == nil || got.Progress.Percent != 45 || got.StartedAt == nil || got.Attempts != 1 {
		t.Errorf("running job %+v", got)
	}
	if r.Header.Get("ETag") == etag {
		t.Error("ETag unchanged after the job changed")
	}
}

func TestFinishedJobs(t *testing.T) {
	h := newHarness(t)
	now := metav1.NewTime(time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC))
	expire := metav1.NewTime(now.Add(24 * time.Hour))
	const sunset = "Tue, 24 Nov 2026 10:00:00 GMT"

	t.Run("completed", func(t *testing.T) {
		j := h.submit(h.tenantA, nil)
		h.setStatus(h.tenantA, j.ID, func(s *v1alpha1.AsyncJobStatus) {
			s.State = v1alpha1.StateCompleted
			s.CompletionTime, s.ExpireTime = &now, &expire
			s.Result = &apiextensionsv1.JSON{Raw: []byte(`{"url":"https://example.com/out.webm","bytes":1234}`)}
		})
		r := h.request(http.MethodGet, "/v1/jobs/"+j.ID, h.tenantA, nil).expect(t, http.StatusOK)
		if r.Header.Get("Sunset") != sunset || r.Header.Get("Retry-After") != "" {
			t.Errorf("Sunset %q, Retry-After %q", r.Header.Get("Sunset"), r.Header.Get("Retry-After"))
		}
		got := r.job(t)
		if got.Status != StatusCompleted || got.CompletedAt == nil || got.Problem != nil || !strings.Contains(string(got.Result), "out.webm") {
			t.Errorf("job %+v", got)
		}
		res := h.request(http.MethodGet, "/v1/jobs/"+j.ID+"/result", h.tenantA, nil).expect(t, http.StatusOK)
		var result map[string]any
		res.json(t, &result)
		if result["url"] != "https://example.com/out.webm" || res.Header.Get("Sunset") != sunset {
			t.Errorf("result %v, Sunset %q", result, res.Header.Get("Sunset"))
		}
		c := h.request(http.MethodPost, "/v1/jobs/"+j.ID+"/cancel", h.tenantA, nil).expect(t, http.StatusConflict)
		if c.problem(t).Code != problemJobFinished.Code {
			t.Errorf("cancel of a completed job: %s", c.body)
		}
	})

	t.Run("failed", func(t *testing.T) {
		j := h.submit(h.tenantA, nil)
		exit := int32(3)
		h.setStatus(h.tenantA, j.ID, func(s *v1alpha1.AsyncJobStatus) {
			s.State = v1alpha1.StateFailed
			s.CompletionTime, s.ExpireTime = &now, &expire
			s.Failure = &v1alpha1.Failure{Reason: "BackoffLimitExceeded", Message: "input not found", ExitCode: &exit}
		})
		got := h.request(http.MethodGet, "/v1/jobs/"+j.ID, h.tenantA, nil).expect(t, http.StatusOK).job(t)
		p := got.Problem
		if got.Status != StatusFailed || p == nil || p.Reason != "BackoffLimitExceeded" || p.Code != "BACKOFF_LIMIT_EXCEEDED" ||
			p.Detail != "input not found" || p.ExitCode == nil || *p.ExitCode != 3 || p.Type != jobFailedProblem.URI() {
			t.Errorf("failed job problem %+v", p)
		}
		r := h.request(http.MethodGet, "/v1/jobs/"+j.ID+"/result", h.tenantA, nil).expect(t, http.StatusConflict)
		if r.problem(t).Code != problemNoResult.Code {
			t.Errorf("result of a failed job: %s", r.body)
		}
		h.request(http.MethodPost, "/v1/jobs/"+j.ID+"/cancel", h.tenantA, nil).expect(t, http.StatusConflict)
	})

	t.Run("result not ready", func(t *testing.T) {
		j := h.submit(h.tenantA, nil)
		r := h.request(http.MethodGet, "/v1/jobs/"+j.ID+"/result", h.tenantA, nil).expect(t, http.StatusConflict)
		if r.problem(t).Code != problemResultNotReady.Code || r.Header.Get("Retry-After") != "7" {
			t.Errorf("result of a pending job: %s, Retry-After %q", r.body, r.Header.Get("Retry-After"))
		}
	})
}

func TestGetUnknownJob(t *testing.T) {
	h := newHarness(t)
	for _, id := range []string{"6f1c6c1e-4f0e-4a53-9a8e-2b8f0f0f7a21", "not-a-uuid", "6F1C6C1E-4F0E-4A53-9A8E-2B8F0F0F7A21"} {
		r := h.request(http.MethodGet, "/v1/jobs/"+id, h.tenantA, nil).expect(t, http.StatusNotFound)
		if p := r.problem(t); p.Code != problemJobNotFound.Code || p.Instance != "/v1/jobs/"+id {
			t.Errorf("%s: %+v", id, p)
		}
	}
}

func TestTypes(t *testing.T) {
	h := newHarness(t)
	h.createType(h.typ+"-hidden", `{"type":"object"}`, false)
	var list jobTypeList
	h.request(http.MethodGet, "/v1/types", h.tenantA, nil).expect(t, http.StatusOK).json(t, &list)
	var found *jobType
	for i := range list.Items {
		if list.Items[i].Name == h.typ+"-hidden" {
			t.Error("a type that is not Ready is listed")
		}
		if list.Items[i].Name == h.typ {
			found = &list.Items[i]
		}
	}
	if found == nil || found.PollIntervalSeconds != 7 || found.Description == "" {
		t.Fatalf("type %s not listed properly: %+v", h.typ, list)
	}
	var schema map[string]any
	if err := json.Unmarshal(found.ParametersSchema, &schema); err != nil || schema["required"] == nil {
		t.Errorf("parametersSchema %s", found.ParametersSchema)
	}
	var one jobType
	h.request(http.MethodGet, "/v1/types/"+h.typ, h.tenantB, nil).expect(t, http.StatusOK).json(t, &one)
	if one.Name != h.typ {
		t.Errorf("type %+v", one)
	}
	for _, name := range []string{"nope", h.typ + "-hidden"} {
		r := h.request(http.MethodGet, "/v1/types/"+name, h.tenantA, nil).expect(t, http.StatusNotFound)
		if r.problem(t).Code != problemTypeNotFound.Code {
			t.Errorf("%s: %s", name, r.body)
		}
	}
}

// Once the controller has frozen a job's limits, its polling hint is the
// frozen one, whatever its type says now.
func TestReadRetryAfterIsTheFrozenPollInterval(t *testing.T) {
	h := newHarness(t)
	j := h.submit(h.tenantA, nil)
	frozen := int32(13) // the type says 7
	h.setStatus(h.tenantA, j.ID, func(s *v1alpha1.AsyncJobStatus) {
		s.State = v1alpha1.StateRunning
		s.Limits = &v1alpha1.AppliedLimits{PollIntervalSeconds: &frozen}
	})
	if got := h.request(http.MethodGet, "/v1/jobs/"+j.ID, h.tenantA, nil).expect(t, http.StatusOK).Header.Get("Retry-After"); got != "13" {
		t.Errorf("GET: Retry-After = %q, want the frozen 13", got)
	}
	if got := h.request(http.MethodGet, "/v1/jobs/"+j.ID+"/result", h.tenantA, nil).expect(t, http.StatusConflict).Header.Get("Retry-After"); got != "13" {
		t.Errorf("GET result: Retry-After = %q, want the frozen 13", got)
	}
}
