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

package localcluster

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"
)

// KueueNamespace is where Kueue's own objects live.
const KueueNamespace = "kueue-system"

// Kueue reads two certificates from fixed paths when it does not manage its
// certificates itself (which needs in-cluster Services): the visibility
// server's and the metrics server's. They are written there (as root), each
// atomically; any valid certificate serves, since the APIService skips TLS
// verification as Kueue's own manifests do, and nothing here scrapes metrics.
var kueueFixedCertDirs = []string{"/visibility", "/etc/kueue/metrics/certs"}

// kueueAPIService is the aggregated visibility API (pendingworkloads).
const kueueAPIService = "v1beta2.visibility.kueue.x-k8s.io"

// startKueue runs Kueue against the cluster: its CRDs, its webhooks served on
// loopback with a certificate the API server trusts, and its visibility API
// registered with the aggregation layer at this machine's non-loopback
// address (an EndpointSlice may not point at loopback).
func (c *Cluster) startKueue(ctx context.Context, bin string) error {
	if os.Geteuid() != 0 {
		return errors.New("kueue needs root here: it reads its visibility and metrics certificates from /visibility and /etc/kueue")
	}
	crdDir, err := runScript(ctx, "kueue.sh", "--crds")
	if err != nil {
		return err
	}
	if err := c.applyKueueCRDs(ctx, crdDir); err != nil {
		return fmt.Errorf("kueue's CRDs: %w", err)
	}
	ip := c.hostIP
	if ip == "" {
		if ip, err = hostIP(); err != nil {
			return err
		}
	}
	dir := filepath.Join(c.dir, "kueue")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := c.creds.issueServing(filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key"), "kueue-webhook", net.ParseIP("127.0.0.1")); err != nil {
		return err
	}
	for _, d := range kueueFixedCertDirs {
		if err := c.writeFixedCert(d, net.ParseIP("127.0.0.1"), net.ParseIP(ip)); err != nil {
			return err
		}
	}
	webhookPort, err := FreePort()
	if err != nil {
		return err
	}
	healthPort, err := FreePort()
	if err != nil {
		return err
	}
	visibilityPort, err := FreePort()
	if err != nil {
		return err
	}
	config := fmt.Sprintf(`apiVersion: config.kueue.x-k8s.io/v1beta2
kind: Configuration
namespace: %s
health:
  healthProbeBindAddress: 127.0.0.1:%d
metrics:
  bindAddress: "0"
webhook:
  host: 127.0.0.1
  port: %d
  certDir: %s
leaderElection:
  leaderElect: false
internalCertManagement:
  enable: false
manageJobsWithoutQueueName: false
integrations:
  frameworks:
  - batch/job
`, KueueNamespace, healthPort, webhookPort, dir)
	configPath := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(configPath, []byte(config), 0o644); err != nil {
		return err
	}
	cs, err := c.clientset()
	if err != nil {
		return err
	}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: KueueNamespace}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	p, err := StartProcess(c.dir, "kueue", bin,
		"--config="+configPath,
		"--kubeconfig="+c.kubeconfig,
		fmt.Sprintf("--visibility-server-port=%d", visibilityPort),
	)
	if err := c.track(p, err); err != nil {
		return err
	}
	health := &http.Client{Timeout: 5 * time.Second}
	if err := WaitReady(ctx, p, 3*time.Minute, func(ctx context.Context) bool {
		_, ok := httpGet(ctx, health, fmt.Sprintf("http://127.0.0.1:%d/readyz", healthPort), "")
		return ok
	}); err != nil {
		return err
	}
	if err := c.registerKueueWebhooks(ctx, cs, webhookPort); err != nil {
		return fmt.Errorf("kueue's webhooks: %w", err)
	}
	if err := c.registerKueueVisibility(ctx, cs, ip, visibilityPort); err != nil {
		return fmt.Errorf("kueue's visibility API: %w", err)
	}
	return WaitReady(ctx, p, 2*time.Minute, c.kueueVisibilityAvailable)
}

// writeFixedCert writes a serving certificate to dir/tls.crt and dir/tls.key,
// each by a rename, so a running Kueue never reads half a file.
func (c *Cluster) writeFixedCert(dir string, ips ...net.IP) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(dir, ".new-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(tmp) }()
	if err := c.creds.issueServing(filepath.Join(tmp, "tls.crt"), filepath.Join(tmp, "tls.key"), "kueue", ips...); err != nil {
		return err
	}
	// The key first: a reader pairing a new certificate with an old key fails.
	for _, name := range []string{"tls.key", "tls.crt"} {
		if err := os.Rename(filepath.Join(tmp, name), filepath.Join(dir, name)); err != nil {
			return err
		}
	}
	return nil
}

// applyKueueCRDs creates every CRD in dir (Kueue's config/components/crd/bases)
// and waits until they are established.
func (c *Cluster) applyKueueCRDs(ctx context.Context, dir string) error {
	client, err := apiextensionsclient.NewForConfig(c.config)
	if err != nil {
		return err
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(files) == 0 {
		return fmt.Errorf("no CRDs in %s: %v", dir, err)
	}
	var names []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		crd := &apiextensionsv1.CustomResourceDefinition{}
		if err := yaml.Unmarshal(data, crd); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		// The manifests name a conversion webhook Service kustomize fills in;
		// one version is stored and served as is without it.
		crd.Spec.Conversion = nil
		if _, err := client.ApiextensionsV1().CustomResourceDefinitions().Create(ctx, crd, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("%s: %w", crd.Name, err)
		}
		names = append(names, crd.Name)
	}
	return wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		for _, n := range names {
			crd, err := client.ApiextensionsV1().CustomResourceDefinitions().Get(ctx, n, metav1.GetOptions{})
			if err != nil {
				return false, nil
			}
			established := false
			for _, cond := range crd.Status.Conditions {
				if cond.Type == apiextensionsv1.Established && cond.Status == apiextensionsv1.ConditionTrue {
					established = true
				}
			}
			if !established {
				return false, nil
			}
		}
		return true, nil
	})
}

// registerKueueWebhooks registers those of Kueue's webhooks that this
// configuration serves (batch/job and Kueue's own kinds) from the module's
// manifests, pointed at loopback by URL with the cluster's CA as caBundle.
// The others (pods, deployments, ...) are left out: nothing would answer,
// and their failurePolicy Fail would block those kinds.
func (c *Cluster) registerKueueWebhooks(ctx context.Context, cs kubernetes.Interface, port int) error {
	crdDir, err := runScript(ctx, "kueue.sh", "--crds")
	if err != nil {
		return err
	}
	// .../config/components/crd/bases -> .../config/components/webhook
	manifest := filepath.Join(filepath.Dir(filepath.Dir(crdDir)), "webhook", "manifests.yaml")
	data, err := os.ReadFile(manifest)
	if err != nil {
		return err
	}
	served := func(path string) bool {
		return strings.Contains(path, "-batch-v1-job") || strings.Contains(path, "-kueue-x-k8s-io-")
	}
	url := func(path *string) *string {
		u := fmt.Sprintf("https://127.0.0.1:%d%s", port, *path)
		return &u
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	for {
		var raw map[string]any
		if err := dec.Decode(&raw); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		doc, err := yaml.Marshal(raw)
		if err != nil {
			return err
		}
		switch raw["kind"] {
		case "MutatingWebhookConfiguration":
			cfg := &admissionregistrationv1.MutatingWebhookConfiguration{}
			if err := yaml.Unmarshal(doc, cfg); err != nil {
				return err
			}
			var keep []admissionregistrationv1.MutatingWebhook
			for _, w := range cfg.Webhooks {
				if svc := w.ClientConfig.Service; svc != nil && svc.Path != nil && served(*svc.Path) {
					w.ClientConfig = admissionregistrationv1.WebhookClientConfig{URL: url(svc.Path), CABundle: c.creds.caCertPEM}
					keep = append(keep, w)
				}
			}
			cfg.ObjectMeta = metav1.ObjectMeta{Name: "kueue-mutating-webhook-configuration"}
			cfg.Webhooks = keep
			if _, err := cs.AdmissionregistrationV1().MutatingWebhookConfigurations().Create(ctx, cfg, metav1.CreateOptions{}); err != nil {
				return err
			}
		case "ValidatingWebhookConfiguration":
			cfg := &admissionregistrationv1.ValidatingWebhookConfiguration{}
			if err := yaml.Unmarshal(doc, cfg); err != nil {
				return err
			}
			var keep []admissionregistrationv1.ValidatingWebhook
			for _, w := range cfg.Webhooks {
				if svc := w.ClientConfig.Service; svc != nil && svc.Path != nil && served(*svc.Path) {
					w.ClientConfig = admissionregistrationv1.WebhookClientConfig{URL: url(svc.Path), CABundle: c.creds.caCertPEM}
					keep = append(keep, w)
				}
			}
			cfg.ObjectMeta = metav1.ObjectMeta{Name: "kueue-validating-webhook-configuration"}
			cfg.Webhooks = keep
			if _, err := cs.AdmissionregistrationV1().ValidatingWebhookConfigurations().Create(ctx, cfg, metav1.CreateOptions{}); err != nil {
				return err
			}
		}
	}
}

// registerKueueVisibility makes the visibility API reachable through
// kube-apiserver: a selectorless Service whose EndpointSlice points at the
// visibility server on ip (kube-apiserver routes to endpoints, see
// --enable-aggregator-routing), and the APIService.
func (c *Cluster) registerKueueVisibility(ctx context.Context, cs kubernetes.Interface, ip string, port int) error {
	const name = "visibility-server"
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: KueueNamespace},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{
			Name: "https", Port: 443, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt(port),
		}}},
	}
	if _, err := cs.CoreV1().Services(KueueNamespace).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		return err
	}
	portName, proto, port32, ready := "https", corev1.ProtocolTCP, int32(port), true
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: KueueNamespace, Labels: map[string]string{
			discoveryv1.LabelServiceName: name,
			discoveryv1.LabelManagedBy:   "asyncjob-localcluster",
		}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{ip}, Conditions: discoveryv1.EndpointConditions{Ready: &ready}}},
		Ports:       []discoveryv1.EndpointPort{{Name: &portName, Protocol: &proto, Port: &port32}},
	}
	if _, err := cs.DiscoveryV1().EndpointSlices(KueueNamespace).Create(ctx, slice, metav1.CreateOptions{}); err != nil {
		return err
	}
	dyn, err := dynamic.NewForConfig(c.config)
	if err != nil {
		return err
	}
	apiService := object("apiregistration.k8s.io/v1", "APIService", "", kueueAPIService, map[string]any{
		"group":                 "visibility.kueue.x-k8s.io",
		"version":               "v1beta2",
		"groupPriorityMinimum":  int64(100),
		"versionPriority":       int64(100),
		"insecureSkipTLSVerify": true,
		"service":               map[string]any{"name": name, "namespace": KueueNamespace, "port": int64(443)},
	})
	_, err = dyn.Resource(apiServicesResource).Create(ctx, apiService, metav1.CreateOptions{})
	return err
}

var apiServicesResource = schema.GroupVersionResource{Group: "apiregistration.k8s.io", Version: "v1", Resource: "apiservices"}

// kueueVisibilityAvailable reports whether kube-apiserver serves the
// visibility API: the APIService's discovery answers through the proxy.
func (c *Cluster) kueueVisibilityAvailable(ctx context.Context) bool {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(c.creds.caCertPEM)
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	_, ok := httpGet(ctx, client, c.apiURL+"/apis/visibility.kueue.x-k8s.io/v1beta2", c.creds.adminToken)
	return ok
}
