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
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/go-logr/logr/testr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/test/framework"
	"github.com/asyncjob/asyncjob/test/wrappers"
)

// testEnv is the envtest API server shared by the integration tests; nil under
// -short without KUBEBUILDER_ASSETS.
var testEnv *framework.Env

func TestMain(m *testing.M) {
	flag.Parse()
	gin.SetMode(gin.TestMode)
	env, stop, err := framework.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, "envtest:", err)
		os.Exit(1)
	}
	testEnv = env
	code := m.Run()
	stop()
	os.Exit(code)
}

// harness is one API server over a real socket, backed by envtest, with its own
// tenants (namespaces), API keys and a Ready job type.
type harness struct {
	t       *testing.T
	env     *framework.Env
	srv     *httptest.Server
	server  *Server
	keys    map[string]string    // tenant -> API key
	keysRef types.NamespacedName // the Secret holding their hashes
	typ     string               // a Ready type with a schema
	tenantA string
	tenantB string
	client  *http.Client
}

// harnessOption adjusts the server's Config.
type harnessOption func(*Config)

// paramsSchema is the test type's schema: two required fields, constraints
// that can fail several at once.
const paramsSchema = `{
  "type": "object",
  "properties": {
    "input":  {"type": "string", "format": "uri"},
    "format": {"type": "string", "enum": ["webm", "mp4"]},
    "crf":    {"type": "integer", "minimum": 0, "maximum": 51}
  },
  "required": ["input", "format"],
  "additionalProperties": false
}`

func newHarness(t *testing.T, opts ...harnessOption) *harness {
	t.Helper()
	if testEnv == nil {
		t.Skip("envtest is not available (-short without KUBEBUILDER_ASSETS)")
	}
	return newHarnessWithConfig(t, testEnv.Config, opts...)
}

// newHarnessWithConfig builds the server on restCfg (which may point at a
// proxy in front of envtest); setup writes go through envtest directly.
func newHarnessWithConfig(t *testing.T, restCfg *rest.Config, opts ...harnessOption) *harness {
	t.Helper()
	if testEnv == nil {
		t.Skip("envtest is not available (-short without KUBEBUILDER_ASSETS)")
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	suffix := randomSuffix()
	h := &harness{t: t, env: testEnv, keys: map[string]string{},
		tenantA: "ta-" + suffix, tenantB: "tb-" + suffix, typ: "convert-" + suffix}
	keysNS := "keys-" + suffix
	for _, ns := range []string{h.tenantA, h.tenantB, keysNS} {
		h.must(testEnv.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))
	}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: keysNS, Name: "api-keys"}, Data: map[string][]byte{}}
	for _, tenant := range []string{h.tenantA, h.tenantB} {
		h.keys[tenant] = "key-" + tenant + "-" + randomSuffix()
		secret.Data[tenant] = []byte(HashAPIKey(h.keys[tenant]))
	}
	h.must(testEnv.Client.Create(ctx, secret))

	secretRef := types.NamespacedName{Namespace: keysNS, Name: "api-keys"}
	h.keysRef = secretRef
	c, err := NewCache(restCfg, testEnv.Scheme, &secretRef)
	h.must(err)
	h.must(StartCache(ctx, c, true, testr.New(t)))
	direct, err := NewClient(restCfg, testEnv.Scheme, DefaultKubeTimeout)
	h.must(err)
	pods, err := NewLogClient(restCfg)
	h.must(err)
	tenants, err := NewTenantNamespaces("{tenant}")
	h.must(err)
	cfg := Config{
		Cache: c, APIReader: direct, Client: direct, Pods: pods,
		Authenticator: &APIKeyAuthenticator{Secret: secretRef},
		Tenants:       tenants,
		KubeTimeout:   5 * time.Second,
		Log:           testr.New(t),
	}
	for _, o := range opts {
		o(&cfg)
	}
	h.server, err = New(cfg)
	h.must(err)
	h.srv = httptest.NewServer(h.server.Handler())
	t.Cleanup(h.srv.Close)
	h.createType(h.typ, paramsSchema, true)
	h.client = &http.Client{
		Transport: &conformanceTransport{t: t, next: http.DefaultTransport},
		// 303s and Location headers must be seen, not followed.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return h
}

func (h *harness) must(err error) {
	h.t.Helper()
	if err != nil {
		h.t.Fatal(err)
	}
}

func randomSuffix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// createType creates a cluster-scoped AsyncJobType and, if ready, marks it
// Ready as the controller would.
func (h *harness) createType(name, schema string, ready bool) {
	h.t.Helper()
	ctx := context.Background()
	w := wrappers.MakeAsyncJobType(name).Description("Converts a video.").Schema(schema).PollInterval(7).
		Image("busybox")
	jt := w.Obj()
	h.must(h.env.Client.Create(ctx, jt))
	h.t.Cleanup(func() { _ = h.env.Client.Delete(context.Background(), jt) })
	if !ready {
		return
	}
	w.Ready() // for the generation the create gave it
	h.must(h.env.Client.Status().Update(ctx, jt))
	h.eventually("type "+name+" is Ready in the cache", func() bool {
		var got v1alpha1.AsyncJobType
		return h.server.store.cache.Get(ctx, typeKey(name), &got) == nil && got.IsReady()
	})
}

// response is a finished HTTP exchange.
type response struct {
	*http.Response
	body []byte
}

func (r response) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decoding %s: %v", r.body, err)
	}
}

func (r response) problem(t *testing.T) problemDetails {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); ct != problemMediaType {
		t.Fatalf("Content-Type = %q, want %s (status %d, body %s)", ct, problemMediaType, r.StatusCode, r.body)
	}
	var p problemDetails
	r.json(t, &p)
	if p.Status != r.StatusCode {
		t.Errorf("problem status %d != HTTP status %d", p.Status, r.StatusCode)
	}
	return p
}

func (r response) job(t *testing.T) Job {
	t.Helper()
	var j Job
	r.json(t, &j)
	return j
}

// request sends a request as tenant ("" sends no credentials).
func (h *harness) request(method, path, tenant string, body any, headers ...string) response {
	h.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		h.must(err)
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, h.srv.URL+path, rd)
	h.must(err)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if tenant != "" {
		req.Header.Set("Authorization", "Bearer "+h.keys[tenant])
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := h.client.Do(req)
	h.must(err)
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(resp.Body)
	h.must(err)
	return response{Response: resp, body: data}
}

// expect fails the test unless the response has the status.
func (r response) expect(t *testing.T, status int) response {
	t.Helper()
	if r.StatusCode != status {
		t.Fatalf("%s %s: status %d, want %d; body %s", r.Request.Method, r.Request.URL.Path, r.StatusCode, status, r.body)
	}
	return r
}

// submit posts a valid job as tenant and returns it.
func (h *harness) submit(tenant string, labels map[string]string) Job {
	h.t.Helper()
	body := map[string]any{"type": h.typ, "parameters": map[string]any{"input": "https://example.com/a.mov", "format": "webm"}}
	if labels != nil {
		body["labels"] = labels
	}
	return h.request(http.MethodPost, "/v1/jobs", tenant, body).expect(h.t, http.StatusAccepted).job(h.t)
}

// setStatus writes an AsyncJob's status as the controller would, and waits
// until the server's cache has it.
func (h *harness) setStatus(tenant, id string, mutate func(*v1alpha1.AsyncJobStatus)) {
	h.t.Helper()
	ctx := context.Background()
	var aj v1alpha1.AsyncJob
	h.must(h.env.Client.Get(ctx, types.NamespacedName{Namespace: tenant, Name: id}, &aj))
	mutate(&aj.Status)
	h.must(h.env.Client.Status().Update(ctx, &aj))
	rv := aj.ResourceVersion
	key := types.NamespacedName{Namespace: tenant, Name: id}
	h.eventually("status of "+id+" reaches the cache", func() bool {
		var got v1alpha1.AsyncJob
		err := h.server.store.cache.Get(ctx, key, &got)
		// Lists and the quota read the index, fed by the informer after the cache.
		indexed := h.server.store.index == nil || h.server.store.index.resourceVersion(key) == rv
		return err == nil && got.ResourceVersion == rv && indexed
	})
}

// eventually polls cond until it holds; the deadline only bounds a broken test,
// nothing asserts how fast anything is.
func (h *harness) eventually(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func clientInNamespace(ns string) client.ListOption { return client.InNamespace(ns) }

// sibling is a second server (its own cache and process state) over the same
// cluster, tenants and keys: a restarted or parallel replica. Its cache reaches
// the API server through a proxy; cutCache cuts it off for good, so the cache
// keeps what it has seen and learns nothing more. opts adjust its Config.
func (h *harness) sibling(t *testing.T, opts ...harnessOption) (sib *harness, cutCache func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	u, err := url.Parse(h.env.Config.Host)
	h.must(err)
	proxy := newSwitchProxy(t, u.Host)
	cacheCfg := rest.CopyConfig(h.env.Config)
	cacheCfg.Host = "https://" + proxy.addr
	c, err := NewCache(cacheCfg, h.env.Scheme, &h.keysRef)
	h.must(err)
	h.must(StartCache(ctx, c, true, testr.New(t)))
	cfg := h.server.cfg
	cfg.Cache = c
	cfg.Registerer, cfg.Gatherer = nil, nil
	for _, o := range opts {
		o(&cfg)
	}
	s, err := New(cfg)
	h.must(err)
	h2 := *h
	h2.t = t
	h2.server = s
	h2.srv = httptest.NewServer(s.Handler())
	t.Cleanup(h2.srv.Close)
	return &h2, proxy.down
}
