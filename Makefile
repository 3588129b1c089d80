# asyncjob: long-running operations behind a REST API, run as Kubernetes Jobs.

# Pinned tool versions. Tools are cached outside the repository (see hack/tool.sh)
# and linked into ./bin.
CONTROLLER_TOOLS_VERSION ?= v0.23.0
HELM_VERSION ?= v3.22.0
GOLANGCI_LINT_VERSION ?= v2.15.0
# kube-apiserver and etcd for envtest match client-go's minor (v0.37 -> v1.37).
KUBE_VERSION ?= v1.37.2

LOCALBIN ?= $(shell pwd)/bin
CONTROLLER_GEN ?= $(LOCALBIN)/controller-gen
GOLANGCI_LINT ?= $(LOCALBIN)/golangci-lint
HELM ?= $(LOCALBIN)/helm
# What helm's own release build sets: its version, and the Kubernetes version
# `helm template` and `helm lint` assume (its client-go's, v0.37 -> 1.37;
# without it, v1.20 fails the chart's kubeVersion).
HELM_LDFLAGS = -X helm.sh/helm/v3/internal/version.version=$(HELM_VERSION) \
	-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=37 \
	-X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=37

GO_TEST_FLAGS ?= -count=1
ENVTEST_TIMEOUT ?= 20m
E2E_TIMEOUT ?= 40m
# make bench's runs and presets (go run ./hack/bench -h lists every flag).
BENCH_ARGS ?= --runs=200x8,400x32 --presets=defaults,production-like

# The container image: make image, make image-push, make docker-build.
VERSION ?= v0.1.0
IMG ?= ghcr.io/asyncjob/asyncjob:$(VERSION)

# Use bash so recipes can use pipefail.
SHELL = /usr/bin/env bash -o pipefail
.SHELLFLAGS = -ec

.PHONY: all
all: build

##@ General

.PHONY: help
help: ## Display this help.
	@awk 'BEGIN {FS = ":.*##"; printf "\nUsage:\n  make \033[36m<target>\033[0m\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) } ' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: controller-gen ## Generate CRDs and RBAC (controller and API, separately) into config/.
	$(CONTROLLER_GEN) crd:generateEmbeddedObjectMeta=true paths="./api/..." output:crd:artifacts:config=config/crd/bases
	$(CONTROLLER_GEN) rbac:roleName=manager-role paths="./internal/controller/..." output:rbac:artifacts:config=config/rbac
	$(CONTROLLER_GEN) rbac:roleName=api-role paths="./internal/httpapi/..." output:rbac:artifacts:config=config/rbac/api
	@# The Helm chart ships verbatim copies: its CRDs and the RBAC rules its templates read.
	mkdir -p charts/asyncjob/crds charts/asyncjob/files/rbac
	rm -f charts/asyncjob/crds/*.yaml
	cp config/crd/bases/*.yaml charts/asyncjob/crds/
	cp config/rbac/role.yaml charts/asyncjob/files/rbac/controller-role.yaml
	cp config/rbac/api/role.yaml charts/asyncjob/files/rbac/api-role.yaml

.PHONY: generate
generate: controller-gen ## Generate DeepCopy methods.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./..."

.PHONY: fmt
fmt: ## Run go fmt.
	go fmt ./...

.PHONY: vet
vet: ## Run go vet.
	go vet ./...

.PHONY: lint
lint: golangci-lint ## Run golangci-lint.
	$(GOLANGCI_LINT) run

.PHONY: verify-generated
verify-generated: manifests generate ## Fail when generated files differ from what is committed.
	@if [ -n "$$(git status --porcelain -- api config charts/asyncjob/crds charts/asyncjob/files)" ]; then \
		echo "generated files are stale: run 'make manifests generate' and commit the result"; \
		git status --porcelain -- api config charts/asyncjob/crds charts/asyncjob/files; git --no-pager diff -- api config charts/asyncjob/crds charts/asyncjob/files | head -50; exit 1; fi

.PHONY: test
test: test-integration fuzz e2e ## Run every test: unit, envtest integration, fuzzing (FUZZTIME each), and end-to-end on a local cluster (the README's test command).

.PHONY: test-integration
test-integration: manifests generate fmt vet envtest-assets helm versitygw ## Run unit and envtest integration tests (builds kube-apiserver, etcd and versitygw on first use).
	KUBEBUILDER_ASSETS="$${KUBEBUILDER_ASSETS:-$$(hack/k8s-binaries.sh kube-apiserver etcd | tail -n1)}" HELM=$(HELM) \
		ASYNCJOB_VERSITYGW="$${ASYNCJOB_VERSITYGW:-$$(hack/versitygw.sh | tail -n1)}" \
		go test $(GO_TEST_FLAGS) -timeout $(ENVTEST_TIMEOUT) $$(go list ./... | grep -v -e /test/e2e -e /test/localcluster -e /test/install -e /test/bench -e /test/chaos -e /test/kueue)

.PHONY: e2e
e2e: cluster-assets helm ## Run the local-cluster, end-to-end, Helm install and benchmark-harness smoke tests, then make chaos (real node too when root; ASYNCJOB_REQUIRE_REAL_NODE=1 requires it).
	@hack/real-node-deps.sh || { \
		if [ "$${ASYNCJOB_REQUIRE_REAL_NODE:-}" = 1 ]; then echo "make e2e: ASYNCJOB_REQUIRE_REAL_NODE=1, and the real node's packages are missing and cannot be installed" >&2; exit 1; fi; \
		echo "make e2e: containerd, runc or the CNI plugins are missing and cannot be installed: the real-node tests will be skipped"; }
	go test $(GO_TEST_FLAGS) -timeout $(E2E_TIMEOUT) ./test/localcluster/... ./test/e2e/... ./test/kueue/... ./test/install/... ./test/bench/...
	$(MAKE) chaos

# The reliability tests of docs/reliability.md, on a local cluster with simulated
# nodes, two controller replicas and two API replicas (-v: they print their figures).
CHAOS_TEST = go test $(GO_TEST_FLAGS) -v -timeout $(CHAOS_TIMEOUT) ./test/chaos/ -run
CHAOS_TIMEOUT ?= 20m

.PHONY: chaos
chaos: cluster-assets ## Chaos under load: kills and restarts (controller leader, API replica, kube-apiserver, etcd) during a stream of submissions; ASYNCJOB_CHAOS_DURATION (150s) bounds it.
	$(CHAOS_TEST) '^TestChaos$$'

.PHONY: failover
failover: cluster-assets ## The leading controller SIGKILLed mid-run: takeover time, no duplicate Job.
	$(CHAOS_TEST) '^TestLeaderFailover$$'

.PHONY: outage-etcd
outage-etcd: cluster-assets ## etcd down 30 s: submissions 503 + Retry-After, cached reads answer, convergence after.
	$(CHAOS_TEST) '^TestEtcdOutage$$'

.PHONY: outage-apiserver
outage-apiserver: cluster-assets ## kube-apiserver down 20 s: the same, and no re-list storm (audit log).
	$(CHAOS_TEST) '^TestAPIServerOutage$$'

.PHONY: slow-apiserver
slow-apiserver: cluster-assets ## A slow kube-apiserver (proxy latency): 503 within the documented 10 s deadline, TokenReview included.
	$(CHAOS_TEST) '^TestSlowAPIServer$$'

.PHONY: outages
outages: cluster-assets ## Every failover and outage test (failover, outage-etcd, outage-apiserver, slow-apiserver), one at a time.
	$(CHAOS_TEST) '^(TestLeaderFailover|TestEtcdOutage|TestAPIServerOutage|TestSlowAPIServer)$$'

.PHONY: kueue-e2e
kueue-e2e: cluster-assets ## asyncjob with a real Kueue on a local cluster: a type with spec.kueue, admission, positions from Kueue's visibility API (needs root).
	go test $(GO_TEST_FLAGS) -v -timeout 30m ./test/kueue/

.PHONY: dev
dev: ## Run asyncjob on a local cluster: REST API on localhost:8080 with a generated API key; simulated nodes, and as root the real node with a live sample worker. Ctrl-C stops it.
	@# As root, install what the real node needs, as make e2e does; hack/dev
	@# says in one line why it keeps to simulated nodes otherwise.
	@if [ "$$(id -u)" = 0 ]; then hack/real-node-deps.sh || true; fi
	go run ./hack/dev

.PHONY: bench
bench: cluster-assets ## Benchmark asyncjob against raw batch/v1 Jobs on a local cluster with simulated nodes (BENCH_ARGS; see docs/benchmarks.md).
	go run ./hack/bench $(BENCH_ARGS)

.PHONY: bench-handler
bench-handler: envtest-assets ## Benchmark the REST handler path in process on envtest (go test -bench).
	KUBEBUILDER_ASSETS="$${KUBEBUILDER_ASSETS:-$$(hack/k8s-binaries.sh kube-apiserver etcd | tail -n1)}" \
		go test -run '^$$' -bench . -benchmem ./test/bench/

# Each fuzz target runs for FUZZTIME; their seeds (and any crash found, under
# testdata/fuzz/) also run as plain tests in every go test. A count, not a
# duration: Go 1.26's coordinator can fail a duration run with a bare "context
# deadline exceeded" when it ends (golang/go#75804, fixed in Go 1.27).
FUZZTIME ?= 20000x
FUZZ_PACKAGES ?= ./internal/httpapi

.PHONY: fuzz
fuzz: ## Run every Go fuzz target of FUZZ_PACKAGES for FUZZTIME each (a found crash is written to testdata/fuzz/ and fails).
	@for pkg in $(FUZZ_PACKAGES); do \
		for target in $$(go test -short -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			echo "fuzz $$pkg $$target ($(FUZZTIME))"; \
			go test -short -run '^$$' -fuzz "^$$target\$$" -fuzztime $(FUZZTIME) $$pkg; \
		done; \
	done

.PHONY: test-unit
test-unit: ## Run only the tests that need no API server.
	go test $(GO_TEST_FLAGS) -short ./...

.PHONY: envtest-assets
envtest-assets: ## Build (once) kube-apiserver and etcd for envtest; skipped when KUBEBUILDER_ASSETS is set.
	@if [ -z "$${KUBEBUILDER_ASSETS:-}" ]; then KUBE_VERSION=$(KUBE_VERSION) hack/k8s-binaries.sh kube-apiserver etcd >/dev/null; fi

.PHONY: cluster-assets
cluster-assets: ## Build (once) the local cluster's binaries: control plane, kubelet, kube-proxy, kubectl, kwok, Kueue, versitygw (in parallel).
	@# Kueue alone takes about 11 minutes cold: it builds beside the others,
	@# not after them. Each script locks its own cache entry.
	@KUBE_VERSION=$(KUBE_VERSION) hack/k8s-binaries.sh kube-apiserver etcd kube-controller-manager kube-scheduler kubelet kube-proxy kubectl >/dev/null & k8s=$$!; \
		hack/kwok.sh >/dev/null & kwok=$$!; \
		hack/kueue.sh >/dev/null & kueue=$$!; \
		hack/versitygw.sh >/dev/null & versitygw=$$!; \
		rc=0; wait $$k8s || rc=1; wait $$kwok || rc=1; wait $$kueue || rc=1; wait $$versitygw || rc=1; exit $$rc

# versitygw: a real S3-compatible server (signatures checked) for the artifact
# store's S3 tests; tests find it through ASYNCJOB_VERSITYGW (the target sets
# it) or by running hack/versitygw.sh. Cold: 17 minutes measured on 2 cores
# shared with other builds (4.5 minutes of CPU, downloads included).
.PHONY: versitygw
versitygw: ## Build (once) versitygw, the S3-compatible server the artifact store's tests run against.
	@hack/versitygw.sh >/dev/null

##@ Build

.PHONY: build
build: ## Build the asyncjob binary into bin/.
	go build -o bin/asyncjob ./cmd

.PHONY: image
image: ## Build the container image without Docker, as an archive for ctr import or docker load: bin/asyncjob-image.tar (IMG names it).
	go run ./hack/image --ref $(IMG) --version $(VERSION) --output bin/asyncjob-image.tar

.PHONY: image-push
image-push: ## Build the container image without Docker and push it to IMG's registry.
	go run ./hack/image --ref $(IMG) --version $(VERSION) --push

.PHONY: docker-build
docker-build: ## Build the image with Docker instead (same content), tagged IMG.
	docker build --build-arg VERSION=$(VERSION) -t $(IMG) .

.PHONY: run
run: manifests generate fmt vet ## Run the controller against the current kubeconfig.
	go run ./cmd controller

.PHONY: run-api
run-api: ## Run the REST API on :8080 against the current kubeconfig, without authentication (local development only).
	go run ./cmd api --auth-mode=none --bind-address=:8080

.PHONY: install
install: manifests ## Install the CRDs into the cluster of the current kubeconfig.
	kubectl apply --server-side -k config/crd

.PHONY: uninstall
uninstall: manifests ## Remove the CRDs (and every AsyncJob) from the cluster.
	kubectl delete --ignore-not-found -k config/crd

##@ Tools

.PHONY: controller-gen
controller-gen: ## Install controller-gen.
	@hack/tool.sh controller-gen sigs.k8s.io/controller-tools/cmd/controller-gen $(CONTROLLER_TOOLS_VERSION)

.PHONY: golangci-lint
golangci-lint: ## Install golangci-lint.
	@hack/tool.sh golangci-lint github.com/golangci/golangci-lint/v2/cmd/golangci-lint $(GOLANGCI_LINT_VERSION)

.PHONY: helm
helm: ## Install helm (for the chart's tests and installs).
	@GOFLAGS="$${GOFLAGS:-} '-ldflags=$(HELM_LDFLAGS)'" hack/tool.sh helm helm.sh/helm/v3/cmd/helm $(HELM_VERSION)
