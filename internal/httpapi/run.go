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
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/internal/cachetransform"
)

// NewCache builds the informer cache the API reads from: AsyncJobs that carry a
// tenant label (all namespaces), AsyncJobTypes, the tenants' default-webhook
// ConfigMaps (by name), and, when apiKeys is set, only that one Secret, so the
// API needs no cluster-wide Secret access.
func NewCache(cfg *rest.Config, scheme *runtime.Scheme, apiKeys *types.NamespacedName) (cache.Cache, error) {
	tenantReq, err := labels.NewRequirement(v1alpha1.LabelTenant, selection.Exists, nil)
	if err != nil {
		return nil, err
	}
	configReq, err := labels.NewRequirement(v1alpha1.LabelConfig, selection.In,
		[]string{v1alpha1.LabelConfigTombstones, v1alpha1.LabelConfigWebhookDefault})
	if err != nil {
		return nil, err
	}
	byObject := map[client.Object]cache.ByObject{
		&v1alpha1.AsyncJob{}: {Label: labels.NewSelector().Add(*tenantReq)},
		// asyncjob's own ConfigMaps, never every ConfigMap in the cluster: the
		// tombstones of TTL-removed jobs (internal/tombstone) and the tenants'
		// default webhooks (jobs_webhook.go), each under its one name.
		&corev1.ConfigMap{}: {Label: labels.NewSelector().Add(*configReq)},
	}
	if apiKeys != nil {
		byObject[&corev1.Secret{}] = cache.ByObject{
			Namespaces: map[string]cache.Config{apiKeys.Namespace: {}},
			Field:      fields.OneTermEqualSelector("metadata.name", apiKeys.Name),
		}
	}
	// The API only reads what it caches (it updates AsyncJobs' status and
	// merge-patches them, never updates them whole): keep no managedFields
	// and no last-applied copies (cachetransform).
	c, err := cache.New(cfg, cache.Options{Scheme: scheme, ByObject: byObject, DefaultTransform: cachetransform.StripForReading()})
	if err != nil {
		return nil, err
	}
	if err := indexJobsByType(c); err != nil { // queue_view.go
		return nil, err
	}
	return c, nil
}

// NewClient builds the client the API writes with and reads through when the
// cache cannot answer. Every call, REST discovery included, is bounded by
// timeout: controller-runtime's REST mapper discovers an API group on its
// first use without the request's context, so the request's deadline alone
// would leave a hung API server hanging that request too. The client never
// watches, so a whole-request timeout cuts nothing long-lived.
func NewClient(cfg *rest.Config, scheme *runtime.Scheme, timeout time.Duration) (client.Client, error) {
	cfg = rest.CopyConfig(cfg)
	cfg.Timeout = timeout
	return client.New(cfg, client.Options{Scheme: scheme})
}

// StartCache starts c's informers for everything the API reads and returns once
// they have synced (or ctx ends). Informers are created up front so /readyz
// means "every read is served from a synced cache". A cache that fails to
// start is logged to log.
func StartCache(ctx context.Context, c cache.Cache, apiKeys bool, log logr.Logger) error {
	objs := []client.Object{&v1alpha1.AsyncJob{}, &v1alpha1.AsyncJobType{}, &corev1.ConfigMap{}}
	if apiKeys {
		objs = append(objs, &corev1.Secret{})
	}
	for _, o := range objs {
		if _, err := c.GetInformer(ctx, o); err != nil {
			return err
		}
	}
	go func() {
		if err := c.Start(ctx); err != nil {
			log.Error(err, "informer cache failed to start")
		}
	}()
	if !c.WaitForCacheSync(ctx) {
		return errors.New("informer cache did not sync")
	}
	return nil
}

// serverTimeouts bound slow clients: reading a request's headers, reading a
// whole request (body included), and keeping an idle keep-alive connection.
// There is no write timeout: answers are small, and a handler's Kubernetes
// calls are bounded by KubeTimeout.
type serverTimeouts struct {
	readHeader, read, idle time.Duration
}

// defaultServerTimeouts are Serve's; docs/api.md states them.
var defaultServerTimeouts = serverTimeouts{readHeader: 10 * time.Second, read: 30 * time.Second, idle: 120 * time.Second}

// maxHeaderBytes bounds a request's header section (request line included);
// net/http answers 431 beyond it. Credentials and keys are far smaller.
const maxHeaderBytes = 64 << 10

// shutdownTimeout bounds how long a shutdown waits for in-flight requests.
const shutdownTimeout = 30 * time.Second

// Serve serves h on l until ctx ends, then shuts down gracefully: it stops
// accepting connections and lets in-flight requests finish (up to shutdownTimeout).
func Serve(ctx context.Context, l net.Listener, h http.Handler, log logr.Logger) error {
	return serve(ctx, l, h, log, defaultServerTimeouts)
}

func serve(ctx context.Context, l net.Listener, h http.Handler, log logr.Logger, t serverTimeouts) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: t.readHeader,
		ReadTimeout:       t.read,
		IdleTimeout:       t.idle,
		MaxHeaderBytes:    maxHeaderBytes,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	// Streams and held requests never go idle: end them as shutdown starts,
	// so it does not wait for them (their clients resume elsewhere).
	if sc, ok := h.(interface{ CloseStreams() }); ok {
		srv.RegisterOnShutdown(sc.CloseStreams)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down; finishing in-flight requests", "timeout", shutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
