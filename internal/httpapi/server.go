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
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/asyncjob/asyncjob/internal/artifact"
	"github.com/asyncjob/asyncjob/internal/webhook"
)

// Defaults for Config fields left zero.
const (
	DefaultMaxBodyBytes = 1 << 20
	DefaultKubeTimeout  = 10 * time.Second
	// defaultPollSeconds is the Retry-After hint when a job's type is gone.
	defaultPollSeconds = 5
)

// Config is everything the server depends on; nothing is global.
type Config struct {
	// Cache serves reads (an informer cache that watches AsyncJobs,
	// AsyncJobTypes and, for API keys, the keys Secret).
	Cache client.Reader
	// APIReader reads straight from the API server, for read-your-writes.
	APIReader client.Reader
	// Client writes to the API server (AsyncJobs and TokenReviews).
	Client client.Client
	// Pods streams containers' logs (NewLogClient); without it, GET
	// /v1/jobs/{id}/logs answers 500 (cmd/api.go always sets it).
	Pods corev1client.PodsGetter
	// Authenticator authenticates every /v1 request.
	Authenticator Authenticator
	// Tenants maps tenants to namespaces.
	Tenants TenantNamespaces
	// RateLimit and RateBurst bound each tenant's requests per second on this
	// replica; a zero RateLimit disables the limit.
	RateLimit float64
	RateBurst int
	// MaxUnfinishedJobs bounds a tenant's jobs that are not finished; 0: no bound.
	MaxUnfinishedJobs int
	// MaxBodyBytes bounds request bodies (DefaultMaxBodyBytes when 0).
	MaxBodyBytes int64
	// KubeTimeout bounds each request's Kubernetes calls (DefaultKubeTimeout when 0).
	KubeTimeout time.Duration
	// WorkerTokenKey verifies worker callback tokens (internal/workertoken);
	// nil: the worker routes refuse every request.
	WorkerTokenKey []byte
	// ProgressInterval is the least time between two writes of one job's
	// progress (DefaultProgressInterval when 0).
	ProgressInterval time.Duration
	// EventsHeartbeat is the time between two comment heartbeats of an SSE
	// stream (DefaultEventsHeartbeat when 0); EventsRetry the reconnection
	// delay streams announce (DefaultEventsRetry when 0).
	EventsHeartbeat time.Duration
	EventsRetry     time.Duration
	// EventHistory is how many job changes this replica remembers for
	// Last-Event-ID resumes (DefaultEventHistory when 0); EventBuffer how many
	// events may wait for one stream before it is dropped as too slow
	// (DefaultEventBuffer when 0).
	EventHistory int
	EventBuffer  int
	// Ready reports whether the cache has synced; /readyz answers 503 until then.
	Ready func() bool
	// Registerer receives the HTTP metrics; Gatherer serves /metrics.
	Registerer prometheus.Registerer
	Gatherer   prometheus.Gatherer
	// Log receives access logs and server errors.
	Log logr.Logger
	// WebhookPolicy checks submitted webhook URLs (the same allowed ranges as
	// the controller's --webhook-allowed-cidrs).
	WebhookPolicy webhook.Policy
	// WebhookRotationGrace is how long a rotated-out signing secret keeps
	// signing (webhook.DefaultRotationGrace when 0).
	WebhookRotationGrace time.Duration
	// Artifacts is the artifact store (docs/artifacts.md); nil: uploads and
	// types with artifacts are refused (501 artifacts-not-configured).
	Artifacts *artifact.Store
	// ArtifactLimits bounds uploads and outputs; zero fields take the
	// DefaultArtifact* values.
	ArtifactLimits ArtifactLimits
}

// ArtifactLimits bounds what clients and workers may store.
type ArtifactLimits struct {
	// MaxFileBytes bounds one uploaded file, MaxRequestBytes one multipart
	// submission, MaxOutputBytes one output a worker PUTs (413 beyond).
	MaxFileBytes    int64
	MaxRequestBytes int64
	MaxOutputBytes  int64
	// Redirect answers an artifact download with 303 to a presigned URL
	// that expires after URLExpiry, where the store can presign (S3).
	Redirect  bool
	URLExpiry time.Duration
}

// The artifact limits' defaults.
const (
	DefaultArtifactMaxFileBytes    int64 = 1 << 30
	DefaultArtifactMaxRequestBytes int64 = 4 << 30
	DefaultArtifactMaxOutputBytes  int64 = 4 << 30
	DefaultArtifactURLExpiry             = 5 * time.Minute
)

// withDefaults fills the zero fields.
func (l ArtifactLimits) withDefaults() ArtifactLimits {
	if l.MaxFileBytes == 0 {
		l.MaxFileBytes = DefaultArtifactMaxFileBytes
	}
	if l.MaxRequestBytes == 0 {
		l.MaxRequestBytes = DefaultArtifactMaxRequestBytes
	}
	if l.MaxOutputBytes == 0 {
		l.MaxOutputBytes = DefaultArtifactMaxOutputBytes
	}
	if l.URLExpiry == 0 {
		l.URLExpiry = DefaultArtifactURLExpiry
	}
	return l
}

// Server is the REST API.
type Server struct {
	cfg     Config
	store   *store
	limiter *tenantLimiter
	engine  *gin.Engine
	// progress coalesces worker progress reports (progress_coalescer.go).
	progress *coalescer
	// hub fans job changes out to event streams and held requests (events_hub.go).
	hub *hub
}

// New builds the server and its routes.
func New(cfg Config) (*Server, error) {
	if cfg.Cache == nil || cfg.APIReader == nil || cfg.Client == nil || cfg.Authenticator == nil {
		return nil, errors.New("httpapi: Cache, APIReader, Client and Authenticator are required")
	}
	if cfg.Tenants.template == "" {
		return nil, errors.New("httpapi: Tenants is required")
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	cfg.ArtifactLimits = cfg.ArtifactLimits.withDefaults()
	if cfg.KubeTimeout <= 0 {
		cfg.KubeTimeout = DefaultKubeTimeout
	}
	if cfg.ProgressInterval <= 0 {
		cfg.ProgressInterval = DefaultProgressInterval
	}
	if cfg.WebhookRotationGrace <= 0 {
		cfg.WebhookRotationGrace = webhook.DefaultRotationGrace

	}
	if cfg.EventsHeartbeat <= 0 {
		cfg.EventsHeartbeat = DefaultEventsHeartbeat
	}
	if cfg.EventsRetry <= 0 {
		cfg.EventsRetry = DefaultEventsRetry
	}
	if cfg.Ready == nil {
		cfg.Ready = func() bool { return true }
	}
	if cfg.Registerer == nil || cfg.Gatherer == nil {
		reg := prometheus.NewRegistry()
		cfg.Registerer, cfg.Gatherer = reg, reg
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:     cfg,
		store:   newStore(cfg),
		limiter: newTenantLimiter(cfg.RateLimit, cfg.RateBurst),
		hub:     newHub(cfg.EventHistory, cfg.EventBuffer),
	}
	// An informer cache (every caller but a few tests) also tells the schema
	// cache which types are gone.
	if informers, ok := cfg.Cache.(cache.Informers); ok {
		if err := s.store.forgetDeletedTypes(informers); err != nil {
			return nil, err
		}
		if err := s.store.feedHub(informers, s.hub); err != nil {
			return nil, err
		}
		if err := s.store.feedIndex(informers); err != nil {
			return nil, err
		}
	}
	s.progress = newCoalescer(cfg.ProgressInterval, cfg.KubeTimeout, s.store.writeProgress, cfg.Log)
	s.engine = s.routes(m)
	return s, nil
}

// Close writes the progress reports still held for their interval; call it
// once the HTTP server has stopped (Serve returned). It returns when they are
// written, or ctx ends.
func (s *Server) Close(ctx context.Context) {
	s.hub.close()
	s.progress.Close(ctx)
}

// CloseStreams ends every event stream and held request now, and refuses new
// ones (503): a graceful shutdown must not wait for streams, whose clients
// resume on another replica. Serve calls it when it starts shutting down.
func (s *Server) CloseStreams() { s.hub.close() }

// Handler is the server's http.Handler. Serve finds CloseStreams on it.
func (s *Server) Handler() http.Handler { return apiHandler{Handler: s.engine, s: s} }

// apiHandler is the engine, with the streams Serve must end on shutdown.
type apiHandler struct {
	http.Handler
	s *Server
}

func (a apiHandler) CloseStreams() { a.s.CloseStreams() }

// MetricsHandler serves the Prometheus metrics (Gatherer). It is not a route
// of Handler: the api command serves it on its own listener, bound to
// localhost unless told otherwise, so the public port never exposes it.
func (s *Server) MetricsHandler() http.Handler { return metricsHandler(s.cfg.Gatherer) }

func (s *Server) routes(m *metrics) *gin.Engine {
	e := gin.New()
	// Every answer must be a documented problem, never gin's text/plain
	// defaults or redirects: 404 and 405 go through problemMiddleware too.
	e.HandleMethodNotAllowed = true
	e.RedirectTrailingSlash = false
	e.RedirectFixedPath = false
	e.ContextWithFallback = true
	// Trust no X-Forwarded-For: the access log's client address must not be
	// spoofable. (A deployment behind a known proxy can widen this.)
	_ = e.SetTrustedProxies(nil)
	e.Use(accessLog(s.cfg.Log, m), problemMiddleware(s.cfg.Log), recovery(s.cfg.Log))
	e.NoRoute(handle(func(c *gin.Context) error {
		return newError(problemRouteNotFound, "%s is not an endpoint of this API; GET /openapi.json lists them", c.Request.URL.Path)
	}))
	e.NoMethod(handle(func(c *gin.Context) error {
		allow := c.Writer.Header().Get("Allow")
		return newError(problemMethodNotAllowed, "%s does not support %s; allowed: %s", c.FullPath(), c.Request.Method, allow).
			withHeader("Allow", allow)
	}))

	e.GET("/healthz", s.healthz)
	e.GET("/readyz", handle(s.readyz))
	e.GET("/openapi.json", handle(serveOpenAPI))

	// The Kubernetes deadline comes first: authentication may call the API
	// server too (TokenReview), and must not hang on it.
	v1 := e.Group("/v1", s.kubeTimeout(), refuseWorkerTokens(), authMiddleware(s.cfg.Authenticator, s.store), s.limiter.middleware())
	v1.POST("/jobs", handle(s.createJob))
	v1.GET("/jobs", handle(s.listJobs))
	v1.GET("/jobs/:id", handle(s.getJob))
	v1.HEAD("/jobs/:id", handle(s.getJob))
	v1.DELETE("/jobs/:id", handle(s.deleteJob))
	v1.POST("/jobs/:id/cancel", handle(s.cancelJob))
	v1.GET("/jobs/:id/result", handle(s.getResult))
	v1.GET("/jobs/:id/logs", handle(s.getLogs))
	v1.GET("/jobs/:id/events", handle(s.getJobEvents))
	v1.GET("/jobs/events", handle(s.getTenantEvents))
	v1.GET("/types", handle(s.listTypes))
	v1.GET("/types/:name", handle(s.getType))
	// Webhooks (webhook_deliveries.go, webhooks_secret.go).
	v1.GET("/jobs/:id/webhook-deliveries", handle(s.listWebhookDeliveries))
	v1.POST("/jobs/:id/webhook-deliveries/:deliveryId/redeliver", handle(s.redeliverWebhook))
	v1.GET("/webhooks/secret", handle(s.getWebhookSecret))
	v1.POST("/webhooks/secret/rotate", handle(s.rotateWebhookSecret))
	// Artifacts (jobs_artifacts.go).
	v1.GET("/jobs/:id/artifacts", handle(s.listArtifacts))
	v1.GET("/jobs/:id/artifacts/:name", handle(s.getArtifact))
	v1.HEAD("/jobs/:id/artifacts/:name", handle(s.getArtifact))

	// Worker callbacks: the job's worker token, no client credential, no tenant.
	worker := e.Group("/v1", s.kubeTimeout(), s.workerAuth())
	worker.POST("/jobs/:id/progress", handle(s.postProgress))
	worker.PUT("/jobs/:id/result", handle(s.putResult))
	worker.GET("/jobs/:id/inputs/:name", handle(s.getInput))
	worker.PUT("/jobs/:id/outputs/:name", handle(s.putOutput))
	return e
}

// kubeTimeout bounds the Kubernetes calls of one request, authentication's
// included, so a hung API server turns into a 503 instead of a hung client.
func (s *Server) kubeTimeout() gin.HandlerFunc {
	return func(c *gin.Context) {
		ctx, cancel := context.WithTimeout(c.Request.Context(), s.cfg.KubeTimeout)
		defer cancel()
		// Streams outlive the deadline (jobs_logs.go): keep the request's own context.
		ctx = context.WithValue(ctx, unboundedContextKey{}, c.Request.Context())
		c.Request = c.Request.WithContext(ctx)
		c.Next()
	}
}

// namespaceOf resolves the caller's tenant namespace.
func (s *Server) namespaceOf(c *gin.Context) (identity, string, error) {
	id, ok := identityFrom(c.Request.Context())
	if !ok {
		return identity{}, "", errors.New("no identity on an authenticated route")
	}
	ns, err := s.cfg.Tenants.Namespace(id.Tenant)
	if err != nil {
		return identity{}, "", err
	}
	return id, ns, nil
}

// isJSON accepts application/json and any +json media type, with parameters.
func isJSON(contentType string) bool {
	mt, _, _ := strings.Cut(contentType, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	return mt == "application/json" || (strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))
}
