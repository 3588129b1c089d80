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

package install

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/internal/httpapi"
	"github.com/asyncjob/asyncjob/test/framework"
	"github.com/asyncjob/asyncjob/test/localcluster"
	"github.com/asyncjob/asyncjob/test/restclient"
)

// The job type the upgrade adds: the test worker image on the real node; its
// termination message, with the parameters expanded, is the result.
const upgradeValues = `
api:
  replicas: 3
  rateLimit: 50
jobTypes:
  convert:
    description: Pretends to convert a media file, on the real node.
    pollIntervalSeconds: 1
    parametersSchema:
      type: object
      required: [input, format]
      properties:
        input: {type: string}
        format: {type: string, enum: [webm, mp4]}
    template:
      spec:
        template:
          spec:
            restartPolicy: Never
            containers:
            - name: convert
              image: ` + localcluster.WorkerImage + `
              imagePullPolicy: Never
              env:
              - name: WORKER_RESULT
                value: '{"output":"$(ASYNCJOB_PARAM_INPUT).$(ASYNCJOB_PARAM_FORMAT)"}'
`

func TestHelmInstallUpgradeUninstall(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Minute)
	defer cancel()
	c := startCluster(ctx, t)
	var err error
	if kubectlPath, err = localcluster.Kubectl(ctx); err != nil {
		t.Fatal(err)
	}
	scheme := framework.Scheme()
	if err := apiextensionsv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	cl, err := client.New(c.Config(), client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}

	// 0. Storage for the chart's default artifact store (artifacts_test.go).
	provideArtifactsVolume(ctx, t, cl)

	// 1. The README's two commands, with this cluster's registry.
	for _, line := range readmeInstallCommands(t) {
		shell(ctx, t, c, []string{"REGISTRY=" + c.Registry()}, line)
	}
	image := c.Registry() + "/asyncjob:v0.1.0"
	// The chart's defaults: one controller, two API replicas.
	for component, replicas := range map[string]int{"controller": 1, "api": 2} {
		pods := readyPods(ctx, t, cl, component, replicas)
		for _, p := range pods {
			if p.Spec.NodeName != c.RealNodeName() || p.Spec.Containers[0].Image != image {
				t.Errorf("%s pod %s: node %q image %q, want the real node and %s", component, p.Name, p.Spec.NodeName, p.Spec.Containers[0].Image, image)
			}
			// Pulled from the registry: containerd records the digest it pulled.
			if id := p.Status.ContainerStatuses[0].ImageID; !strings.Contains(id, "sha256:") {
				t.Errorf("%s pod %s: imageID %q, want a pulled digest", component, p.Name, id)
			}
		}
	}
	// The controller runs with leader election; its Lease names its pod.
	waitFor(ctx, t, "the controller's leader election Lease", func(ctx context.Context) bool {
		var lease coordinationv1.Lease
		err := cl.Get(ctx, client.ObjectKey{Namespace: namespace, Name: "asyncjob-controller.asyncjob.io"}, &lease)
		return err == nil && lease.Spec.HolderIdentity != nil && strings.HasPrefix(*lease.Spec.HolderIdentity, release)
	})
	key := generatedKey(ctx, t, cl)
	checkArtifactsStore(ctx, t, cl)

	// 2. An upgrade with changed values: a job type and a new API
	// configuration, rolled out to three replicas.
	before := deployment(ctx, t, cl, "api")
	valuesFile := filepath.Join(t.TempDir(), "values.yaml")
	if err := os.WriteFile(valuesFile, []byte(upgradeValues), 0o644); err != nil {
		t.Fatal(err)
	}
	helm(ctx, t, c, "upgrade", release, "charts/asyncjob", "--namespace", namespace, "--reuse-values", "-f", valuesFile, "--wait", "--timeout", "5m")
	pods := readyPods(ctx, t, cl, "api", 3)
	for _, p := range pods {
		if !strings.Contains(strings.Join(p.Spec.Containers[0].Args, " "), "--rate-limit=50") {
			t.Errorf("api pod %s args %v: want the upgraded --rate-limit=50", p.Name, p.Spec.Containers[0].Args)
		}
	}
	if after := deployment(ctx, t, cl, "api"); after.Generation == before.Generation {
		t.Errorf("the API Deployment's generation stayed %d: the upgrade changed nothing", after.Generation)
	}
	if again := generatedKey(ctx, t, cl); again != key {
		t.Error("the upgrade replaced the generated API key; clients holding it would be locked out")
	}
	var jobType asyncjobv1alpha1.AsyncJobType
	waitFor(ctx, t, "the job type from values to be Ready", func(ctx context.Context) bool {
		return cl.Get(ctx, client.ObjectKey{Name: "convert"}, &jobType) == nil && jobType.IsReady()
	})

	// 3. A job submitted through the API's Service (its ClusterIP, through
	// kube-proxy) runs on the real node and completes with its result.
	svc := service(ctx, t, cl, "api")
	// Longer than the API's own Kubernetes deadline (10 s), so a slow API
	// server shows as its 503 rather than as this client's timeout.
	api := &restclient.Client{
		Base: fmt.Sprintf("http://%s:%d", svc.Spec.ClusterIP, svc.Spec.Ports[0].Port),
		Key:  key, HTTP: &http.Client{Timeout: 30 * time.Second},
	}
	// Every API replica accepts the type once its own cache has seen it Ready.
	// Each ready pod is asked at its own IP (this machine reaches pod IPs on
	// the real node's bridge): through the Service, a keep-alive connection
	// reaches one pod only.
	for _, p := range pods {
		replica := &restclient.Client{Base: "http://" + net.JoinHostPort(p.Status.PodIP, strconv.Itoa(int(containerPort(t, p, "http")))), Key: key, HTTP: &http.Client{Timeout: 10 * time.Second}}
		waitFor(ctx, t, "API pod "+p.Name+" at "+replica.Base+" to list the job type", func(ctx context.Context) bool {
			resp, _, err := replica.Do(ctx, http.MethodGet, "/v1/types/convert", nil)
			return err == nil && resp.StatusCode == http.StatusOK
		})
	}
	// kube-proxy programs the Service's rules asynchronously after the
	// rollout: wait until it answers, then submit on that connection.
	waitFor(ctx, t, "the API's Service to answer", func(ctx context.Context) bool {
		resp, raw, err := api.Do(ctx, http.MethodGet, "/v1/types/convert", nil)
		switch {
		case err != nil:
			t.Logf("GET /v1/types/convert through the Service: %v", err)
		case resp.StatusCode != http.StatusOK:
			t.Logf("GET /v1/types/convert through the Service: %d %s", resp.StatusCode, raw)
		}
		return err == nil && resp.StatusCode == http.StatusOK
	})
	job := submit(ctx, t, api, "convert", map[string]any{"input": "in.mov", "format": "webm"})
	var got httpapi.Job
	waitFor(ctx, t, "the job to complete", func(ctx context.Context) bool {
		got = getJob(ctx, t, api, job.ID)
		return got.Status == httpapi.StatusCompleted || got.Status == httpapi.StatusFailed
	})
	if got.Status != httpapi.StatusCompleted || !bytes.Equal(compact(t, got.Result), []byte(`{"output":"in.mov.webm"}`)) {
		t.Errorf("job %s: status %s result %s, want COMPLETED with {\"output\":\"in.mov.webm\"}", got.ID, got.Status, got.Result)
	}

	// 4. Uninstall removes everything the release made except the CRDs.
	helm(ctx, t, c, "uninstall", release, "--namespace", namespace, "--wait", "--timeout", "5m")
	waitFor(ctx, t, "every object of the release to be gone", func(ctx context.Context) bool {
		left := releaseObjects(ctx, t, cl)
		if len(left) > 0 {
			t.Logf("still there: %v", left)
		}
		return len(left) == 0
	})
	checkArtifactsClaimKept(ctx, t, cl)
	for _, crd := range []string{"asyncjobs.asyncjob.io", "asyncjobtypes.asyncjob.io"} {
		if err := cl.Get(ctx, client.ObjectKey{Name: crd}, &apiextensionsv1.CustomResourceDefinition{}); err != nil {
			t.Errorf("CRD %s after uninstall: %v; Helm keeps the CRDs of crds/", crd, err)
		}
	}
	// The README's way to remove the CRDs, and every job with them.
	shell(ctx, t, c, nil, kubectlPath+" delete crd asyncjobs.asyncjob.io asyncjobtypes.asyncjob.io")
	waitFor(ctx, t, "the CRDs to be deleted", func(ctx context.Context) bool {
		err := cl.Get(ctx, client.ObjectKey{Name: "asyncjobs.asyncjob.io"}, &apiextensionsv1.CustomResourceDefinition{})
		return apierrors.IsNotFound(err)
	})
}

func waitFor(ctx context.Context, t *testing.T, what string, cond func(context.Context) bool) {
	t.Helper()
	if err := wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, 3*time.Minute, true, func(ctx context.Context) (bool, error) {
		return cond(ctx), nil
	}); err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}

func componentLabels(component string) client.MatchingLabels {
	return client.MatchingLabels{"app.kubernetes.io/instance": release, "app.kubernetes.io/component": component}
}

// readyPods waits for exactly n Ready pods of a component (old ones of a
// rollout gone) and returns them.
func readyPods(ctx context.Context, t *testing.T, cl client.Client, component string, n int) []corev1.Pod {
	t.Helper()
	var pods corev1.PodList
	waitFor(ctx, t, fmt.Sprintf("%d ready %s pods", n, component), func(ctx context.Context) bool {
		if err := cl.List(ctx, &pods, client.InNamespace(namespace), componentLabels(component)); err != nil {
			return false
		}
		ready := 0
		for _, p := range pods.Items {
			for _, cond := range p.Status.Conditions {
				if cond.Type == corev1.PodReady && cond.Status == corev1.ConditionTrue && p.DeletionTimestamp == nil {
					ready++
				}
			}
		}
		return ready == n && len(pods.Items) == n
	})
	return pods.Items
}

func containerPort(t *testing.T, p corev1.Pod, name string) int32 {
	t.Helper()
	for _, port := range p.Spec.Containers[0].Ports {
		if port.Name == name {
			return port.ContainerPort
		}
	}
	t.Fatalf("pod %s has no container port %q", p.Name, name)
	return 0
}

func deployment(ctx context.Context, t *testing.T, cl client.Client, component string) appsv1.Deployment {
	t.Helper()
	var list appsv1.DeploymentList
	if err := cl.List(ctx, &list, client.InNamespace(namespace), componentLabels(component)); err != nil || len(list.Items) != 1 {
		t.Fatalf("the %s Deployment: %d found (err %v), want 1", component, len(list.Items), err)
	}
	return list.Items[0]
}

func service(ctx context.Context, t *testing.T, cl client.Client, component string) corev1.Service {
	t.Helper()
	var list corev1.ServiceList
	if err := cl.List(ctx, &list, client.InNamespace(namespace), componentLabels(component)); err != nil || len(list.Items) != 1 {
		t.Fatalf("the %s Service: %d found (err %v), want 1", component, len(list.Items), err)
	}
	return list.Items[0]
}

// generatedKey reads the API key the chart generated, the way NOTES.txt
// tells an operator to.
func generatedKey(ctx context.Context, t *testing.T, cl client.Client) string {
	t.Helper()
	var secret corev1.Secret
	if err := cl.Get(ctx, client.ObjectKey{Namespace: namespace, Name: release + "-api-key-generated"}, &secret); err != nil {
		t.Fatalf("the generated API key's Secret: %v", err)
	}
	key := string(secret.Data["apiKey"])
	if len(key) < 32 {
		t.Fatalf("generated API key of %d characters, want at least 32", len(key))
	}
	return key
}

func submit(ctx context.Context, t *testing.T, api *restclient.Client, jobType string, params map[string]any) httpapi.Job {
	t.Helper()
	resp, raw, err := api.Do(ctx, http.MethodPost, "/v1/jobs", map[string]any{"type": jobType, "parameters": params})
	var job httpapi.Job
	if err != nil || resp.StatusCode != http.StatusAccepted || json.Unmarshal(raw, &job) != nil {
		t.Fatalf("POST /v1/jobs through the Service: %v %s, want 202 and the job", err, raw)
	}
	return job
}

func getJob(ctx context.Context, t *testing.T, api *restclient.Client, id string) httpapi.Job {
	t.Helper()
	resp, raw, err := api.Do(ctx, http.MethodGet, "/v1/jobs/"+id, nil)
	var job httpapi.Job
	if err != nil || resp.StatusCode != http.StatusOK || json.Unmarshal(raw, &job) != nil {
		t.Fatalf("GET /v1/jobs/%s: %v %s", id, err, raw)
	}
	return job
}

func compact(t *testing.T, raw json.RawMessage) []byte {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return raw
	}
	out, _ := json.Marshal(v)
	return out
}

// releaseObjects lists what still carries the release's instance label:
// namespaced objects in the release namespace, cluster-scoped ones, and the
// job types from values.
func releaseObjects(ctx context.Context, t *testing.T, cl client.Client) []string {
	t.Helper()
	sel := client.MatchingLabels{"app.kubernetes.io/instance": release}
	lists := map[string]client.ObjectList{
		"Deployment": &appsv1.DeploymentList{}, "Pod": &corev1.PodList{}, "Service": &corev1.ServiceList{},
		"ServiceAccount": &corev1.ServiceAccountList{}, "Secret": &corev1.SecretList{}, "ConfigMap": &corev1.ConfigMapList{},
		"Role": &rbacv1.RoleList{}, "RoleBinding": &rbacv1.RoleBindingList{},
	}
	clusterLists := map[string]client.ObjectList{
		"ClusterRole": &rbacv1.ClusterRoleList{}, "ClusterRoleBinding": &rbacv1.ClusterRoleBindingList{},
		"AsyncJobType": &asyncjobv1alpha1.AsyncJobTypeList{},
	}
	var left []string
	collect := func(kind string, list client.ObjectList, opts ...client.ListOption) {
		if err := cl.List(ctx, list, append(opts, sel)...); err != nil {
			left = append(left, kind+": "+err.Error())
			return
		}
		raw, _ := json.Marshal(list)
		var items struct {
			Items []struct {
				Metadata struct{ Name string } `json:"metadata"`
			} `json:"items"`
		}
		_ = json.Unmarshal(raw, &items)
		for _, it := range items.Items {
			left = append(left, kind+"/"+it.Metadata.Name)
		}
	}
	for kind, list := range lists {
		collect(kind, list, client.InNamespace(namespace))
	}
	for kind, list := range clusterLists {
		collect(kind, list)
	}
	return left
}
