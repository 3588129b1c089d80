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
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/rest"

	"github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/test/framework"
)

// TestWebhookRoutesWithTheAPIRole: the webhook routes work with the rules
// controller-gen generates for the API (config/rbac/api/role.yaml, which the
// chart copies) and nothing more: the server runs as a user bound to that
// ClusterRole only, plus read access to the API-key Secret by name (the Role
// the chart binds in its namespace). envtest's API server enforces RBAC.
func TestWebhookRoutesWithTheAPIRole(t *testing.T) {
	if testEnv == nil {
		t.Skip("envtest is not available")
	}
	ctx := context.Background()
	user := "asyncjob-api-" + randomSuffix()
	role := apiClusterRole(t)
	role.ObjectMeta = metav1.ObjectMeta{Name: user}
	keys := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: user + "-keys"}, Rules: []rbacv1.PolicyRule{{
		APIGroups: []string{""}, Resources: []string{"secrets"}, ResourceNames: []string{"api-keys"}, Verbs: []string{"get", "list", "watch"}}}}
	for _, r := range []*rbacv1.ClusterRole{role, keys} {
		if err := testEnv.Client.Create(ctx, r); err != nil {
			t.Fatal(err)
		}
		binding := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: r.Name},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: r.Name},
			Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}}}
		if err := testEnv.Client.Create(ctx, binding); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = testEnv.Client.Delete(context.Background(), binding)
			_ = testEnv.Client.Delete(context.Background(), r)
		})
	}
	cfg := rest.CopyConfig(testEnv.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: user}
	h := newHarnessWithConfig(t, cfg)

	h.setWebhookDefault(h.tenantA, map[string]string{"url": "https://default.example.com/"})
	j := h.request(http.MethodPost, "/v1/jobs", h.tenantA, h.webhookBody(nil)).expect(t, http.StatusAccepted).job(t)
	if j.Webhook == nil || j.Webhook.URL != "https://default.example.com/" {
		t.Errorf("default webhook not applied: %+v", j.Webhook)
	}
	first := h.request(http.MethodGet, "/v1/webhooks/secret", h.tenantA, nil).expect(t, http.StatusOK).secret(t)
	if again := h.request(http.MethodGet, "/v1/webhooks/secret", h.tenantA, nil).expect(t, http.StatusOK).secret(t); again.Secret != first.Secret {
		t.Errorf("secret changed")
	}
	rotated := h.request(http.MethodPost, "/v1/webhooks/secret/rotate", h.tenantA, nil).expect(t, http.StatusOK).secret(t)
	if rotated.PreviousSecret != first.Secret {
		t.Errorf("rotation: %+v", rotated)
	}
	h.setStatus(h.tenantA, j.ID, func(st *v1alpha1.AsyncJobStatus) {
		st.Webhook = &v1alpha1.WebhookStatus{Deliveries: []v1alpha1.WebhookDelivery{
			{ID: "msg_1", Type: v1alpha1.WebhookJobCompleted, EventTime: metav1.Now(), State: v1alpha1.WebhookFailed}}}
	})
	h.request(http.MethodGet, "/v1/jobs/"+j.ID+"/webhook-deliveries", h.tenantA, nil).expect(t, http.StatusOK)
	h.request(http.MethodPost, "/v1/jobs/"+j.ID+"/webhook-deliveries/msg_1/redeliver", h.tenantA, nil).expect(t, http.StatusAccepted)
	if got := h.kubeJob(h.tenantA, j.ID).Annotations[v1alpha1.AnnotationWebhookRedeliver]; got != "msg_1" {
		t.Errorf("annotation %q", got)
	}
}

// apiClusterRole reads the API's generated ClusterRole.
func apiClusterRole(t *testing.T) *rbacv1.ClusterRole {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(framework.RepoRoot(), "config", "rbac", "api", "role.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(raw), 4096)
	for {
		var r rbacv1.ClusterRole
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("no ClusterRole in config/rbac/api/role.yaml: %v", err)
		}
		if r.Kind == "ClusterRole" {
			return &r
		}
	}
}
