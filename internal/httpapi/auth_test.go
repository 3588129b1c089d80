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
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/test/framework"
)

func TestUnauthenticated(t *testing.T) {
	h := newHarness(t)
	j := h.submit(h.tenantA, nil)
	endpoints := []struct{ method, path string }{
		{http.MethodPost, "/v1/jobs"},
		{http.MethodGet, "/v1/jobs"},
		{http.MethodGet, "/v1/jobs/" + j.ID},
		{http.MethodPost, "/v1/jobs/" + j.ID + "/cancel"},
		{http.MethodDelete, "/v1/jobs/" + j.ID},
		{http.MethodGet, "/v1/jobs/" + j.ID + "/result"},
		{http.MethodGet, "/v1/types"},
		{http.MethodGet, "/v1/types/" + h.typ},
	}
	for _, cred := range []string{"", "Bearer wrong-key", "Basic dXNlcjpwYXNz", "Bearer " + h.keys[h.tenantA] + "x"} {
		for _, ep := range endpoints {
			var r response
			if cred == "" {
				r = h.request(ep.method, ep.path, "", nil)
			} else {
				r = h.request(ep.method, ep.path, "", nil, "Authorization", cred)
			}
			r.expect(t, http.StatusUnauthorized)
			if p := r.problem(t); p.Code != problemUnauthenticated.Code {
				t.Errorf("%s %s: %+v", ep.method, ep.path, p)
			}
			if got := r.Header.Get("WWW-Authenticate"); got != `Bearer realm="asyncjob"` {
				t.Errorf("WWW-Authenticate = %q", got)
			}
		}
	}
	h.request(http.MethodGet, "/v1/jobs/"+j.ID, h.tenantA, nil).expect(t, http.StatusOK)
}

// TestAPIKeyRotation: keys change in the Secret and take effect without a restart.
func TestAPIKeyRotation(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	auth := h.server.cfg.Authenticator.(*APIKeyAuthenticator)
	var secret corev1.Secret
	h.must(h.env.Client.Get(ctx, auth.Secret, &secret))
	if strings.Contains(string(secret.Data[h.tenantA]), h.keys[h.tenantA]) {
		t.Fatal("the Secret holds the key itself, not its hash")
	}
	newKey := "rotated-" + randomSuffix()
	secret.Data[h.tenantA+".next"] = []byte(HashAPIKey(newKey))
	h.must(h.env.Client.Update(ctx, &secret))
	withNew := func() int {
		return h.request(http.MethodGet, "/v1/types", "", nil, "Authorization", "Bearer "+newKey).StatusCode
	}
	h.eventually("the new key works", func() bool { return withNew() == http.StatusOK })
	// The new key acts as the same tenant.
	j := h.submit(h.tenantA, nil)
	h.request(http.MethodGet, "/v1/jobs/"+j.ID, "", nil, "Authorization", "Bearer "+newKey).expect(t, http.StatusOK)

	delete(secret.Data, h.tenantA)
	h.must(h.env.Client.Update(ctx, &secret))
	h.eventually("the old key stops working", func() bool {
		return h.request(http.MethodGet, "/v1/types", h.tenantA, nil).StatusCode == http.StatusUnauthorized
	})
	if withNew() != http.StatusOK {
		t.Error("the new key stopped working")
	}
}

// TestTokenReview: a service account token is verified by the API server and
// its namespace is the tenant.
func TestTokenReview(t *testing.T) {
	h := newHarness(t, func(c *Config) {
		c.Authenticator = &TokenReviewAuthenticator{}
	})
	ctx := context.Background()
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: h.tenantA, Name: "client"}}
	h.must(h.env.Client.Create(ctx, sa))
	tr := &authenticationv1.TokenRequest{}
	h.must(h.env.Client.SubResource("token").Create(ctx, sa, tr))
	if tr.Status.Token == "" {
		t.Fatal("no token issued")
	}
	auth := "Bearer " + tr.Status.Token
	j := h.request(http.MethodPost, "/v1/jobs", "", map[string]any{
		"type": h.typ, "parameters": map[string]any{"input": "https://example.com/a", "format": "webm"},
	}, "Authorization", auth).expect(t, http.StatusAccepted).job(t)
	// The list is served from the cache, which catches up with the create.
	var list jobList
	h.eventually("the service account's tenant lists its job", func() bool {
		list = jobList{}
		h.request(http.MethodGet, "/v1/jobs", "", nil, "Authorization", auth).expect(t, http.StatusOK).json(t, &list)
		return len(list.Items) == 1
	})
	if list.Items[0].ID != j.ID {
		t.Errorf("the service account's tenant lists %+v", list.Items)
	}
	// The job lives in the service account's namespace, labelled with it as tenant.
	var aj v1alpha1.AsyncJob
	h.must(h.env.Client.Get(ctx, types.NamespacedName{Namespace: h.tenantA, Name: j.ID}, &aj))
	if aj.Labels[v1alpha1.LabelTenant] != h.tenantA {
		t.Errorf("tenant label %q", aj.Labels[v1alpha1.LabelTenant])
	}
	r := h.request(http.MethodGet, "/v1/jobs", "", nil, "Authorization", "Bearer not-a-token").expect(t, http.StatusUnauthorized)
	if r.problem(t).Code != problemUnauthenticated.Code {
		t.Errorf("bad token: %s", r.body)
	}
}

// TestTokenReviewAudiences: with Audiences set (--token-audiences), a token
// is accepted only if it was issued for one of them; without, only tokens for
// the API server's own audiences are.
func TestTokenReviewAudiences(t *testing.T) {
	const audience = "asyncjob-test"
	h := newHarness(t, func(c *Config) {
		c.Authenticator = &TokenReviewAuthenticator{Audiences: []string{"other", audience}}
	})
	plain, _ := h.sibling(t, func(c *Config) { c.Authenticator = &TokenReviewAuthenticator{} })
	ctx := context.Background()
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: h.tenantA, Name: "client"}}
	h.must(h.env.Client.Create(ctx, sa))
	token := func(audiences ...string) string {
		tr := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{Audiences: audiences}}
		h.must(h.env.Client.SubResource("token").Create(ctx, sa, tr))
		if tr.Status.Token == "" {
			t.Fatal("no token issued")
		}
		return "Bearer " + tr.Status.Token
	}
	forUs, forAPIServer := token(audience), token()
	cases := []struct {
		name   string
		server *harness
		auth   string
		status int
	}{
		{"audiences set, token for one of them", h, forUs, http.StatusOK},
		{"audiences set, token for the API server", h, forAPIServer, http.StatusUnauthorized},
		{"no audiences, token for the API server", plain, forAPIServer, http.StatusOK},
		{"no audiences, token for another audience", plain, forUs, http.StatusUnauthorized},
	}
	for _, tc := range cases {
		r := tc.server.request(http.MethodGet, "/v1/jobs", "", nil, "Authorization", tc.auth)
		if r.StatusCode != tc.status {
			t.Errorf("%s: status %d, want %d; body %s", tc.name, r.StatusCode, tc.status, r.body)
			continue
		}
		if tc.status == http.StatusUnauthorized && r.problem(t).Code != problemUnauthenticated.Code {
			t.Errorf("%s: %s", tc.name, r.body)
		}
	}
}

func TestTenantOfUser(t *testing.T) {
	cases := map[string]authenticationv1.UserInfo{
		"team-a": {Username: "system:serviceaccount:team-a:builder"},
		"acme":   {Username: "alice", Groups: []string{"devs", tenantGroupPrefix + "acme"}},
		"":       {Username: "bob", Groups: []string{tenantGroupPrefix + "Not_A_Label"}},
	}
	for want, u := range cases {
		if got := tenantOfUser(u); got != want {
			t.Errorf("tenantOfUser(%+v) = %q, want %q", u, got, want)
		}
	}
}

// hungAPIServer is an API server that accepts connections and never answers,
// as one does when it is up but stuck. It returns its URL and a stop that
// closes every connection (also run at cleanup).
func hungAPIServer(t *testing.T) (string, func()) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	stop := func() {
		_ = l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	}
	t.Cleanup(stop)
	return "http://" + l.Addr().String(), stop
}

// tokenReviewHangs is envtest behind a reverse proxy that never answers a
// TokenReview: discovery and everything else reach the real API server. It
// returns a config for the proxy and a stop that aborts the hung reviews.
func tokenReviewHangs(t *testing.T) (*rest.Config, func()) {
	t.Helper()
	if testEnv == nil {
		t.Skip("envtest is not available (-short without KUBEBUILDER_ASSETS)")
	}
	target, err := url.Parse(testEnv.Config.Host)
	if err != nil {
		t.Fatal(err)
	}
	transport, err := rest.TransportFor(testEnv.Config)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.Transport = transport
	stopped := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/tokenreviews") {
			select {
			case <-r.Context().Done():
			case <-stopped:
			}
			panic(http.ErrAbortHandler) // never an answer
		}
		proxy.ServeHTTP(w, r)
	}))
	var once sync.Once
	stop := func() { once.Do(func() { close(stopped) }) }
	t.Cleanup(func() { stop(); srv.Close() })
	return &rest.Config{Host: srv.URL}, stop
}

// getTypesAs sends GET /v1/types with a bearer token. The client gives up
// after a while only so that a server that hangs fails the test, not the suite.
func getTypesAs(t *testing.T, c *http.Client, base, token string) response {
	t.Helper()
	c.Timeout = 10 * time.Second
	req, err := http.NewRequest(http.MethodGet, base+"/v1/types", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{Response: resp, body: body}
}

func expectUnavailable(t *testing.T, r response) {
	t.Helper()
	r.expect(t, http.StatusServiceUnavailable)
	if p := r.problem(t); p.Code != problemUnavailable.Code || r.Header.Get("Retry-After") == "" {
		t.Errorf("problem %+v, Retry-After %q", p, r.Header.Get("Retry-After"))
	}
}

// TestHungTokenReviewIs503: authentication runs under the same per-request
// Kubernetes deadline as the handlers (KubeTimeout), so a TokenReview the API
// server never answers ends in a 503 problem, not a hung client.
func TestHungTokenReviewIs503(t *testing.T) {
	proxied, stop := tokenReviewHangs(t)
	// Before the harness's cleanup, which waits for a handler stuck on a review.
	defer stop()
	// A client with no timeout of its own: only the server's deadline can end the review.
	slow, err := client.New(proxied, client.Options{Scheme: framework.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, func(c *Config) {
		c.Client, c.APIReader = slow, slow
		c.Authenticator = &TokenReviewAuthenticator{}
		c.KubeTimeout = time.Second
	})
	expectUnavailable(t, getTypesAs(t, h.client, h.srv.URL, "some-token"))
}

// TestHungAPIServerDiscoveryIs503: the client NewClient builds bounds REST
// discovery too, which controller-runtime does on a group's first use without
// the request's context: against an API server that accepts connections and
// never answers, the first TokenReview is a 503 problem, not a hung client.
func TestHungAPIServerDiscoveryIs503(t *testing.T) {
	hung, stop := hungAPIServer(t)
	// Before the test server's cleanup, which waits for a handler stuck on it.
	defer stop()
	const timeout = 200 * time.Millisecond
	direct, err := NewClient(&rest.Config{Host: hung}, framework.Scheme(), timeout)
	if err != nil {
		t.Fatal(err)
	}
	tenants, _ := NewTenantNamespaces("{tenant}")
	s, err := New(Config{Cache: direct, APIReader: direct, Client: direct, Authenticator: &TokenReviewAuthenticator{},
		Tenants: tenants, KubeTimeout: timeout, Log: testr.New(t)})
	if err != nil {
		t.Fatal(err)
	}
	srv, c := unitClient(t, s)
	expectUnavailable(t, getTypesAs(t, c, srv.URL, "some-token"))
}
