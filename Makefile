# vigil — build, test, lint, bench, demo.
#
#   make demo    the whole system on the embedded defaults
#   make test    every test, SQLite and a throwaway PostgreSQL
#   make lint    gofmt, go vet, staticcheck (pinned in tools/go.mod)
#   make bench   Go benchmarks with allocations
#   make build   a static binary in bin/vigil
#   make release static binaries for linux/amd64 and linux/arm64 in dist/,
#                with SHA256SUMS (PLATFORMS="os/arch …" for others)

GO      ?= go
PKG     := github.com/vigil-validator/vigil
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
LDFLAGS := -s -w -X $(PKG)/internal/buildinfo.Version=$(VERSION) -X $(PKG)/internal/buildinfo.Commit=$(COMMIT)
SHELL   := /bin/bash

.PHONY: all build release test lint bench demo clean

all: lint test build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/vigil ./cmd/vigil

release:
	GO=$(GO) VERSION=$(VERSION) COMMIT=$(COMMIT) scripts/release.sh $(PLATFORMS)

# A short fuzz run of every decoder that faces peer input comes first; then
# scripts/test-deps.sh starts a throwaway PostgreSQL (and stops it after), so
# the store tests run on both engines; testreport prints the totals and the
# per-engine counts.
test:
	scripts/fuzz-smoke.sh
	scripts/test-deps.sh bash -c 'set -o pipefail; $(GO) test -race -count=1 -timeout 10m -json ./... | $(GO) run ./scripts/testreport'

bin/staticcheck: tools/go.mod tools/go.sum
	cd tools && $(GO) build -o ../bin/staticcheck honnef.co/go/tools/cmd/staticcheck

lint: bin/staticcheck
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	bin/staticcheck ./...

bench:
	scripts/test-deps.sh $(GO) test -run '^$$' -bench . -benchmem -count=1 ./...

# The demo runs a real Prometheus: prometheus-deps.sh finds it, or installs
# Debian's package when it is missing (saying so). DEMO_FLAGS go to
# 'vigil demo' (e.g. DEMO_FLAGS="--for 2m").
demo: build
	@bin="$$(VIGIL_INSTALL_DEPS=1 scripts/prometheus-deps.sh)" && VIGIL_PROMETHEUS_BIN="$$bin" bin/vigil demo $(DEMO_FLAGS)

clean:
	rm -rf bin dist
