# Strom: `make run` starts a single-node cluster, `make test` runs every test.
SHELL := /bin/bash
GO ?= $(shell command -v go 2>/dev/null || echo /usr/local/go/bin/go)
export PATH := $(dir $(GO)):$(PATH)
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
BINARIES := strom stromd strom-agent
DATA_DIR ?= /var/lib/strom

# Packages cheap enough to run under the race detector on every `make test`.
RACE_PKGS := ./events/... ./projections/... ./reconcilers/... ./dns/... ./cmd/strom/printers/...

.PHONY: all build deps images tools test test-unit test-race vet fmt-check run bench clean generate

all: build

build:
	@mkdir -p bin
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/ $(addprefix ./cmd/,$(BINARIES))

# System packages the tests and the node agent need (apt, as root).
deps:
	scripts/install-deps.sh

# OCI archives of the test images (busybox, httpserver, pause), built
# locally from Debian's busybox-static and static Go programs.
images:
	@if [ -x scripts/build-test-images.sh ]; then scripts/build-test-images.sh; fi

# Real kubectl and helm for the end-to-end tests, built from the Go module
# proxy into test/tools/bin/ (see test/tools/README.md); cached after the
# first build, rebuilt only when their modules change.
tools:
	GO=$(GO) scripts/build-test-tools.sh

# OpenAPI definitions of the Kubernetes API types (cmd/stromd/kubeapi/openapi),
# from the k8s.io/api and k8s.io/apimachinery versions in go.mod with the
# openapi-gen of the go.mod tool directive. Packages openapi-gen has nothing
# to generate for (no +k8s:openapi-gen=true, e.g. k8s.io/api/admission/...)
# are skipped by it. API rule violations of the upstream types go to
# violations.report instead of failing the run. Deterministic: a second run
# rewrites the same bytes.
OPENAPI_DIR := cmd/stromd/kubeapi/openapi
OPENAPI_INPUTS := k8s.io/api/... \
	k8s.io/apimachinery/pkg/apis/meta/v1 \
	k8s.io/apimachinery/pkg/apis/meta/v1beta1 \
	k8s.io/apimachinery/pkg/runtime \
	k8s.io/apimachinery/pkg/util/intstr \
	k8s.io/apimachinery/pkg/api/resource \
	k8s.io/apimachinery/pkg/version \
	k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1 \
	k8s.io/kube-aggregator/pkg/apis/apiregistration/v1

generate:
	$(GO) tool openapi-gen \
		--output-dir $(OPENAPI_DIR) \
		--output-pkg github.com/strom-project/strom/$(OPENAPI_DIR) \
		--output-file zz_generated.openapi.go \
		--report-filename $(OPENAPI_DIR)/violations.report \
		$(OPENAPI_INPUTS)

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

test: deps build images tools fmt-check vet test-unit test-race

test-unit:
	$(GO) test -count=1 -timeout 30m ./...

test-race:
	$(GO) test -count=1 -race -timeout 20m $(RACE_PKGS)

run: deps build images
	scripts/run.sh "$(DATA_DIR)"

bench: build
	scripts/bench.sh

clean:
	rm -rf bin
