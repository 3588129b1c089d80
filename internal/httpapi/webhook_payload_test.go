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
	"regexp"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/internal/webhook"
	"github.com/asyncjob/asyncjob/test/wrappers"
)

// TestWebhookPayloadMatchesTheDocument: the body and headers the controller
// sends (internal/webhook, with RenderJob as the payload's data) are what the
// OpenAPI document's top-level webhooks section tells receivers to expect.
func TestWebhookPayloadMatchesTheDocument(t *testing.T) {
	doc, err := loadOAS()
	if err != nil {
		t.Fatal(err)
	}
	done := metav1.NewTime(time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC))
	aj := wrappers.MakeAsyncJob("6f1c6c1e-4f0e-4a53-9a8e-2b8f0f0f7a21", "team-a").Tenant("acme").Type("convert").
		Params(`{"format":"webm"}`).Webhook("https://hooks.example.com/x").
		Status(v1alpha1.AsyncJobStatus{State: v1alpha1.StateCompleted, StartTime: &done, CompletionTime: &done}).Obj()
	body, err := webhook.Body(string(v1alpha1.WebhookJobCompleted), done.Time, RenderJob(aj))
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.validate("/components/schemas/WebhookPayload", body); err != nil {
		t.Error(err)
	}
	secret, err := webhook.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	other, _ := webhook.NewSecret()
	h, err := webhook.Headers("msg_0123456789abcdef0123456789abcdef", time.Now(), body, []string{secret, other})
	if err != nil {
		t.Fatal(err)
	}
	params := doc.doc["webhooks"].(map[string]any)["jobEvent"].(map[string]any)["post"].(map[string]any)["parameters"].([]any)
	if len(params) != 3 {
		t.Fatalf("the webhooks section documents %d headers, want 3", len(params))
	}
	for _, p := range params {
		p := p.(map[string]any)
		name := p["name"].(string)
		pattern := p["schema"].(map[string]any)["pattern"].(string)
		if v := h.Get(name); !regexp.MustCompile(pattern).MatchString(v) {
			t.Errorf("header %s = %q does not match the documented %s", name, v, pattern)
		}
	}
}
