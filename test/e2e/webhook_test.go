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
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/internal/httpapi"
)

// TestWebhookArrivesAfterTheJobCompletes runs a job with a webhook on the local
// cluster: once its pod has succeeded, the controller (a process of the real
// binary) POSTs job.completed, signed with the tenant's secret, to a receiver
// on this machine (the stack allows loopback for it).
func TestWebhookArrivesAfterTheJobCompletes(t *testing.T) {
	got := make(chan *http.Request, 8)
	bodies := make(chan []byte, 8)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- r
		bodies <- b
		w.WriteHeader(http.StatusNoContent)
	}))
	defer rcv.Close()

	// Submitted as a client would, naming its webhook.
	resp, raw, err := api.Do(context.Background(), http.MethodPost, "/v1/jobs", map[string]any{
		"type": typeQuick, "parameters": map[string]any{},
		"webhook": map[string]any{"url": rcv.URL + "/hooks/asyncjob", "events": []string{"job.completed"}},
	})
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST /v1/jobs with a webhook: %v %v %s", err, resp, raw)
	}
	var submitted httpapi.Job
	if err := json.Unmarshal(raw, &submitted); err != nil {
		t.Fatal(err)
	}
	if submitted.Webhook == nil || submitted.Webhook.Status != "pending" {
		t.Errorf("the submitted job's webhook: %+v, want pending", submitted.Webhook)
	}
	id := submitted.ID

	var req *http.Request
	var body []byte
	select {
	case req = <-got:
		body = <-bodies
	case <-time.After(2 * time.Minute):
		t.Fatal("no webhook within 2 minutes")
	}
	// It arrives after the job completed: the REST API says so already.
	job := api.waitStatus(t, id, httpapi.StatusCompleted, 30*time.Second)

	// The client reads its signing secret from the API, as a receiver's owner would.
	resp, raw, err = api.Do(context.Background(), http.MethodGet, "/v1/webhooks/secret", nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /v1/webhooks/secret: %v %v %s", err, resp, raw)
	}
	var secret struct {
		Secret string `json:"secret"`
	}
	if err := json.Unmarshal(raw, &secret); err != nil {
		t.Fatal(err)
	}
	wh, err := standardwebhooks.NewWebhook(secret.Secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := wh.Verify(body, req.Header); err != nil {
		t.Fatalf("the webhook does not verify: %v", err)
	}
	var p struct {
		Type string      `json:"type"`
		Data httpapi.Job `json:"data"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("payload %s: %v", body, err)
	}
	if p.Type != string(asyncjobv1alpha1.WebhookJobCompleted) || p.Data.ID != id || p.Data.Status != httpapi.StatusCompleted {
		t.Errorf("payload %s", body)
	}
	var res, want map[string]any
	_ = json.Unmarshal(p.Data.Result, &res)
	_ = json.Unmarshal([]byte(quickResult), &want)
	if string(p.Data.Result) != string(job.Result) || !reflect.DeepEqual(res, want) {
		t.Errorf("data.result %s, the REST API's %s", p.Data.Result, job.Result)
	}
	// The delivery log says delivered, once.
	api.waitFor(t, id, 30*time.Second, "webhook delivered after 1 attempt", func(j httpapi.Job, found bool) bool {
		return found && j.Webhook != nil && j.Webhook.Status == "delivered" && j.Webhook.Attempts == 1
	})
	select {
	case r := <-got:
		t.Errorf("a second request, webhook-id %s (first %s)", r.Header.Get("webhook-id"), req.Header.Get("webhook-id"))
	case <-time.After(2 * time.Second):
	}
}
