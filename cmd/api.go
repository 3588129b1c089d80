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

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client/config"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/asyncjob/asyncjob/internal/httpapi"
	"github.com/asyncjob/asyncjob/internal/scheme"
	"github.com/asyncjob/asyncjob/internal/webhook"
	"github.com/asyncjob/asyncjob/internal/workertoken"
)

func init() {
	subcommands["api"] = runAPI
}

// apiFlags are the api subcommand's settings.
type apiFlags struct {
	bindAddress       string
	metricsAddress    string
	authMode          string
	apiKeysSecret     string
	noAuthTenant      string
	tokenAudiences    string
	namespaceTemplate string
	rateLimit         float64
	rateBurst         int
	maxUnfinished     int
	maxBodyBytes      int64
	workerKeyFile     string
	webhookCIDRs      string
	rotationGrace     time.Duration
	eventsHeartbeat   time.Duration
	artifacts         apiArtifactFlags
}

// register defines the api subcommand's own flags on fs.
func (f *apiFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.bindAddress, "bind-address", ":8080", "Address the REST API listens on.")
	fs.StringVar(&f.metricsAddress, "metrics-bind-address", "127.0.0.1:9090", "Address of the Prometheus /metrics listener, separate from the API's; 0 disables it. The default is reachable from the pod only: set :9090 (and a NetworkPolicy) for Prometheus.")
	fs.StringVar(&f.authMode, "auth-mode", "apikey", "Authentication: apikey (keys hashed in a Secret), tokenreview (Kubernetes bearer tokens), or none (local development only).")
	fs.StringVar(&f.apiKeysSecret, "api-keys-secret", "asyncjob-system/asyncjob-api-keys", "namespace/name of the Secret with API key hashes (auth-mode apikey).")
	fs.StringVar(&f.noAuthTenant, "no-auth-tenant", "default", "The tenant every request belongs to with auth-mode none.")
	fs.StringVar(&f.tokenAudiences, "token-audiences", "", "Comma-separated audiences bearer tokens must be valid for (auth-mode tokenreview); empty: the API server's.")
	fs.StringVar(&f.namespaceTemplate, "tenant-namespace-template", "{tenant}", "Namespace of a tenant's jobs; {tenant} is replaced by the tenant.")
	fs.Float64Var(&f.rateLimit, "rate-limit", 20, "Requests per second per tenant on each replica; 0 disables the limit.")
	fs.IntVar(&f.rateBurst, "rate-burst", 40, "Burst of requests per tenant above rate-limit.")
	fs.IntVar(&f.maxUnfinished, "max-unfinished-jobs", 100, "Unfinished jobs a tenant may have at once; 0: no limit.")
	fs.Int64Var(&f.maxBodyBytes, "max-body-bytes", httpapi.DefaultMaxBodyBytes, "Largest accepted request body.")
	fs.DurationVar(&f.eventsHeartbeat, "events-heartbeat", httpapi.DefaultEventsHeartbeat, "Time between two heartbeat comments of a server-sent events stream; keep it below the idle timeout of proxies in front of the API.")
	fs.StringVar(&f.workerKeyFile, "worker-token-key-file", "", "File with the key that signs worker callback tokens (the controller's key); checked at start-up.")
	fs.StringVar(&f.webhookCIDRs, "webhook-allowed-cidrs", "", "Comma-separated CIDRs webhook URLs may name although refused by default (loopback, private, link-local); the same as the controller's.")
	fs.DurationVar(&f.rotationGrace, "webhook-rotation-grace", webhook.DefaultRotationGrace, "How long a rotated-out webhook signing secret keeps signing.")
	f.artifacts.register(fs)
}

func runAPI(args []string) error {
	fs := flag.NewFlagSet("api", flag.ContinueOnError)
	var f apiFlags
	f.register(fs)
	config.RegisterFlags(fs) // --kubeconfig, read by config.GetConfig
	zapOpts := zap.Options{}
	zapOpts.BindFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	log := zap.New(zap.UseFlagOptions(&zapOpts)).WithName("api")
	gin.SetMode(gin.ReleaseMode)

	auth, secretRef, err := f.authenticator()
	if err != nil {
		return err
	}
	var workerKey []byte
	if f.workerKeyFile != "" {
		// Fail at start-up on a key the controller would also refuse, not on
		// a worker's first callback.
		if workerKey, err = workertoken.LoadKey(f.workerKeyFile); err != nil {
			return fmt.Errorf("--worker-token-key-file: %w", err)
		}
	}
	policy, err := f.webhookPolicy()
	if err != nil {
		return err
	}
	if _, none := auth.(httpapi.NoAuthenticator); none {
		log.Info("WARNING: authentication is disabled (--auth-mode=none); every request acts as one tenant. Use this for local development only.", "tenant", f.noAuthTenant)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	artifacts, err := f.artifacts.open(ctx)
	if err != nil {
		return err
	}
	if artifacts != nil {
		defer func() { _ = artifacts.Close() }()
		log.Info("artifact store configured", "url", f.artifacts.safeURL())
	}

	restCfg, err := config.GetConfig()
	if err != nil {
		return fmt.Errorf("loading kubeconfig: %w", err)
	}
	apiScheme := scheme.New()
	direct, err := httpapi.NewClient(restCfg, apiScheme, httpapi.DefaultKubeTimeout)
	if err != nil {
		return err
	}
	pods, err := httpapi.NewLogClient(restCfg)
	if err != nil {
		return err
	}
	tenants, err := httpapi.NewTenantNamespaces(f.namespaceTemplate)
	if err != nil {
		return err
	}

	cache, err := httpapi.NewCache(restCfg, apiScheme, secretRef)
	if err != nil {
		return err
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	var synced atomic.Bool
	srv, err := httpapi.New(httpapi.Config{
		Cache: cache, APIReader: direct, Client: direct, Pods: pods,
		Authenticator: auth, Tenants: tenants,
		RateLimit: f.rateLimit, RateBurst: f.rateBurst,
		MaxUnfinishedJobs: f.maxUnfinished, MaxBodyBytes: f.maxBodyBytes,
		WorkerTokenKey:       workerKey,
		WebhookPolicy:        policy,
		WebhookRotationGrace: f.rotationGrace,
		EventsHeartbeat:      f.eventsHeartbeat,
		Artifacts:            artifacts,
		ArtifactLimits:       f.artifacts.limits(),
		Ready:                synced.Load,
		Registerer:           reg, Gatherer: reg,
		Log: log,
	})
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", f.bindAddress)
	if err != nil {
		return err
	}
	// Serve right away so /healthz answers while the cache syncs; /readyz
	// turns ready once it has.
	cacheErr := make(chan error, 1)
	go func() {
		if err := httpapi.StartCache(ctx, cache, secretRef != nil, log); err != nil {
			if ctx.Err() == nil { // not merely a shutdown before the sync
				cacheErr <- err
				stop() // without a cache the server cannot answer; shut down
			}
			return
		}
		synced.Store(true)
		log.Info("informer cache synced")
	}()
	if f.metricsAddress != "0" {
		ml, err := net.Listen("tcp", f.metricsAddress)
		if err != nil {
			return fmt.Errorf("--metrics-bind-address: %w", err)
		}
		go func() {
			if err := httpapi.Serve(ctx, ml, srv.MetricsHandler(), log); err != nil {
				log.Error(err, "metrics listener failed")
			}
		}()
		log.Info("serving metrics", "address", ml.Addr().String())
	}
	log.Info("serving the REST API", "address", l.Addr().String(), "authMode", f.authMode)
	serveErr := httpapi.Serve(ctx, l, srv.Handler(), log)
	// Progress reports accepted but held for their interval are written
	// before the process exits.
	closeCtx, cancelClose := context.WithTimeout(context.Background(), 10*time.Second)
	srv.Close(closeCtx)
	cancelClose()
	if serveErr != nil {
		return serveErr
	}
	select {
	case err := <-cacheErr:
		return fmt.Errorf("informer cache: %w", err)
	default:
		return nil
	}
}

// authenticator builds the authenticator --auth-mode names and, for apikey,
// returns the Secret the cache must watch (nil otherwise).
func (f apiFlags) authenticator() (httpapi.Authenticator, *types.NamespacedName, error) {
	switch f.authMode {
	case "apikey":
		ns, name, ok := strings.Cut(f.apiKeysSecret, "/")
		if !ok || ns == "" || name == "" {
			return nil, nil, errors.New("--api-keys-secret must be namespace/name")
		}
		ref := types.NamespacedName{Namespace: ns, Name: name}
		return &httpapi.APIKeyAuthenticator{Secret: ref}, &ref, nil
	case "tokenreview":
		var aud []string
		if f.tokenAudiences != "" {
			aud = strings.Split(f.tokenAudiences, ",")
		}
		return &httpapi.TokenReviewAuthenticator{Audiences: aud}, nil, nil
	case "none":
		return httpapi.NoAuthenticator{Tenant: f.noAuthTenant}, nil, nil
	}
	return nil, nil, fmt.Errorf("--auth-mode must be apikey, tokenreview or none, not %q", f.authMode)
}

// webhookPolicy is the destination policy of --webhook-allowed-cidrs.
func (f apiFlags) webhookPolicy() (webhook.Policy, error) {
	p, err := webhook.ParsePolicy(splitList(f.webhookCIDRs))
	if err != nil {
		return webhook.Policy{}, fmt.Errorf("--webhook-allowed-cidrs: %w", err)
	}
	return p, nil
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}
