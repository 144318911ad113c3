# meshgate — the commands a newcomer needs. `make test` on a fresh machine is the only step:
# it installs Debian packages (deps), builds, runs the unit tests, then the e2e suite against a
# real control plane built from Go modules.
SHELL := /bin/bash
BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
MESHGATE_SANITIZE ?=
JOBS ?= $(shell nproc)
CLUSTER_DIR ?= .local/cluster
FUZZ_SECONDS ?= 60
OUT ?= $(BUILD_DIR)/images
# 1: the e2e cluster gets a real node (containerd, kubelet; root needed) and the node tests run.
MESHGATE_NODE ?= 0

.PHONY: help deps configure build unit e2e test fuzz fmt lint cluster-up cluster-down control-plane demo demo-down images clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

deps: ## Install every Debian package the project needs (idempotent)
	@bash scripts/deps.sh

$(BUILD_DIR)/build.ninja:
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) \
	  -DMESHGATE_SANITIZE=$(MESHGATE_SANITIZE)

configure: $(BUILD_DIR)/build.ninja

build: deps configure ## Build libraries, binaries (build/bin) and unit tests
	cmake -S . -B $(BUILD_DIR) -DMESHGATE_SANITIZE=$(MESHGATE_SANITIZE) >/dev/null
	cmake --build $(BUILD_DIR) -j $(JOBS)

unit: build ## Run the unit tests (ctest)
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS)

control-plane: ## Build kube-apiserver, etcd, kube-controller-manager, kubectl from Go modules (cached)
	@bash test/e2e/cluster/build.sh

e2e: build control-plane ## Bring a real control plane up, run the e2e suite, tear it down (MESHGATE_NODE=1: with a node)
	@if [ "$(MESHGATE_NODE)" = 1 ]; then bash scripts/images.sh $(BUILD_DIR) $(BUILD_DIR)/images >/dev/null; fi
	@MESHGATE_NODE=$(MESHGATE_NODE) MESHGATE_BUILD_DIR=$(BUILD_DIR) bash test/e2e/run.sh $(E2E)

test: deps build unit e2e ## Everything: deps, build, unit tests, e2e against a real control plane

images: build ## OCI archives of operator, webhook, proxy, init, pause in OUT (build/images); umoci, no daemon
	@bash scripts/images.sh $(BUILD_DIR) $(OUT) $(VERSION)

fuzz: deps ## Build the libFuzzer targets with clang (build-fuzz), run each for FUZZ_SECONDS (60)
	@FUZZ_SECONDS=$(FUZZ_SECONDS) JOBS=$(JOBS) bash scripts/fuzz.sh

cluster-up: control-plane ## Start a local control plane in $(CLUSTER_DIR) (MESHGATE_NODE=1: with a node)
	@if [ "$(MESHGATE_NODE)" = 1 ]; then $(MAKE) --no-print-directory images >/dev/null; fi
	@MESHGATE_NODE=$(MESHGATE_NODE) MESHGATE_NODE_IMAGES=$(abspath $(OUT)) bash test/e2e/cluster/up.sh $(CLUSTER_DIR)

cluster-down: ## Stop the local control plane in $(CLUSTER_DIR)
	@bash test/e2e/cluster/down.sh $(CLUSTER_DIR)

demo: ## Everything on this machine: control plane, operator, webhook, gateway, backends, traffic
	@BUILD_DIR=$(BUILD_DIR) bash scripts/demo.sh up

demo-down: ## Stop what make demo started
	@bash scripts/demo.sh down

fmt: ## Format all C++ sources with clang-format
	@git ls-files '*.h' '*.cc' | xargs -r clang-format -i

lint: configure ## clang-format check on all sources, clang-tidy on files changed since origin/main or HEAD~1
	@git ls-files '*.h' '*.cc' | xargs -r clang-format --dry-run --Werror
	@base=$$(git merge-base HEAD origin/main 2>/dev/null || git rev-parse HEAD~1 2>/dev/null || true); \
	  files=$$(git diff --name-only $$base -- '*.cc' 2>/dev/null); \
	  [ -z "$$files" ] || clang-tidy -p $(BUILD_DIR) --quiet $$files

clean: ## Remove build outputs
	rm -rf $(BUILD_DIR)
