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
	"strings"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client/config"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/asyncjob/asyncjob/internal/controller"
	"github.com/asyncjob/asyncjob/internal/httpapi"
	"github.com/asyncjob/asyncjob/internal/scheme"
	"github.com/asyncjob/asyncjob/internal/tombstone"
	"github.com/asyncjob/asyncjob/internal/webhook"
	"github.com/asyncjob/asyncjob/internal/workertoken"
)

func init() {
	subcommands["controller"] = runController
}

// runController runs the controller manager: the AsyncJob and AsyncJobType
// controllers, with leader election for running several replicas.
func runController(args []string) error {
	fs := flag.NewFlagSet("asyncjob controller", flag.ContinueOnError)
	config.RegisterFlags(fs) // --kubeconfig; KUBECONFIG and in-cluster config also work
	metricsAddr := fs.String("metrics-bind-address", ":8081", "address the Prometheus metrics endpoint binds to; 0 disables it")
	metricsSecure := fs.Bool("metrics-secure", true, "serve metrics over HTTPS to bearer tokens authorized for GET /metrics (TokenReview and SubjectAccessReview); false: plain HTTP to anyone, so bind to localhost")
	probeAddr := fs.String("health-probe-bind-address", ":8082", "address the /healthz and /readyz probes bind to")
	leaderElect := fs.Bool("leader-elect", false, "elect a leader, so that only one of several replicas reconciles")
	leaderNamespace := fs.String("leader-election-namespace", "", "namespace of the leader election Lease (default: the pod's own)")
	concurrency := fs.Int("max-concurrent-reconciles", 4, "AsyncJobs reconciled in parallel")
	callbackURL := fs.String("callback-url", "", "base URL of the REST API that job pods call back (progress, result), e.g. http://asyncjob-api.asyncjob-system.svc:80; empty disables callbacks (no token, no callback env)")
	tokenKeyFile := fs.String("worker-token-key-file", "", "file with the key (at least 32 bytes) that signs job pods' callback tokens; the API verifies them with the same file; required with --callback-url")
	entrypointImage := fs.String("entrypoint-image", "", "the asyncjob image, whose /asyncjob the init container of a type with entrypoint Inject copies into the pod; empty: such types are not Ready")
	webhookTimeout := fs.Duration("webhook-timeout", webhook.DefaultTimeout, "bound of one webhook delivery attempt (connect, TLS, the answer's headers)")
	webhookAllowed := fs.String("webhook-allowed-cidrs", "", "comma-separated CIDRs webhooks may reach although they are loopback, private, link-local or otherwise refused by default, e.g. 10.20.0.0/16 for receivers on the operator's own network")
	webhookSchedule := fs.String("webhook-retry-schedule", "", "FOR TESTING: comma-separated delays between webhook attempts, e.g. 1s,2s,3s; empty: the Standard Webhooks schedule (5s, 5m, 30m, 2h, 5h, 10h, 14h, 20h, 24h)")
	tombstoneRetention := fs.Duration("tombstone-retention", tombstone.DefaultRetention, "how long a job removed after its TTL answers 410 Gone (then 404); 0 keeps no tombstones")
	tombstoneMax := fs.Int("tombstone-max-per-namespace", tombstone.DefaultMaxEntries, fmt.Sprintf("most tombstones kept per tenant namespace (1 to %d); the oldest go first", tombstone.MaxEntriesLimit))
	artifactStoreURL := fs.String("artifact-store-url", "", "gocloud.dev/blob URL of the artifact store whose files the controller removes when a job is deleted or cancelled, e.g. file:///data?no_tmp_dir=true or s3://BUCKET?endpoint=http://HOST:PORT&use_path_style=true&region=us-east-1 (credentials from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY); the API's flag of the same name names the same store; empty: none (a deleted job with files keeps its finalizer)")
	zapOpts := zap.Options{}
	zapOpts.BindFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zapOpts)))
	log := ctrl.Log.WithName("setup")

	var tokenKey []byte
	if *tokenKeyFile != "" {
		var err error
		if tokenKey, err = workertoken.LoadKey(*tokenKeyFile); err != nil {
			return err
		}
	}
	if *callbackURL != "" && tokenKey == nil {
		return errors.New("--callback-url needs --worker-token-key-file")
	}

	webhookOpts, err := webhookOptions(*webhookTimeout, *webhookAllowed, *webhookSchedule)
	if err != nil {
		return err
	}

	store, err := openControllerStore(context.Background(), *artifactStoreURL)
	if err != nil {
		return err
	}
	if store != nil {
		defer func() { _ = store.Close() }()
	}

	cfg, err := ctrl.GetConfig()
	if err != nil {
		return fmt.Errorf("loading the kubeconfig: %w", err)
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                  scheme.New(),
		Cache:                   controller.CacheOptions(),
		Metrics:                 controllerMetrics(*metricsAddr, *metricsSecure),
		HealthProbeBindAddress:  *probeAddr,
		LeaderElection:          *leaderElect,
		LeaderElectionID:        "asyncjob-controller.asyncjob.io",
		LeaderElectionNamespace: *leaderNamespace,
		// The process exits right after losing the lease, so stepping down
		// quickly is safe and lets the next leader start sooner.
		LeaderElectionReleaseOnCancel: true,
	})
	if err != nil {
		return fmt.Errorf("creating the manager: %w", err)
	}
	opts := controller.Options{
		MaxConcurrentReconciles: *concurrency,
		CallbackURL:             *callbackURL,
		WorkerTokenKey:          tokenKey,
		EntrypointImage:         *entrypointImage,
		Tombstones:              controller.TombstoneOptions{Retention: *tombstoneRetention, MaxPerNamespace: *tombstoneMax},
		ArtifactStore:           store,
	}
	if err := controller.Setup(mgr, opts); err != nil {
		return fmt.Errorf("setting up the controllers: %w", err)
	}
	if err := controller.SetupWebhookDelivery(mgr, webhookOpts); err != nil {
		return fmt.Errorf("setting up webhook delivery: %w", err)
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return err
	}
	storeLog := "none"
	if store != nil {
		storeLog = redactStoreURL(*artifactStoreURL) // never its query: credentials may be there
	}
	log.Info("Starting the controller manager", "callbacks", *callbackURL != "", "webhookAllowedCIDRs", *webhookAllowed, "callbackURL", *callbackURL, "entrypointImage", *entrypointImage,
		"artifactStore", storeLog)
	return mgr.Start(ctrl.SetupSignalHandler())
}

// webhookOptions reads the webhook flags. The payload's data is the job as
// the REST API renders it.
func webhookOptions(timeout time.Duration, allowedCIDRs, schedule string) (controller.WebhookOptions, error) {
	var cidrs []string
	for _, c := range strings.Split(allowedCIDRs, ",") {
		if c = strings.TrimSpace(c); c != "" {
			cidrs = append(cidrs, c)
		}
	}
	policy, err := webhook.ParsePolicy(cidrs)
	if err != nil {
		return controller.WebhookOptions{}, err
	}
	opts := controller.WebhookOptions{Policy: policy, Timeout: timeout, Render: httpapi.RenderJob}
	if schedule != "" {
		if opts.Schedule, err = webhook.ParseSchedule(schedule); err != nil {
			return controller.WebhookOptions{}, err
		}
	}
	return opts, nil
}
