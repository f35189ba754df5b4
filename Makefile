# wasinfer build. `make` (or `make help`) lists the targets.
#
# CI runs .ci/run, which runs `make test` on a fresh Debian 12 machine: every
# step below either passes or fails the build; none is skipped.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:
.SUFFIXES:
MAKEFLAGS += --no-print-directory

GO ?= go
# No VCS stamping: builds work in any checkout (a copy, a tarball, another
# user's clone) and do not depend on git state.
export GOFLAGS := $(strip $(filter-out -buildvcs=%,$(GOFLAGS)) -buildvcs=false)

# Directories with their own Makefile, each with the targets `udfs` (rebuild its
# committed .wasm files) and `check-tools` (fail naming the apt/npm package of a
# missing tool). `make udfs` and `make deps` run those in every one that exists;
# `make test`, `make check` and `make udfs-check` fail while any is missing.
SUBMAKE_DIRS := sdk/c sdk/rust sdk/go sdk/assemblyscript host/testdata/guests scheduler/testdata udfs vet/testdata examples/digits/udf reliability/testdata/guests internal/bench/testdata
# dir:target of each guest SDK's native (host) test, run by `make test-native`.
# sdk/go's `test` runs in `make test-go`, after the root module's tests.
NATIVE_TESTS := sdk/c:native-test sdk/rust:native-test sdk/assemblyscript:native-test
# Go modules besides the root one: vetted, linted and tidy-checked too, both
# for the host and for the guest platform (GOOS=wasip1 GOARCH=wasm).
GO_SUBMODULES := sdk/go udfs/json_extract

# golangci-lint v2, built from source as a Go module at this pinned version
# (first build ~1 min, then cached in GOCACHE/GOMODCACHE).
GOLANGCI_LINT_VERSION := v2.15.0
GOLANGCI_LINT := $(CURDIR)/.cache/tools/golangci-lint-$(GOLANGCI_LINT_VERSION)/golangci-lint

FUZZTIME ?= 10s
# make reliability: the time each fuzz target runs there.
RELIABILITY_FUZZTIME ?= 30s
BENCH ?= .
BENCH_OUT ?= .cache/bench/bench.txt
# Extra flags for `wasinfer bench` in `make bench` (e.g. --quick, --only KEY,
# --cpuprofile FILE).
BENCH_FLAGS ?=

# $(call in_subdirs,TARGET): run `make TARGET` in each SUBMAKE_DIRS entry that
# has a Makefile; name, on stderr, each one that has none.
define in_subdirs
for d in $(SUBMAKE_DIRS); do \
	if [ -f "$$d/Makefile" ]; then \
		$(MAKE) -C "$$d" $(1) || exit $$?; \
	else \
		echo "warning: $$d/Makefile is missing: '$(1)' not run there (make test fails until it exists)" >&2; \
	fi; \
done
endef

.PHONY: help
help: ## list the targets (default)
	@echo "usage: make TARGET   (CI runs: make test)"
	@awk 'BEGIN { FS = ":.*## " } /^[a-z][a-z0-9-]*:.*## / { printf "  %-16s %s\n", $$1, $$2 }' $(firstword $(MAKEFILE_LIST))

.PHONY: deps
deps: ## install what is missing (apt, npm) and prove each toolchain builds wasm
	bash scripts/deps.sh
	@$(call in_subdirs,check-tools)

.PHONY: build
build: ## CGO_ENABLED=0 go build ./... (everything but model stages builds without cgo), and bin/wasinfer (cgo: model stages)
	CGO_ENABLED=0 $(GO) build ./...
ifneq ($(wildcard cmd/wasinfer),)
	CGO_ENABLED=1 $(GO) build -trimpath -o bin/wasinfer ./cmd/wasinfer
endif

.PHONY: udfs
udfs: ## rebuild every committed .wasm (make udfs in each of SUBMAKE_DIRS)
	@$(call in_subdirs,udfs)

.PHONY: udfs-check
udfs-check: subdirs-present ## rebuild every .wasm and fail if that changes a committed one
	$(MAKE) udfs
	@git diff --exit-code --stat -- '*.wasm' || { \
		echo "committed .wasm differs from a rebuild: run make udfs and commit" >&2; \
		if command -v wasm-opt >/dev/null; then echo "note: $$(command -v wasm-opt) is on PATH, and clang runs it on every -O build: the committed C modules are built without binaryen's wasm-opt (remove it, or take it off PATH, to reproduce them)" >&2; fi; \
		exit 1; }
	@new=$$(git ls-files --others --exclude-standard -- '*.wasm'); [ -z "$$new" ] || { \
		echo "$$new" >&2; echo "these .wasm are built but not committed: git add them and commit" >&2; exit 1; }

.PHONY: subdirs-present
subdirs-present: ## fail unless every directory in SUBMAKE_DIRS has a Makefile
	@missing=; for d in $(SUBMAKE_DIRS); do [ -f "$$d/Makefile" ] || missing="$$missing $$d/Makefile"; done; \
	if [ -n "$$missing" ]; then \
		echo "error: missing sub-Makefiles:$$missing" >&2; \
		echo "  each directory in SUBMAKE_DIRS (Makefile) needs a Makefile with targets udfs and check-tools" >&2; \
		exit 1; \
	fi

.PHONY: vet
vet: ## go vet the root module and sdk/go (host and wasip1)
	$(GO) vet ./...
	@for m in $(GO_SUBMODULES); do \
		echo "cd $$m && $(GO) vet ./... && GOOS=wasip1 GOARCH=wasm $(GO) vet ./..."; \
		(cd "$$m" && $(GO) vet ./... && GOOS=wasip1 GOARCH=wasm $(GO) vet ./...) || exit $$?; \
	done

$(GOLANGCI_LINT):
	env -u GOOS -u GOARCH GOBIN=$(dir $@) $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)

.PHONY: lint
# The wasip1 pass runs without `unused`: it does not count //go:wasmexport
# functions as used, so it would flag every guest export and all they call.
# The host pass still runs it.
lint: $(GOLANGCI_LINT) ## golangci-lint (.golangci.yml) on the root module and sdk/go (host and wasip1)
	$(GOLANGCI_LINT) run ./...
	@for m in $(GO_SUBMODULES); do \
		echo "cd $$m && golangci-lint run ./... && GOOS=wasip1 GOARCH=wasm golangci-lint run --disable unused ./..."; \
		(cd "$$m" && $(GOLANGCI_LINT) run ./... && \
			GOOS=wasip1 GOARCH=wasm $(GOLANGCI_LINT) run --disable unused ./...) || exit $$?; \
	done

.PHONY: test
test: ## what CI runs: deps, udfs-check, vet, lint, test-native, test-go
	$(MAKE) subdirs-present
	$(MAKE) deps
	$(MAKE) udfs-check
	$(MAKE) vet
	$(MAKE) lint
	$(MAKE) test-native
	$(MAKE) test-go

.PHONY: test-native
test-native: subdirs-present ## the guest SDKs' own tests on the host (NATIVE_TESTS)
	@for t in $(NATIVE_TESTS); do \
		echo "$(MAKE) -C $${t%%:*} $${t#*:}"; \
		$(MAKE) -C "$${t%%:*}" "$${t#*:}" || exit $$?; \
	done

.PHONY: test-go
test-go: subdirs-present ## go test -race -shuffle=on the root module, then make -C sdk/go test
	CGO_ENABLED=1 $(GO) test -race -shuffle=on -count=1 ./...
	$(MAKE) -C sdk/go test

.PHONY: bench
bench: ## wasinfer bench: every ratio side by side in one run -> BENCHMARKS.md, .cache/bench/bench.json (BENCH_FLAGS)
	@mkdir -p .cache/bench
	CGO_ENABLED=1 $(GO) build -trimpath -o bin/wasinfer ./cmd/wasinfer
	bin/wasinfer bench --out BENCHMARKS.md --json .cache/bench/bench.json $(BENCH_FLAGS)

.PHONY: bench-go
bench-go: ## the packages' go test -bench suite (BENCH=regexp, default .); output also in BENCH_OUT
	@mkdir -p $(dir $(BENCH_OUT))
	$(GO) test -run '^$$' -bench '$(BENCH)' -benchmem ./... | tee $(BENCH_OUT)
	@echo "bench-go: results in $(BENCH_OUT)"

.PHONY: fuzz
fuzz: ## run every FuzzXxx (root module and sdk/go) for FUZZTIME (default 10s) each
	bash scripts/fuzz.sh $(FUZZTIME) . $(GO_SUBMODULES)

.PHONY: reliability
reliability: subdirs-present ## the full reliability suite (RELIABILITY.md): its tests in full, then every fuzz target for RELIABILITY_FUZZTIME (default 30s); figures in .cache/reliability/
	bash reliability/full.sh $(RELIABILITY_FUZZTIME) . $(GO_SUBMODULES)

.PHONY: demo
demo: ## set up, build, and run the demo (scripts/demo.sh)
	@[ -d cmd/wasinfer ] || { echo "make demo: cmd/wasinfer does not exist yet, so there is no demo to run" >&2; exit 1; }
	$(MAKE) deps
	$(MAKE) build
	bash scripts/demo.sh

.PHONY: check
.PHONY: generate
generate: ## go generate (the SDK copies embedded in the CLI for udf init)
	$(GO) generate ./cmd/wasinfer

check: ## fail on stale generated files, unformatted code, untidy go.mod, vet, lint, or a stale .wasm
	$(MAKE) generate
	@git diff --exit-code --stat -- cmd/wasinfer/templates || { \
		echo "make generate changed cmd/wasinfer/templates: commit the result" >&2; exit 1; }
	$(MAKE) fmt-check
	$(MAKE) tidy-check
	$(MAKE) vet
	$(MAKE) lint
	$(MAKE) udfs-check

.PHONY: fmt-check
fmt-check: ## fail if gofmt would change any Go file
	@files=$$(git ls-files --cached --others --exclude-standard -- '*.go'); \
	[ -n "$$files" ] || { echo "fmt-check: no Go files found" >&2; exit 1; }; \
	bad=$$(gofmt -l $$files); [ -z "$$bad" ] || { \
		echo "$$bad" >&2; echo "gofmt would change these files: run gofmt -w on them" >&2; exit 1; }

.PHONY: tidy-check
tidy-check: ## go mod tidy each module, fail if that changes go.mod or go.sum
	@for m in . $(GO_SUBMODULES); do \
		echo "cd $$m && $(GO) mod tidy"; \
		(cd "$$m" && $(GO) mod tidy) || exit $$?; \
		files="$$m/go.mod $$m/go.sum"; \
		if ! git diff --exit-code -- $$files || [ -n "$$(git status --porcelain -- $$files)" ]; then \
			echo "go mod tidy changed $$files: commit the result" >&2; exit 1; \
		fi; \
	done

.PHONY: clean
clean: ## remove bin/, the lint binary and benchmark output
	rm -rf bin .cache/tools .cache/bench
