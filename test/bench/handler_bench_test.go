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

package bench

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/internal/httpapi"
	"github.com/asyncjob/asyncjob/test/framework"
	"github.com/asyncjob/asyncjob/test/localcluster"
	"github.com/asyncjob/asyncjob/test/stack"
	"github.com/asyncjob/asyncjob/test/wrappers"
)

var benchJobs = flag.Int("jobs", 1000, "finished jobs in the tenant for BenchmarkHandler")

// BenchmarkHandler measures the REST API's handler path in process, on an
// envtest API server holding -jobs finished jobs of one tenant: the same four
// request kinds as the harness's read phase, without network or HTTP parsing.
// Run it with `make bench-handler`.
func BenchmarkHandler(b *testing.B) {
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		b.Skip("needs envtest: run it with make bench-handler")
	}
	env, stop, err := framework.Start()
	if err != nil {
		b.Fatal(err)
	}
	defer stop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const tenant = "bench"
	key, err := seedTenant(ctx, env.Client, tenant, *benchJobs)
	if err != nil {
		b.Fatal(err)
	}
	keys := types.NamespacedName{Namespace: stack.SystemNamespace, Name: stack.APIKeysSecret}
	h, err := newInProcessAPI(ctx, env.Config, keys, stack.Namespace("{tenant}"))
	if err != nil {
		b.Fatal(err)
	}
	ids, etags, err := firstPage(h, key)
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range HandlerCases(h, key, ids, etags) {
		if err := c.Check(); err != nil {
			b.Fatal(err)
		}
		b.Run(c.Name, c.Bench)
	}
}

// seedTenant creates a tenant with an API key, the bench type (Ready, as the
// controller would mark it) and n Completed jobs with a typical result, as
// the REST API and the controller would have left them; it returns the key.
func seedTenant(ctx context.Context, c client.Client, tenant string, n int) (string, error) {
	ns := stack.Namespace(tenant)
	key := "ajk_bench_" + tenant
	objs := []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: stack.SystemNamespace}},
		&corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: stack.SystemNamespace, Name: stack.APIKeysSecret},
			StringData: map[string]string{tenant: httpapi.HashAPIKey(key)},
		},
	}
	for _, o := range objs {
		if err := c.Create(ctx, o); err != nil {
			return "", err
		}
	}
	jt := stack.SimulatedType(benchType, localcluster.PodBehavior{}, asyncjobv1alpha1.JobLimits{})
	if err := c.Create(ctx, jt); err != nil {
		return "", err
	}
	apimeta.SetStatusCondition(&jt.Status.Conditions, metav1.Condition{
		Type: asyncjobv1alpha1.TypeConditionReady, Status: metav1.ConditionTrue, Reason: asyncjobv1alpha1.ReasonValid,
		Message: "seeded by the benchmark", ObservedGeneration: jt.Generation,
	})
	if err := c.Status().Update(ctx, jt); err != nil {
		return "", err
	}
	now := metav1.Now()
	for i := range n {
		aj := wrappers.MakeAsyncJob(fmt.Sprintf("00000000-0000-4000-8000-%012d", i), ns).Tenant(tenant).
			Type(benchType).Params(fmt.Sprintf(`{"index":%d}`, i)).Obj()
		if err := c.Create(ctx, aj); err != nil {
			return "", err
		}
		aj.Status = asyncjobv1alpha1.AsyncJobStatus{
			State: asyncjobv1alpha1.StateCompleted, JobName: aj.Name, Attempts: 1,
			StartTime: &now, CompletionTime: &now,
			Result: &apiextensionsv1.JSON{Raw: []byte(typicalResult)},
		}
		if err := c.Status().Update(ctx, aj); err != nil {
			return "", err
		}
	}
	return key, nil
}

// firstPage lists the tenant's first page through h and returns its ids and
// ETags. h's cache synced after the seeding, so it holds the final states.
func firstPage(h http.Handler, key string) (ids, etags []string, err error) {
	req := httptest.NewRequest(http.MethodGet, "/v1/jobs?limit=20", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var page struct {
		Items []struct {
			ID     string `json:"id"`
			Status string `json:"status"`
		} `json:"items"`
	}
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &page) != nil || len(page.Items) == 0 {
		return nil, nil, fmt.Errorf("GET /v1/jobs: %d %s", rec.Code, rec.Body.String())
	}
	for _, it := range page.Items {
		req := httptest.NewRequest(http.MethodGet, "/v1/jobs/"+it.ID, nil)
		req.Header.Set("Authorization", "Bearer "+key)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || rec.Header().Get("ETag") == "" {
			return nil, nil, fmt.Errorf("GET /v1/jobs/%s: %d", it.ID, rec.Code)
		}
		ids, etags = append(ids, it.ID), append(etags, rec.Header().Get("ETag"))
	}
	return ids, etags, nil
}
