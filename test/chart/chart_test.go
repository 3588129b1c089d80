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

package chart

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/test/framework"
)

// Object names with the default values and release "asyncjob".
const (
	controllerName = "asyncjob-controller"
	apiName        = "asyncjob-api"
	keysSecret     = "asyncjob-api-keys"
	keySecret      = "asyncjob-api-key-generated"
	workerKey      = "asyncjob-worker-token-key"
	artifactsClaim = "asyncjob-artifacts"
)

func TestLint(t *testing.T) {
	t.Parallel()
	all := valuesFile(t, allFeaturesValues)
	for name, args := range map[string][]string{
		"defaults":              {"lint", chartDir},
		"strict":                {"lint", "--strict", chartDir},
		"strict, every feature": {"lint", "--strict", chartDir, "-f", all},
		"strict, auth none":     {"lint", "--strict", chartDir, "--set", "api.auth.mode=none"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			stdout, stderr, err := runHelm(t, args...)
			if err != nil || !strings.Contains(stdout, "0 chart(s) failed") {
				t.Errorf("helm %s: %v\n%s%s", strings.Join(args, " "), err, stdout, stderr)
			}
		})
	}
}

func TestDefaultObjects(t *testing.T) {
	t.Parallel()
	r := render(t)
	want := []string{
		"AsyncJobType/convert", // convert.enabled
		"ClusterRole/" + apiName, "ClusterRole/" + controllerName, "ClusterRole/asyncjob-metrics-reader",
		"ClusterRoleBinding/" + apiName, "ClusterRoleBinding/" + controllerName,
		"Deployment/" + apiName, "Deployment/" + controllerName,
		"PersistentVolumeClaim/" + artifactsClaim,
		"Role/" + apiName, "Role/" + controllerName + "-leader-election",
		"RoleBinding/" + apiName, "RoleBinding/" + controllerName + "-leader-election",
		"Secret/" + keySecret, "Secret/" + keysSecret, "Secret/" + workerKey,
		"Service/" + apiName, "Service/" + controllerName + "-metrics",
		"ServiceAccount/" + apiName, "ServiceAccount/" + controllerName,
	}
	got := r.names()
	sort.Strings(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rendered objects (-want +got):\n%s", diff)
	}
	clusterScoped := map[string]bool{"ClusterRole": true, "ClusterRoleBinding": true, "AsyncJobType": true}
	for _, o := range r.objects {
		wantNS := namespace
		if clusterScoped[o.Kind] {
			wantNS = ""
		}
		if o.Namespace != wantNS {
			t.Errorf("%s/%s: namespace %q, want %q", o.Kind, o.Name, o.Namespace, wantNS)
		}
		if o.Labels["app.kubernetes.io/instance"] != release || o.Labels["app.kubernetes.io/managed-by"] != "Helm" ||
			o.Labels["app.kubernetes.io/name"] != "asyncjob" || o.Labels["helm.sh/chart"] == "" {
			t.Errorf("%s/%s: labels %v, want the chart's standard labels", o.Kind, o.Name, o.Labels)
		}
	}
}

func TestDeploymentsAreRestricted(t *testing.T) {
	t.Parallel()
	r := render(t)
	image := "ghcr.io/asyncjob/asyncjob:" + appVersion(t)
	for _, name := range []string{controllerName, apiName} {
		var d appsv1.Deployment
		r.get(t, "Deployment", name, &d)
		pod := d.Spec.Template.Spec
		wantPod := &corev1.PodSecurityContext{
			RunAsNonRoot:   ptr.To(true),
			RunAsUser:      ptr.To[int64](65532),
			RunAsGroup:     ptr.To[int64](65532),
			SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
			// The default filesystem artifact store: writable by the image's group.
			FSGroup:             ptr.To[int64](65532),
			FSGroupChangePolicy: ptr.To(corev1.FSGroupChangeOnRootMismatch),
		}
		if diff := cmp.Diff(wantPod, pod.SecurityContext); diff != "" {
			t.Errorf("%s: pod securityContext (-want +got):\n%s", name, diff)
		}
		if len(pod.Containers) != 1 {
			t.Fatalf("%s: %d containers, want 1", name, len(pod.Containers))
		}
		c := pod.Containers[0]
		wantContainer := &corev1.SecurityContext{
			AllowPrivilegeEscalation: ptr.To(false),
			ReadOnlyRootFilesystem:   ptr.To(true),
			Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		}
		if diff := cmp.Diff(wantContainer, c.SecurityContext); diff != "" {
			t.Errorf("%s: container securityContext (-want +got):\n%s", name, diff)
		}
		if c.Image != image || c.ImagePullPolicy != corev1.PullIfNotPresent {
			t.Errorf("%s: image %q (%s), want %q (IfNotPresent)", name, c.Image, c.ImagePullPolicy, image)
		}
		// The pod template carries the selector's labels.
		sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
		if err != nil || !sel.Matches(labels.Set(d.Spec.Template.Labels)) {
			t.Errorf("%s: selector %v does not select its pod template's labels %v", name, d.Spec.Selector, d.Spec.Template.Labels)
		}
		var sa corev1.ServiceAccount
		r.get(t, "ServiceAccount", pod.ServiceAccountName, &sa)
		wantReq := corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("10m"), corev1.ResourceMemory: resource.MustParse("64Mi")},
			Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")},
		}
		if !apiequality.Semantic.DeepEqual(wantReq, c.Resources) {
			t.Errorf("%s: resources %v, want %v", name, c.Resources, wantReq)
		}
	}
}

func TestControllerDeployment(t *testing.T) {
	t.Parallel()
	r := render(t)
	var d appsv1.Deployment
	r.get(t, "Deployment", controllerName, &d)
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 1 {
		t.Errorf("replicas %v, want 1", d.Spec.Replicas)
	}
	c := d.Spec.Template.Spec.Containers[0]
	for _, arg := range []string{"--leader-elect", "--leader-election-namespace=" + namespace,
		"--metrics-bind-address=:8081", "--metrics-secure=true", "--health-probe-bind-address=:8082",
		"--max-concurrent-reconciles=4", "--zap-log-level=info", "--zap-devel=false"} {
		if !slices.Contains(c.Args, arg) {
			t.Errorf("args %v: missing %s", c.Args, arg)
		}
	}
	if len(c.Args) == 0 || c.Args[0] != "controller" {
		t.Errorf("args %v: want the controller subcommand first", c.Args)
	}
	ports := containerPorts(c)
	if ports["metrics"] != 8081 || ports["probes"] != 8082 {
		t.Errorf("ports %v, want metrics 8081 and probes 8082", ports)
	}
	checkProbe(t, "controller liveness", c.LivenessProbe, "/healthz", "probes")
	checkProbe(t, "controller readiness", c.ReadinessProbe, "/readyz", "probes")

	// The metrics Service reaches the metrics port of the controller's pods.
	var svc corev1.Service
	r.get(t, "Service", controllerName+"-metrics", &svc)
	if svc.Spec.Type != corev1.ServiceTypeClusterIP || len(svc.Spec.Ports) != 1 ||
		svc.Spec.Ports[0].Port != 8081 || svc.Spec.Ports[0].Name != "metrics" || svc.Spec.Ports[0].TargetPort != intstr.FromString("metrics") {
		t.Errorf("metrics Service spec %+v, want ClusterIP port 8081 named metrics to targetPort metrics", svc.Spec)
	}
	if !labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(d.Spec.Template.Labels)) {
		t.Errorf("metrics Service selector %v does not select the controller's pods %v", svc.Spec.Selector, d.Spec.Template.Labels)
	}
}

func TestAPIDeploymentAndService(t *testing.T) {
	t.Parallel()
	r := render(t)
	var d appsv1.Deployment
	r.get(t, "Deployment", apiName, &d)
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 2 {
		t.Errorf("replicas %v, want 2", d.Spec.Replicas)
	}
	c := d.Spec.Template.Spec.Containers[0]
	wantArgs := []string{"api", "--bind-address=:8080", "--metrics-bind-address=:9090", "--auth-mode=apikey",
		"--api-keys-secret=" + namespace + "/" + keysSecret, "--tenant-namespace-template={tenant}",
		"--rate-limit=20", "--rate-burst=40", "--max-unfinished-jobs=100", "--max-body-bytes=1048576",
		"--webhook-rotation-grace=24h",
		"--worker-token-key-file=/etc/asyncjob/worker-token/key",
		"--artifact-store-url=file:///var/lib/asyncjob/artifacts?no_tmp_dir=true",
		"--artifact-max-file-bytes=1073741824", "--artifact-max-request-bytes=4294967296",
		"--artifact-max-output-bytes=4294967296", "--artifact-redirect=false", "--artifact-url-expiry=5m",
		"--zap-log-level=info", "--zap-devel=false"}
	if diff := cmp.Diff(wantArgs, c.Args); diff != "" {
		t.Errorf("API args (-want +got):\n%s", diff)
	}
	if ports := containerPorts(c); len(ports) != 2 || ports["http"] != 8080 || ports["metrics"] != 9090 {
		t.Errorf("ports %v, want http 8080 and metrics 9090", ports)
	}
	checkProbe(t, "API liveness", c.LivenessProbe, "/healthz", "http")
	checkProbe(t, "API readiness", c.ReadinessProbe, "/readyz", "http")

	var svc corev1.Service
	r.get(t, "Service", apiName, &svc)
	if svc.Spec.Type != corev1.ServiceTypeClusterIP || len(svc.Spec.Ports) != 2 {
		t.Fatalf("API Service spec %+v, want ClusterIP with two ports", svc.Spec)
	}
	if p := svc.Spec.Ports[0]; p.Name != "http" || p.Port != 80 || p.TargetPort != intstr.FromString("http") {
		t.Errorf("API Service port %+v, want http 80 -> targetPort http", p)
	}
	if p := svc.Spec.Ports[1]; p.Name != "metrics" || p.Port != 9090 || p.TargetPort != intstr.FromString("metrics") {
		t.Errorf("API Service port %+v, want metrics 9090 -> targetPort metrics", p)
	}
	if !labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(d.Spec.Template.Labels)) {
		t.Errorf("API Service selector %v does not select the API's pods %v", svc.Spec.Selector, d.Spec.Template.Labels)
	}
	// Exactly one Service per component: the API's and the controller's metrics.
	for _, s := range r.find("Service") {
		if s.Name != apiName && s.Labels["app.kubernetes.io/component"] == "api" {
			t.Errorf("Service %s also carries component=api", s.Name)
		}
	}
}

// TestRBACComesFromControllerGen: the chart's rules are exactly the generated
// ones in config/rbac, and each binding names the component's ServiceAccount.
func TestRBACComesFromControllerGen(t *testing.T) {
	t.Parallel()
	r := render(t)
	root := framework.RepoRoot()
	var controllerRole, apiRole rbacv1.ClusterRole
	var apiSecretsRole rbacv1.Role
	readGenerated(t, filepath.Join(root, "config", "rbac", "role.yaml"), "ClusterRole", &controllerRole)
	readGenerated(t, filepath.Join(root, "config", "rbac", "api", "role.yaml"), "ClusterRole", &apiRole)
	readGenerated(t, filepath.Join(root, "config", "rbac", "api", "role.yaml"), "Role", &apiSecretsRole)

	var gotController, gotAPI rbacv1.ClusterRole
	var gotSecrets, gotLeader rbacv1.Role
	r.get(t, "ClusterRole", controllerName, &gotController)
	r.get(t, "ClusterRole", apiName, &gotAPI)
	r.get(t, "Role", apiName, &gotSecrets)
	r.get(t, "Role", controllerName+"-leader-election", &gotLeader)
	for _, c := range []struct {
		name      string
		want, got []rbacv1.PolicyRule
	}{
		{"controller ClusterRole", controllerRole.Rules, gotController.Rules},
		{"API ClusterRole", apiRole.Rules, gotAPI.Rules},
		{"API Role", apiSecretsRole.Rules, gotSecrets.Rules},
	} {
		if len(c.want) == 0 {
			t.Errorf("%s: config/rbac has no rules", c.name)
		}
		if diff := cmp.Diff(c.want, c.got); diff != "" {
			t.Errorf("%s rules differ from controller-gen's (-config/rbac +chart):\n%s", c.name, diff)
		}
	}
	wantLeader := []rbacv1.PolicyRule{
		{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, Verbs: []string{"get", "list", "watch", "create", "update", "patch", "delete"}},
		{APIGroups: []string{"", "events.k8s.io"}, Resources: []string{"events"}, Verbs: []string{"create", "patch"}},
	}
	if diff := cmp.Diff(wantLeader, gotLeader.Rules); diff != "" {
		t.Errorf("leader election Role (-want +got):\n%s", diff)
	}

	subject := func(sa string) []rbacv1.Subject {
		return []rbacv1.Subject{{Kind: "ServiceAccount", Name: sa, Namespace: namespace}}
	}
	for _, b := range []struct{ kind, name, roleKind, role, sa string }{
		{"ClusterRoleBinding", controllerName, "ClusterRole", controllerName, controllerName},
		{"ClusterRoleBinding", apiName, "ClusterRole", apiName, apiName},
		{"RoleBinding", apiName, "Role", apiName, apiName},
		{"RoleBinding", controllerName + "-leader-election", "Role", controllerName + "-leader-election", controllerName},
	} {
		var binding struct {
			metav1.TypeMeta   `json:",inline"`
			metav1.ObjectMeta `json:"metadata"`
			Subjects          []rbacv1.Subject `json:"subjects"`
			RoleRef           rbacv1.RoleRef   `json:"roleRef"`
		}
		r.get(t, b.kind, b.name, &binding)
		if binding.RoleRef != (rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: b.roleKind, Name: b.role}) {
			t.Errorf("%s %s: roleRef %+v, want %s %s", b.kind, b.name, binding.RoleRef, b.roleKind, b.role)
		}
		if diff := cmp.Diff(subject(b.sa), binding.Subjects); diff != "" {
			t.Errorf("%s %s subjects (-want +got):\n%s", b.kind, b.name, diff)
		}
	}
}

// TestGeneratedCopiesAreCurrent: crds/ and files/rbac/ are verbatim copies of
// what `make manifests` generates into config/.
func TestGeneratedCopiesAreCurrent(t *testing.T) {
	t.Parallel()
	root := framework.RepoRoot()
	pairs := map[string]string{
		"config/rbac/role.yaml":     "charts/asyncjob/files/rbac/controller-role.yaml",
		"config/rbac/api/role.yaml": "charts/asyncjob/files/rbac/api-role.yaml",
	}
	bases, err := filepath.Glob(filepath.Join(root, "config", "crd", "bases", "*.yaml"))
	if err != nil || len(bases) == 0 {
		t.Fatalf("no CRDs in config/crd/bases: %v", err)
	}
	for _, b := range bases {
		pairs["config/crd/bases/"+filepath.Base(b)] = "charts/asyncjob/crds/" + filepath.Base(b)
	}
	copies, _ := filepath.Glob(filepath.Join(chartDir, "crds", "*"))
	if len(copies) != len(bases) {
		t.Errorf("charts/asyncjob/crds has %d files, config/crd/bases %d: run `make manifests`", len(copies), len(bases))
	}
	for src, dst := range pairs {
		want, err := os.ReadFile(filepath.Join(root, src))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(root, dst))
		if err != nil || string(got) != string(want) {
			t.Errorf("%s is not a copy of %s (err %v): run `make manifests`", dst, src, err)
		}
	}
}

func TestGeneratedAPIKey(t *testing.T) {
	t.Parallel()
	r := render(t)
	var hashes, plain corev1.Secret
	r.get(t, "Secret", keysSecret, &hashes)
	r.get(t, "Secret", keySecret, &plain)
	if len(hashes.Data) != 1 {
		t.Errorf("%s holds %d entries, want 1", keysSecret, len(hashes.Data))
	}
	hash := string(hashes.Data["default.generated"])
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(hash) {
		t.Fatalf("%s[default.generated] = %q, want 64 lowercase hex characters", keysSecret, hash)
	}
	key := string(plain.Data["apiKey"])
	if !regexp.MustCompile(`^[A-Za-z0-9]{40}$`).MatchString(key) {
		t.Errorf("generated key %q, want 40 alphanumerics", key)
	}
	if sum := sha256.Sum256([]byte(key)); hex.EncodeToString(sum[:]) != hash {
		t.Error("the stored hash is not the SHA-256 of the generated key: the key would not authenticate")
	}
	if got := string(plain.Data["tenant"]); got != "default" {
		t.Errorf("tenant %q, want default", got)
	}

	// Another tenant for the generated key.
	var acme corev1.Secret
	render(t, "--set", "api.auth.apiKeys.generatedTenant=acme").get(t, "Secret", keysSecret, &acme)
	if _, ok := acme.Data["acme.generated"]; !ok || len(acme.Data) != 1 {
		t.Errorf("entries %v, want acme.generated only", mapKeys(acme.Data))
	}
}

func TestExistingAPIKeySecret(t *testing.T) {
	t.Parallel()
	r := render(t, "--set", "api.auth.apiKeys.existingSecret=my-keys")
	if s := apiKeySecrets(r); len(s) != 0 {
		t.Errorf("rendered API-key Secrets %v, want none with an existing Secret", s)
	}
	var d appsv1.Deployment
	r.get(t, "Deployment", apiName, &d)
	if args := d.Spec.Template.Spec.Containers[0].Args; !slices.Contains(args, "--api-keys-secret="+namespace+"/my-keys") {
		t.Errorf("args %v, want --api-keys-secret=%s/my-keys", args, namespace)
	}
	if !r.has("Role", apiName) || !r.has("RoleBinding", apiName) {
		t.Error("the API's Role for reading Secrets is missing")
	}
	notes := renderNotes(t, "--set", "api.auth.apiKeys.existingSecret=my-keys")
	if !strings.Contains(notes, namespace+"/my-keys") || strings.Contains(notes, keySecret) {
		t.Errorf("notes should point at the existing Secret, not a generated key:\n%s", notes)
	}
}

// apiKeySecrets are the rendered Secrets but the worker token key, which
// every auth mode has.
func apiKeySecrets(r rendered) []string {
	var out []string
	for _, o := range r.find("Secret") {
		if o.Name != workerKey {
			out = append(out, o.Name)
		}
	}
	return out
}

// TestWorkerTokenKey: one generated key, mounted into the controller and the
// API, which both read it from the file their flag names; the controller
// calls back through the chart's API Service and injects the chart's image.
func TestWorkerTokenKey(t *testing.T) {
	t.Parallel()
	r := render(t)
	var secret corev1.Secret
	r.get(t, "Secret", workerKey, &secret)
	if key := string(secret.Data["key"]); !regexp.MustCompile(`^[A-Za-z0-9]{64}$`).MatchString(key) || len(secret.Data) != 1 {
		t.Errorf("%s data %v, want one entry key of 64 alphanumerics", workerKey, mapKeys(secret.Data))
	}
	checkWorkerKeyMounts(t, r, workerKey)

	var ctrl appsv1.Deployment
	r.get(t, "Deployment", controllerName, &ctrl)
	args := ctrl.Spec.Template.Spec.Containers[0].Args
	for _, want := range []string{"--callback-url=http://" + apiName + "." + namespace + ".svc:80",
		"--entrypoint-image=ghcr.io/asyncjob/asyncjob:" + appVersion(t)} {
		if !slices.Contains(args, want) {
			t.Errorf("controller args %v: missing %s", args, want)
		}
	}
	// The callback URL's host is the API Service the chart renders.
	var svc corev1.Service
	r.get(t, "Service", apiName, &svc)
	if svc.Name+"."+svc.Namespace != apiName+"."+namespace || svc.Spec.Ports[0].Port != 80 {
		t.Errorf("API Service %s.%s port %d: the callback URL does not reach it", svc.Name, svc.Namespace, svc.Spec.Ports[0].Port)
	}

	// An existing Secret: nothing generated, both mount that one.
	r = render(t, "--set", "workerToken.existingSecret=my-worker-key")
	if r.has("Secret", workerKey) {
		t.Errorf("%s rendered with workerToken.existingSecret", workerKey)
	}
	checkWorkerKeyMounts(t, r, "my-worker-key")

	// The URL follows the Service's name and port; the image follows the chart's.
	r = render(t, "--set", "fullnameOverride=jobs", "--set", "api.service.port=8443",
		"--set", "image.repository=registry.local:5000/asyncjob", "--set", "image.tag=dev")
	r.get(t, "Deployment", "jobs-controller", &ctrl)
	args = ctrl.Spec.Template.Spec.Containers[0].Args
	for _, want := range []string{"--callback-url=http://jobs-api." + namespace + ".svc:8443", "--entrypoint-image=registry.local:5000/asyncjob:dev"} {
		if !slices.Contains(args, want) {
			t.Errorf("controller args %v: missing %s", args, want)
		}
	}
	// Both set explicitly.
	r = render(t, "--set", "controller.callbackURL=https://jobs.example.com/asyncjob", "--set", "controller.entrypointImage=mirror.local/asyncjob:v9")
	r.get(t, "Deployment", controllerName, &ctrl)
	args = ctrl.Spec.Template.Spec.Containers[0].Args
	for _, want := range []string{"--callback-url=https://jobs.example.com/asyncjob", "--entrypoint-image=mirror.local/asyncjob:v9"} {
		if !slices.Contains(args, want) {
			t.Errorf("controller args %v: missing %s", args, want)
		}
	}
}

// checkWorkerKeyMounts: the controller and the API mount the Secret's entry
// key read-only where --worker-token-key-file points.
func checkWorkerKeyMounts(t *testing.T, r rendered, secretName string) {
	t.Helper()
	for _, name := range []string{controllerName, apiName} {
		var d appsv1.Deployment
		r.get(t, "Deployment", name, &d)
		pod := d.Spec.Template.Spec
		wantVolumes := []corev1.Volume{{Name: "worker-token-key", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
			SecretName: secretName, Items: []corev1.KeyToPath{{Key: "key", Path: "key"}}}}}, artifactsVolume(artifactsClaim)}
		if diff := cmp.Diff(wantVolumes, pod.Volumes); diff != "" {
			t.Errorf("%s volumes (-want +got):\n%s", name, diff)
		}
		c := pod.Containers[0]
		wantMounts := []corev1.VolumeMount{{Name: "worker-token-key", MountPath: "/etc/asyncjob/worker-token", ReadOnly: true}, artifactsMount}
		if diff := cmp.Diff(wantMounts, c.VolumeMounts); diff != "" {
			t.Errorf("%s volumeMounts (-want +got):\n%s", name, diff)
		}
		if !slices.Contains(c.Args, "--worker-token-key-file=/etc/asyncjob/worker-token/key") {
			t.Errorf("%s args %v: missing --worker-token-key-file=/etc/asyncjob/worker-token/key", name, c.Args)
		}
	}
}

func TestTokenReviewMode(t *testing.T) {
	t.Parallel()
	r := render(t, "--set", "api.auth.mode=tokenreview", "--set", "api.auth.tokenAudiences={asyncjob,other}")
	for _, kind := range []string{"Secret", "Role", "RoleBinding"} {
		for _, o := range r.find(kind) {
			if o.Labels["app.kubernetes.io/component"] == "api" {
				t.Errorf("%s %s rendered in tokenreview mode", kind, o.Name)
			}
		}
	}
	if !r.has("ClusterRole", apiName) {
		t.Error("the API ClusterRole (TokenReviews) is missing")
	}
	var d appsv1.Deployment
	r.get(t, "Deployment", apiName, &d)
	args := d.Spec.Template.Spec.Containers[0].Args
	if !slices.Contains(args, "--auth-mode=tokenreview") || !slices.Contains(args, "--token-audiences=asyncjob,other") {
		t.Errorf("args %v, want tokenreview with both audiences", args)
	}
	for _, a := range args {
		if strings.HasPrefix(a, "--api-keys-secret") {
			t.Errorf("args %v: %s in tokenreview mode", args, a)
		}
	}
}

func TestNoAuthMode(t *testing.T) {
	t.Parallel()
	r := render(t, "--set", "api.auth.mode=none", "--set", "api.noAuthTenant=dev")
	if s := apiKeySecrets(r); len(s) != 0 {
		t.Errorf("rendered API-key Secrets %v in auth mode none", s)
	}
	if r.has("Role", apiName) {
		t.Error("the Secrets Role is rendered in auth mode none")
	}
	if !r.has("Role", controllerName+"-leader-election") {
		t.Error("the controller's leader election Role is missing")
	}
	var d appsv1.Deployment
	r.get(t, "Deployment", apiName, &d)
	args := d.Spec.Template.Spec.Containers[0].Args
	if !slices.Contains(args, "--auth-mode=none") || !slices.Contains(args, "--no-auth-tenant=dev") {
		t.Errorf("args %v, want --auth-mode=none --no-auth-tenant=dev", args)
	}
	notes := renderNotes(t, "--set", "api.auth.mode=none", "--set", "api.noAuthTenant=dev")
	if !strings.Contains(notes, "WARNING: AUTHENTICATION IS DISABLED") || !strings.Contains(notes, `tenant "dev"`) {
		t.Errorf("notes without a loud warning about auth mode none:\n%s", notes)
	}
}

func TestNotes(t *testing.T) {
	t.Parallel()
	notes := renderNotes(t, "-f", valuesFile(t, "jobTypes:\n  zeta: {template: {}}\n  convert: {template: {}}\n"))
	for _, want := range []string{
		"kubectl -n " + namespace + " port-forward svc/" + apiName + " 8080:80",
		"kubectl -n " + namespace + " get secret " + keySecret + " -o jsonpath='{.data.apiKey}' | base64 -d",
		`-d '{"type":"convert","parameters":{}}'`, // the first type, by name
		`"$API/v1/jobs"`,
		`curl -s "$API$JOB"`,
		"kubectl create namespace default",
		"kubectl delete crd asyncjobs.asyncjob.io asyncjobtypes.asyncjob.io",
	} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}
	if strings.Contains(notes, "WARNING") {
		t.Errorf("notes warn with authentication on:\n%s", notes)
	}
	notes = renderNotes(t, "--set", "api.ingress.enabled=true", "--set", "api.tenantNamespaceTemplate=jobs-{tenant}")
	if !strings.Contains(notes, "export API=http://asyncjob.example.com") || !strings.Contains(notes, "kubectl create namespace jobs-default") {
		t.Errorf("notes with an Ingress and a namespace template:\n%s", notes)
	}
}

func TestJobTypes(t *testing.T) {
	t.Parallel()
	// The sample type, given as values: its spec renders unchanged.
	raw, err := os.ReadFile(filepath.Join(framework.RepoRoot(), "config", "samples", "asyncjob_v1alpha1_asyncjobtype.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var sample asyncjobv1alpha1.AsyncJobType
	var sampleMap map[string]any
	if err := yaml.UnmarshalStrict(raw, &sample); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(raw, &sampleMap); err != nil {
		t.Fatal(err)
	}
	values, err := yaml.Marshal(map[string]any{"jobTypes": map[string]any{"convert": sampleMap["spec"]}})
	if err != nil {
		t.Fatal(err)
	}
	r := render(t, "-f", valuesFile(t, string(values)))
	var got asyncjobv1alpha1.AsyncJobType
	r.get(t, "AsyncJobType", "convert", &got)
	if !apiequality.Semantic.DeepEqual(sample.Spec, got.Spec) {
		t.Errorf("rendered spec differs from the values:\n%s", cmp.Diff(sample.Spec, got.Spec))
	}
	if got.APIVersion != "asyncjob.io/v1alpha1" || got.Namespace != "" || got.Labels["app.kubernetes.io/instance"] != release {
		t.Errorf("AsyncJobType %s/%s in namespace %q with labels %v, want cluster-scoped with the release's labels",
			got.APIVersion, got.Kind, got.Namespace, got.Labels)
	}

	// From --set and --set-json, the way an install script passes them.
	r = render(t,
		"--set", "jobTypes.hello.template.spec.template.spec.containers[0].name=hello",
		"--set", "jobTypes.hello.template.spec.template.spec.containers[0].image=busybox:1.36",
		"--set", "jobTypes.hello.pollIntervalSeconds=2",
		"--set-json", `jobTypes.echo={"description":"echo","template":{"spec":{"template":{"spec":{"containers":[{"name":"echo","image":"busybox"}]}}}}}`)
	var hello, echo asyncjobv1alpha1.AsyncJobType
	r.get(t, "AsyncJobType", "hello", &hello)
	r.get(t, "AsyncJobType", "echo", &echo)
	if cs := hello.Spec.Template.Spec.Template.Spec.Containers; len(cs) != 1 || cs[0].Image != "busybox:1.36" || hello.Spec.PollIntervalSeconds != 2 {
		t.Errorf("hello from --set: %+v", hello.Spec)
	}
	if echo.Spec.Description != "echo" || len(echo.Spec.Template.Spec.Template.Spec.Containers) != 1 {
		t.Errorf("echo from --set-json: %+v", echo.Spec)
	}
	// Beyond the chart's own convert type (convert.enabled).
	if r := render(t, "--set", "convert.enabled=false"); len(r.find("AsyncJobType")) != 0 {
		t.Errorf("AsyncJobTypes with no jobTypes and convert off: %v, want none", r.names())
	}
}

// TestWebhookValues: the API's allowed ranges and rotation grace become its
// flags; each tenant default becomes the ConfigMap the API reads, in the
// tenant's namespace.
func TestWebhookValues(t *testing.T) {
	t.Parallel()
	if n := len(render(t).find("ConfigMap")); n != 0 {
		t.Errorf("%d ConfigMaps with the default values, want none", n)
	}
	r := render(t, "--set", "api.tenantNamespaceTemplate=aj-{tenant}",
		"--set-json", `api.webhook.allowedCIDRs=["10.1.0.0/16","fd00::/8"]`,
		"--set", "api.webhook.rotationGrace=1h30m",
		"--set-json", `api.webhook.tenantDefaults={"acme":{"url":"https://hooks.acme.example/aj","events":["job.completed","job.failed"]},"beta":{"url":"https://b.example/"}}`)
	var d appsv1.Deployment
	r.get(t, "Deployment", apiName, &d)
	args := d.Spec.Template.Spec.Containers[0].Args
	for _, want := range []string{"--webhook-allowed-cidrs=10.1.0.0/16,fd00::/8", "--webhook-rotation-grace=1h30m"} {
		if !slices.Contains(args, want) {
			t.Errorf("API args %v lack %s", args, want)
		}
	}
	got := map[string]map[string]string{}
	for _, o := range r.find("ConfigMap") {
		var cm corev1.ConfigMap
		if err := yaml.UnmarshalStrict(o.raw, &cm); err != nil {
			t.Fatal(err)
		}
		if cm.Name != "asyncjob-webhook-default" {
			t.Errorf("ConfigMap %s", cm.Name)
		}
		got[cm.Namespace] = cm.Data
	}
	want := map[string]map[string]string{
		"aj-acme": {"url": "https://hooks.acme.example/aj", "events": "job.completed,job.failed"},
		"aj-beta": {"url": "https://b.example/", "events": ""},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("default-webhook ConfigMaps (-want +got):\n%s", diff)
	}
}

func TestOverrides(t *testing.T) {
	t.Parallel()
	r := render(t,
		"--set", "image.repository=registry.local:5000/asyncjob", "--set", "image.tag=dev", "--set", "image.pullPolicy=Always",
		"--set", "imagePullSecrets[0].name=regcred",
		"--set", "controller.replicas=3", "--set", "controller.leaderElection.enabled=false",
		"--set", "controller.maxConcurrentReconciles=8", "--set", "controller.logLevel=debug",
		"--set", "controller.resources.limits.memory=1Gi", "--set", "controller.resources.requests.cpu=500m",
		"--set", "api.replicas=5", "--set", "api.rateLimit=50", "--set", "api.maxBodyBytes=4194304",
		"--set", "api.resources.limits.cpu=2",
		"--set", "api.service.type=LoadBalancer", "--set", "api.service.port=8443",
		"--set", `nodeSelector.kubernetes\.io/hostname=node-1`,
		"--set", "api.nodeSelector.disk=ssd",
		"--set", "tolerations[0].key=dedicated", "--set", "tolerations[0].operator=Exists",
		"--set", "controller.podAnnotations.a=b", "--set", "api.podLabels.team=x",
		"--set", "controller.priorityClassName=high",
		"--set", "commonLabels.owner=platform")
	var ctrl, api appsv1.Deployment
	r.get(t, "Deployment", controllerName, &ctrl)
	r.get(t, "Deployment", apiName, &api)
	for _, d := range []appsv1.Deployment{ctrl, api} {
		c := d.Spec.Template.Spec.Containers[0]
		if c.Image != "registry.local:5000/asyncjob:dev" || c.ImagePullPolicy != corev1.PullAlways {
			t.Errorf("%s: image %s (%s)", d.Name, c.Image, c.ImagePullPolicy)
		}
		if diff := cmp.Diff([]corev1.LocalObjectReference{{Name: "regcred"}}, d.Spec.Template.Spec.ImagePullSecrets); diff != "" {
			t.Errorf("%s imagePullSecrets (-want +got):\n%s", d.Name, diff)
		}
		if len(d.Spec.Template.Spec.Tolerations) != 1 || d.Spec.Template.Spec.Tolerations[0].Key != "dedicated" {
			t.Errorf("%s: tolerations %v, want the global one", d.Name, d.Spec.Template.Spec.Tolerations)
		}
		if d.Labels["owner"] != "platform" {
			t.Errorf("%s: labels %v, want commonLabels", d.Name, d.Labels)
		}
	}
	// More than one controller replica elects a leader whatever the value says.
	if *ctrl.Spec.Replicas != 3 || !slices.Contains(ctrl.Spec.Template.Spec.Containers[0].Args, "--leader-elect") {
		t.Errorf("controller: %d replicas, args %v; want 3 with --leader-elect", *ctrl.Spec.Replicas, ctrl.Spec.Template.Spec.Containers[0].Args)
	}
	for _, arg := range []string{"--max-concurrent-reconciles=8", "--zap-log-level=debug"} {
		if !slices.Contains(ctrl.Spec.Template.Spec.Containers[0].Args, arg) {
			t.Errorf("controller args %v: missing %s", ctrl.Spec.Template.Spec.Containers[0].Args, arg)
		}
	}
	if got := ctrl.Spec.Template.Spec.Containers[0].Resources; got.Limits.Memory().String() != "1Gi" || got.Requests.Cpu().String() != "500m" ||
		got.Requests.Memory().String() != "64Mi" {
		t.Errorf("controller resources %v, want limits.memory 1Gi, requests cpu 500m memory 64Mi", got)
	}
	if ctrl.Spec.Template.Spec.PriorityClassName != "high" || ctrl.Spec.Template.Annotations["a"] != "b" {
		t.Errorf("controller pod: priorityClassName %q annotations %v", ctrl.Spec.Template.Spec.PriorityClassName, ctrl.Spec.Template.Annotations)
	}
	if diff := cmp.Diff(map[string]string{"kubernetes.io/hostname": "node-1"}, ctrl.Spec.Template.Spec.NodeSelector); diff != "" {
		t.Errorf("controller nodeSelector, the global one (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"disk": "ssd"}, api.Spec.Template.Spec.NodeSelector); diff != "" {
		t.Errorf("API nodeSelector, its own (-want +got):\n%s", diff)
	}
	if *api.Spec.Replicas != 5 || api.Spec.Template.Labels["team"] != "x" {
		t.Errorf("API: %d replicas, pod labels %v", *api.Spec.Replicas, api.Spec.Template.Labels)
	}
	for _, arg := range []string{"--rate-limit=50", "--max-body-bytes=4194304"} {
		if !slices.Contains(api.Spec.Template.Spec.Containers[0].Args, arg) {
			t.Errorf("API args %v: missing %s", api.Spec.Template.Spec.Containers[0].Args, arg)
		}
	}
	if got := api.Spec.Template.Spec.Containers[0].Resources.Limits.Cpu().String(); got != "2" {
		t.Errorf("API cpu limit %s, want 2", got)
	}
	var svc corev1.Service
	r.get(t, "Service", apiName, &svc)
	if svc.Spec.Type != corev1.ServiceTypeLoadBalancer || svc.Spec.Ports[0].Port != 8443 {
		t.Errorf("API Service %s port %d, want LoadBalancer 8443", svc.Spec.Type, svc.Spec.Ports[0].Port)
	}

	// One controller replica without leader election.
	r = render(t, "--set", "controller.leaderElection.enabled=false")
	r.get(t, "Deployment", controllerName, &ctrl)
	for _, a := range ctrl.Spec.Template.Spec.Containers[0].Args {
		if strings.HasPrefix(a, "--leader-elect") {
			t.Errorf("args %v: %s with leader election off and one replica", ctrl.Spec.Template.Spec.Containers[0].Args, a)
		}
	}
}

func TestOptionalFeaturesOffByDefault(t *testing.T) {
	t.Parallel()
	r := render(t)
	// The convert type is on by default (TestConvertTypeByDefault).
	for _, kind := range []string{"ServiceMonitor", "PodDisruptionBudget", "NetworkPolicy", "Ingress"} {
		if n := len(r.find(kind)); n != 0 {
			t.Errorf("%d %s with the default values, want none", n, kind)
		}
	}
}

// allFeaturesValues turns every optional feature on.
const allFeaturesValues = `
controller:
  podDisruptionBudget: {enabled: true, minAvailable: 1}
api:
  podDisruptionBudget: {enabled: true, maxUnavailable: "50%"}
  ingress:
    enabled: true
    className: nginx
    annotations: {nginx.ingress.kubernetes.io/proxy-body-size: 1m}
    hosts:
      - host: jobs.example.com
        paths: [{path: /, pathType: Prefix}]
      - paths: [{path: /v1}]
    tls: [{secretName: jobs-tls, hosts: [jobs.example.com]}]
serviceMonitor:
  enabled: true
  interval: 15s
  labels: {release: prometheus}
networkPolicy:
  enabled: true
  api:
    from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: clients}}}]
  metrics:
    from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: monitoring}}}]
`

// renderAllFeatures renders allFeaturesValues and returns the pod labels of
// each component too.
func renderAllFeatures(t *testing.T) (rendered, map[string]labels.Set) {
	t.Helper()
	r := render(t, "-f", valuesFile(t, allFeaturesValues))
	var ctrl, api appsv1.Deployment
	r.get(t, "Deployment", controllerName, &ctrl)
	r.get(t, "Deployment", apiName, &api)
	return r, map[string]labels.Set{"controller": ctrl.Spec.Template.Labels, "api": api.Spec.Template.Labels}
}

func TestPodDisruptionBudgets(t *testing.T) {
	t.Parallel()
	r, pods := renderAllFeatures(t)
	for component, want := range map[string]policyv1.PodDisruptionBudgetSpec{
		"controller": {MinAvailable: ptr.To(intstr.FromInt32(1))},
		"api":        {MaxUnavailable: ptr.To(intstr.FromString("50%"))},
	} {
		var pdb policyv1.PodDisruptionBudget
		r.get(t, "PodDisruptionBudget", "asyncjob-"+component, &pdb)
		if diff := cmp.Diff(want.MinAvailable, pdb.Spec.MinAvailable); diff != "" {
			t.Errorf("%s minAvailable (-want +got):\n%s", component, diff)
		}
		if diff := cmp.Diff(want.MaxUnavailable, pdb.Spec.MaxUnavailable); diff != "" {
			t.Errorf("%s maxUnavailable (-want +got):\n%s", component, diff)
		}
		selects(t, "PDB "+component, pdb.Spec.Selector, pods, component)
	}
}

func TestIngress(t *testing.T) {
	t.Parallel()
	r, _ := renderAllFeatures(t)
	var ing networkingv1.Ingress
	r.get(t, "Ingress", apiName, &ing)
	if ptr.Deref(ing.Spec.IngressClassName, "") != "nginx" || ing.Annotations["nginx.ingress.kubernetes.io/proxy-body-size"] != "1m" {
		t.Errorf("class %v annotations %v", ing.Spec.IngressClassName, ing.Annotations)
	}
	if len(ing.Spec.TLS) != 1 || ing.Spec.TLS[0].SecretName != "jobs-tls" {
		t.Errorf("tls %+v", ing.Spec.TLS)
	}
	if len(ing.Spec.Rules) != 2 || ing.Spec.Rules[0].Host != "jobs.example.com" || ing.Spec.Rules[1].Host != "" {
		t.Fatalf("rules %+v, want jobs.example.com and any host", ing.Spec.Rules)
	}
	backend := networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
		Name: apiName, Port: networkingv1.ServiceBackendPort{Name: "http"}}}
	for _, rule := range ing.Spec.Rules {
		for _, p := range rule.HTTP.Paths {
			if diff := cmp.Diff(backend, p.Backend); diff != "" || p.PathType == nil || *p.PathType != networkingv1.PathTypePrefix {
				t.Errorf("path %s (%v): backend (-want +got):\n%s", p.Path, p.PathType, diff)
			}
		}
	}
}

func TestServiceMonitors(t *testing.T) {
	t.Parallel()
	r, _ := renderAllFeatures(t)
	for component, svcName := range map[string]string{"controller": controllerName + "-metrics", "api": apiName} {
		var sm struct {
			APIVersion string            `json:"apiVersion"`
			Kind       string            `json:"kind"`
			Metadata   metav1.ObjectMeta `json:"metadata"`
			Spec       struct {
				NamespaceSelector struct {
					MatchNames []string `json:"matchNames"`
				} `json:"namespaceSelector"`
				Selector  metav1.LabelSelector `json:"selector"`
				Endpoints []struct {
					Port          string `json:"port"`
					Path          string `json:"path"`
					Interval      string `json:"interval"`
					ScrapeTimeout string `json:"scrapeTimeout"`
					Scheme        string `json:"scheme"`
					TLSConfig     *struct {
						InsecureSkipVerify bool `json:"insecureSkipVerify"`
					} `json:"tlsConfig"`
					BearerTokenFile string `json:"bearerTokenFile"`
				} `json:"endpoints"`
			} `json:"spec"`
		}
		r.get(t, "ServiceMonitor", "asyncjob-"+component, &sm)
		var svc corev1.Service
		r.get(t, "Service", svcName, &svc)
		if sm.APIVersion != "monitoring.coreos.com/v1" || sm.Metadata.Labels["release"] != "prometheus" ||
			!slices.Equal(sm.Spec.NamespaceSelector.MatchNames, []string{namespace}) {
			t.Errorf("%s ServiceMonitor: %s, labels %v, namespaces %v", component, sm.APIVersion, sm.Metadata.Labels, sm.Spec.NamespaceSelector.MatchNames)
		}
		sel, err := metav1.LabelSelectorAsSelector(&sm.Spec.Selector)
		if err != nil || !sel.Matches(labels.Set(svc.Labels)) {
			t.Errorf("%s ServiceMonitor selector %v does not select Service %s %v", component, sm.Spec.Selector, svcName, svc.Labels)
		}
		// Both scrape a port named metrics: the API's own metrics listener, not its API port.
		hasMetricsPort := slices.ContainsFunc(svc.Spec.Ports, func(p corev1.ServicePort) bool { return p.Name == "metrics" })
		if len(sm.Spec.Endpoints) != 1 || sm.Spec.Endpoints[0].Port != "metrics" || !hasMetricsPort ||
			sm.Spec.Endpoints[0].Path != "/metrics" || sm.Spec.Endpoints[0].Interval != "15s" {
			t.Errorf("%s endpoints %+v, want port metrics path /metrics every 15s (Service ports %v)", component, sm.Spec.Endpoints, svc.Spec.Ports)
			continue
		}
		// The controller's metrics are secure by default: HTTPS with Prometheus' token.
		ep := sm.Spec.Endpoints[0]
		secure := ep.Scheme == "https" && ep.TLSConfig != nil && ep.TLSConfig.InsecureSkipVerify && ep.BearerTokenFile != ""
		if secure != (component == "controller") {
			t.Errorf("%s endpoint %+v: secure scrape %v, want %v", component, ep, secure, component == "controller")
		}
	}
}

func TestNetworkPolicies(t *testing.T) {
	t.Parallel()
	r, pods := renderAllFeatures(t)
	var ctrl, api appsv1.Deployment
	r.get(t, "Deployment", controllerName, &ctrl)
	r.get(t, "Deployment", apiName, &api)
	peer := func(ns string) networkingv1.NetworkPolicyPeer {
		return networkingv1.NetworkPolicyPeer{NamespaceSelector: &metav1.LabelSelector{
			MatchLabels: map[string]string{"kubernetes.io/metadata.name": ns}}}
	}
	tcp := corev1.ProtocolTCP
	port := func(name string) []networkingv1.NetworkPolicyPort {
		return []networkingv1.NetworkPolicyPort{{Port: ptr.To(intstr.FromString(name)), Protocol: &tcp}}
	}
	for component, want := range map[string][]networkingv1.NetworkPolicyIngressRule{
		"api": {
			{Ports: port("http"), From: []networkingv1.NetworkPolicyPeer{peer("clients")}},
			{Ports: port("metrics"), From: []networkingv1.NetworkPolicyPeer{peer("monitoring")}},
		},
		"controller": {{Ports: port("metrics"), From: []networkingv1.NetworkPolicyPeer{peer("monitoring")}}},
	} {
		var np networkingv1.NetworkPolicy
		r.get(t, "NetworkPolicy", "asyncjob-"+component, &np)
		if diff := cmp.Diff(want, np.Spec.Ingress); diff != "" {
			t.Errorf("%s ingress (-want +got):\n%s", component, diff)
		}
		if !slices.Equal(np.Spec.PolicyTypes, []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}) || len(np.Spec.Egress) != 0 {
			t.Errorf("%s: policyTypes %v egress %v, want Ingress only", component, np.Spec.PolicyTypes, np.Spec.Egress)
		}
		selects(t, "NetworkPolicy "+component, &np.Spec.PodSelector, pods, component)
	}
	// The named ports exist on the pods.
	apiPorts := containerPorts(api.Spec.Template.Spec.Containers[0])
	if apiPorts["http"] == 0 || apiPorts["metrics"] == 0 || containerPorts(ctrl.Spec.Template.Spec.Containers[0])["metrics"] == 0 {
		t.Error("the NetworkPolicies name ports the pods do not have")
	}

	// Egress rules, when given, restrict egress too.
	var np networkingv1.NetworkPolicy
	render(t, "--set", "networkPolicy.enabled=true", "--set-json", `networkPolicy.egress=[{"ports":[{"port":443}]}]`).
		get(t, "NetworkPolicy", apiName, &np)
	if !slices.Contains(np.Spec.PolicyTypes, networkingv1.PolicyTypeEgress) || len(np.Spec.Egress) != 1 {
		t.Errorf("policyTypes %v egress %v, want the egress rule", np.Spec.PolicyTypes, np.Spec.Egress)
	}
	if len(np.Spec.Ingress) != 2 || np.Spec.Ingress[0].From != nil || np.Spec.Ingress[1].From != nil {
		t.Errorf("ingress %v, want the API and metrics ports from anywhere when no peers are given", np.Spec.Ingress)
	}
}

// selects checks that a selector selects the component's pods and no other's.
func selects(t *testing.T, what string, selector *metav1.LabelSelector, pods map[string]labels.Set, component string) {
	t.Helper()
	sel, err := metav1.LabelSelectorAsSelector(selector)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	for c, l := range pods {
		if sel.Matches(l) != (c == component) {
			t.Errorf("%s: selector %v matches %s pods: %v", what, selector, c, sel.Matches(l))
		}
	}
}

func checkProbe(t *testing.T, what string, p *corev1.Probe, path, port string) {
	t.Helper()
	if p == nil || p.HTTPGet == nil || p.HTTPGet.Path != path || p.HTTPGet.Port != intstr.FromString(port) {
		t.Errorf("%s probe %+v, want GET %s on port %s", what, p, path, port)
	}
}

func containerPorts(c corev1.Container) map[string]int32 {
	out := map[string]int32{}
	for _, p := range c.Ports {
		out[p.Name] = p.ContainerPort
	}
	return out
}

// readGenerated decodes the document of a kind from a controller-gen file.
func readGenerated(t *testing.T, path, kind string, into any) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(raw), -1) {
		var meta metav1.TypeMeta
		if err := yaml.Unmarshal([]byte(doc), &meta); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if meta.Kind == kind {
			if err := yaml.UnmarshalStrict([]byte(doc), into); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			return
		}
	}
	t.Fatalf("%s has no %s", path, kind)
}

func appVersion(t *testing.T) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(chartDir, "Chart.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var chart struct {
		AppVersion string `json:"appVersion"`
	}
	if err := yaml.Unmarshal(raw, &chart); err != nil || chart.AppVersion == "" {
		t.Fatalf("Chart.yaml appVersion: %v", err)
	}
	return chart.AppVersion
}

func mapKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
