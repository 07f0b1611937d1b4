# provider-authentik: a Crossplane provider for Authentik.
# `make demo` runs the whole thing locally on the Authentik simulator;
# `make test` runs every test. Nothing here needs Docker or a download
# outside the Go module proxy.

SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

# One build configuration for all of our own Go (tests, vet, lint, the binaries, the image): the
# build cache keys on cgo and -trimpath, and with two configurations a cold run compiled the
# provider's dependencies twice. The local control-plane tools keep their own (cluster/build-tools.sh).
export CGO_ENABLED := 0
export GOFLAGS := -buildvcs=false -trimpath
export GOTOOLCHAIN := local

OUTPUT ?= _output
BIN := $(OUTPUT)/bin
VERSION ?= v0.1.0-dev
LDFLAGS := -s -w -X github.com/gitops-lifecycle/provider-authentik/internal/version.Version=$(VERSION)
GOLANGCI_LINT := github.com/golangci/golangci-lint/v2/cmd/golangci-lint@v2.15.0
# What `go generate ./...` writes; check-diff fails when it changes them.
GENERATED := apis package/provider/crds internal/clients/authentik examples/gitops/infrastructure/monitoring docs/reference
# The oldest and newest Authentik release lines the provider supports (as
# the simulator names them): make e2e runs its suite against the newest and
# applies the examples and the seed's ProxyConfig against the oldest.
E2E_OLDEST_AUTHENTIK ?= 2024.12
E2E_NEWEST_AUTHENTIK ?= 2026.8

.PHONY: help
help: ## List the targets.
	@grep -hE '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  %-14s %s\n", $$1, $$2}'

.PHONY: generate
generate: ## Regenerate deep copies, method sets, CRDs and docs/reference from the API types and XRDs, the client's response table (hack/schemagen) and the dashboard (hack/dashboard).
	go generate ./...

.PHONY: build
build: ## Build the provider and the Authentik simulator into _output/bin.
	CGO_ENABLED=0 go build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/provider ./cmd/provider
	CGO_ENABLED=0 go build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/authentik-sim ./cmd/authentik-sim

.PHONY: unit
unit: ## Run the Go tests (controllers and clients against the simulator).
	go test -count=1 ./...

.PHONY: vet
vet: ## go vet and gofmt.
	go vet ./...
	go vet -tags render,e2e,xpkg,rules,node,bench ./cluster/... ./cmd/...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

.PHONY: lint
lint: vet ## Lint with golangci-lint (built from the module proxy on first use).
	go run $(GOLANGCI_LINT) run --build-tags render,e2e,xpkg,rules,node,bench ./...

.PHONY: check-diff
check-diff: generate ## Fail if generated files are not committed.
	@git diff --exit-code -- $(GENERATED) || { echo "go generate changed files: commit them"; exit 1; }
	@test -z "$$(git status --porcelain -- $(GENERATED))" || { git status --porcelain -- $(GENERATED); echo "go generate left untracked files"; exit 1; }

.PHONY: reviewable
reviewable: generate vet unit ## What to run before sending a change.

.PHONY: test
test: check-diff vet lint unit ## Every test: generated files, vet, lint, unit tests, the end-to-end suite, the package, the provider as a pod on the local node (root).
	$(MAKE) rules-test
	$(MAKE) render
	$(MAKE) e2e
	$(MAKE) xpkg-test install-test
	$(MAKE) node-test

.PHONY: render
render: tools ## Render the example ProxyConfigs (the seed's among them) through the Composition and validate them with crank.
	go test -count=1 -tags render ./cluster/composition/...

.PHONY: rules-test
rules-test: ## Test the alert rules with promtool (built from the module proxy on first use, into _output/bin).
	cluster/build-tools.sh promtool
	go test -count=1 -tags rules ./cluster/monitoring/...

.PHONY: tools
tools: ## Build the local control-plane tools (etcd, kube-apiserver, Crossplane, functions) into _output/bin.
	cluster/build-tools.sh all

.PHONY: e2e
e2e: build tools xpkg ## On the local node (root): Crossplane from its chart, the provider as the pod it runs from the .xpkg, the simulator; the suite at the newest Authentik, the examples at the oldest; always tears down.
	cluster/local/node-deps.sh
	cluster/build-tools.sh node
	VERSION=$(VERSION) OUTPUT=$(abspath $(OUTPUT)) E2E_AUTHENTIK_VERSION=$(E2E_NEWEST_AUTHENTIK) cluster/e2e/run.sh
	VERSION=$(VERSION) OUTPUT=$(abspath $(OUTPUT)) E2E_AUTHENTIK_VERSION=$(E2E_OLDEST_AUTHENTIK) cluster/e2e/run.sh --examples-only

.PHONY: e2e-faults
e2e-faults: build tools ## The fault suite (not in `make test`): two replicas, a 3-minute Authentik outage, 100 ProxyConfigs under injected faults (E2E_FAULTS_COUNT=3: three runs).
	cluster/e2e/faults.sh

.PHONY: bench-scale
bench-scale: build tools ## Scale bench on the local control plane (not in `make test`): N ProxyConfigs (default 100), one table; N=500 works.
	cluster/bench/run.sh

.PHONY: node-smoke
node-smoke: tools ## Prove the local node (not in `make test`; root, Debian's containerd, runc, CNI plugins): a pod reaches the API server through the kubernetes Service.
	cluster/local/node-deps.sh
	cluster/build-tools.sh node
	cluster/local/node-smoke.sh

.PHONY: node-test
node-test: build xpkg ## examples/gitops on the local node (root; installs the node's Debian packages when missing): Crossplane from its chart, the provider and the functions as pods from their packages, then the provider pod's RBAC, restart and hand-over tests; always tears down.
	cluster/local/node-deps.sh
	cluster/build-tools.sh node
	VERSION=$(VERSION) OUTPUT=$(abspath $(OUTPUT)) cluster/package/node-test.sh

.PHONY: demo
demo: build xpkg ## The whole stack on a local node (root), left running: Crossplane from its chart, the provider and the functions as pods from their packages, examples/gitops and the examples applied.
	cluster/local/node-deps.sh
	cluster/build-tools.sh node
	VERSION=$(VERSION) OUTPUT=$(abspath $(OUTPUT)) cluster/package/node-test.sh --demo

.PHONY: demo-down
demo-down: ## Stop everything `make demo` started.
	CLUSTER_NODE=1 cluster/local/down.sh

.PHONY: image
image: ## Build the provider's OCI image without Docker: $(OUTPUT)/image/provider-authentik-$(VERSION).tar.
	VERSION=$(VERSION) OUTPUT=$(abspath $(OUTPUT)) cluster/image/build.sh

.PHONY: xpkg
xpkg: image tools ## Build the Crossplane packages: $(OUTPUT)/xpkg/provider-authentik-$(VERSION).xpkg (runtime image embedded), configuration-authentik-proxyconfig-$(VERSION).xpkg.
	VERSION=$(VERSION) OUTPUT=$(abspath $(OUTPUT)) cluster/package/build.sh

.PHONY: xpkg-test
xpkg-test: xpkg ## Check the image and both packages layer by layer; validate examples/gitops with crank.
	VERSION=$(VERSION) OUTPUT=$(abspath $(OUTPUT)) go test -count=1 -tags xpkg ./cluster/package/... ./cluster/image/imagebuild/...

.PHONY: install-test
install-test: build xpkg ## Install the .xpkg on a local Crossplane from a loopback registry (own ports); always tears down.
	VERSION=$(VERSION) OUTPUT=$(abspath $(OUTPUT)) cluster/package/install-test.sh

.PHONY: gitops-test
gitops-test: build xpkg ## Apply examples/gitops in Flux's order on a local Crossplane whose package runtime the script fakes (not in `make test`: node-test runs the layout with Crossplane's own runtime); GITOPS_FUNCTIONS=dependencies lets Crossplane install the functions; always tears down.
	VERSION=$(VERSION) OUTPUT=$(abspath $(OUTPUT)) cluster/package/gitops-test.sh

.PHONY: bench
bench: ## Benchmarks (API calls and time per reconcile).
	go test -run '^$$' -bench . -benchmem ./...

.PHONY: clean
clean: ## Remove build output.
	rm -rf $(OUTPUT)
