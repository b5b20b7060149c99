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

.PHONY: all build deps images test test-unit test-race vet fmt-check run bench clean

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

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

test: deps build images fmt-check vet test-unit test-race

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
