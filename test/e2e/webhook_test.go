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

	"github.com/google/uuid"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/internal/httpapi"
	"github.com/asyncjob/asyncjob/internal/webhook"
	"github.com/asyncjob/asyncjob/test/stack"
	"github.com/asyncjob/asyncjob/test/wrappers"
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

	// Created as the REST API creates a job with a webhook: in the tenant's
	// namespace, with its tenant label.
	aj := wrappers.MakeAsyncJob(uuid.NewString(), stack.Namespace(tenant)).Tenant(tenant).Type(typeQuick).
		Webhook(rcv.URL + "/hooks/asyncjob").Obj()
	if err := s.Client.Create(context.Background(), aj); err != nil {
		t.Fatal(err)
	}

	var req *http.Request
	var body []byte
	select {
	case req = <-got:
		body = <-bodies
	case <-time.After(2 * time.Minute):
		t.Fatal("no webhook within 2 minutes")
	}
	// It arrives after the job completed: the REST API says so already.
	job := api.waitStatus(t, aj.Name, httpapi.StatusCompleted, 30*time.Second)

	sec := &corev1.Secret{}
	if err := s.Client.Get(context.Background(), types.NamespacedName{Namespace: aj.Namespace, Name: webhook.SecretName}, sec); err != nil {
		t.Fatalf("the tenant's signing secret: %v", err)
	}
	wh, err := standardwebhooks.NewWebhook(string(sec.Data[webhook.KeyCurrent]))
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
	if p.Type != string(asyncjobv1alpha1.WebhookJobCompleted) || p.Data.ID != aj.Name || p.Data.Status != httpapi.StatusCompleted {
		t.Errorf("payload %s", body)
	}
	var res, want map[string]any
	_ = json.Unmarshal(p.Data.Result, &res)
	_ = json.Unmarshal([]byte(quickResult), &want)
	if string(p.Data.Result) != string(job.Result) || !reflect.DeepEqual(res, want) {
		t.Errorf("data.result %s, the REST API's %s", p.Data.Result, job.Result)
	}
	select {
	case r := <-got:
		t.Errorf("a second request, webhook-id %s (first %s)", r.Header.Get("webhook-id"), req.Header.Get("webhook-id"))
	case <-time.After(2 * time.Second):
	}
}
