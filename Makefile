# shoal — the two entry points are `make demo` and `make test` (see README.md).
# Every target installs what it needs itself (idempotent, fast when already present).

CARGO ?= cargo
SHOAL := target/release/shoal
NOSTD_TARGET := thumbv7em-none-eabihf
WASM_TARGET := wasm32-unknown-unknown
# Must equal the wasm-bindgen crate version pinned in bindings-wasm/Cargo.toml.
WASM_BINDGEN_VERSION := 0.2.130
WASM_BINDGEN := .tools/bin/wasm-bindgen
WASM_OUT := target/$(WASM_TARGET)/release/shoal_wasm.wasm
OUT := out

VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip -q --disable-pip-version-check

.PHONY: demo analysis test setup-rust setup-python setup-node setup-wasm setup-browser wasm test-wasm test-browser python node lint test-rust test-python test-node loom nostd vectors-check bench bench-bus bench-cluster bench-route bench-python bench-node bench-wasm vectors ketama-vectors fuzz clean

## demo: the live cluster view: builds the WASM package and the `shoal` binary, then
## `shoal demo` runs agent processes on loopback with routed traffic over the bus and
## churn (kill -9, restart), serves the visualizer on 127.0.0.1 and prints its URL.
## Ctrl-C stops everything and removes the shared-memory segments.
DEMO_AGENTS ?= 5
DEMO_PORT ?= 0
demo: setup-rust wasm
	$(CARGO) build --release -p shoal-cli
	$(SHOAL) demo --agents $(DEMO_AGENTS) --port $(DEMO_PORT) --web bindings-wasm/www

## analysis: a 100-node ring's balance and movement, the source's partition figure
## (out/partitions.svg), and simulated gossip: 1000 members joining, a crash among 100
analysis: setup-rust
	$(CARGO) build --release -p shoal-cli
	@mkdir -p $(OUT)
	$(SHOAL) ring analyze --nodes 100 --vnodes 160 --keys 1000000
	$(SHOAL) partitions sweep --partitions 4096 --nodes 10 --vnodes 1..30 --trials 200 \
		--csv $(OUT)/partitions.csv --svg $(OUT)/partitions.svg
	@echo "partition figure written to $(OUT)/partitions.svg (data: $(OUT)/partitions.csv)"
	$(SHOAL) sim --nodes 1000 --scenario join
	$(SHOAL) sim --nodes 100 --scenario crash

## test: everything CI checks
test: setup-rust lint test-rust loom nostd vectors-check test-python test-node test-wasm test-browser

setup-rust:
	@rustup target list --installed | grep -qx $(NOSTD_TARGET) || rustup target add $(NOSTD_TARGET)
	@rustup target list --installed | grep -qx $(WASM_TARGET) || rustup target add $(WASM_TARGET)
	@rustup component list --installed | grep -q '^clippy' || rustup component add clippy
	@rustup component list --installed | grep -q '^rustfmt' || rustup component add rustfmt

## setup-python: the project venv (.venv) with the pinned build, test and bench tools
setup-python:
	@test -x $(PY) || python3 -m venv $(VENV)
	@$(PIP) install -r bindings-python/requirements-dev.txt

## setup-node: the Node package's pinned build and test tools, from the lock file.
## `npm install`, not `npm ci`: npm 11 leaves the other platforms' optional packages of
## @napi-rs/cli's dependencies out of the lock file and `npm ci` then refuses it;
## `npm install` installs exactly the locked versions without rewriting the file.
setup-node:
	@test bindings-node/node_modules/.ci-stamp -nt bindings-node/package-lock.json || \
		(cd bindings-node && npm install --no-audit --no-fund && touch node_modules/.ci-stamp)

## node: build the Node addon and its generated loader and types (bindings-node/)
node: setup-rust setup-node
	cd bindings-node && npm run build

## setup-wasm: the pinned wasm-bindgen CLI (and its test runner) in .tools/bin
setup-wasm: setup-rust
	@$(WASM_BINDGEN) --version 2>/dev/null | grep -qx "wasm-bindgen $(WASM_BINDGEN_VERSION)" || \
		$(CARGO) install --root .tools wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION)

## wasm: the WASM package: bindings-wasm/www/pkg (ES module for the page) and
## bindings-wasm/pkg-node (CommonJS, for the shared Node test files)
wasm: setup-wasm
	$(CARGO) build -p shoal-wasm --target $(WASM_TARGET) --release
	$(WASM_BINDGEN) --target web --out-dir bindings-wasm/www/pkg $(WASM_OUT)
	$(WASM_BINDGEN) --target nodejs --out-dir bindings-wasm/pkg-node $(WASM_OUT)

## test-wasm: wasm-bindgen tests under Node, the shared vector file against the WASM
## package, tsc on its declarations
test-wasm: wasm setup-node
	CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=$(CURDIR)/.tools/bin/wasm-bindgen-test-runner \
		$(CARGO) test -p shoal-wasm --target $(WASM_TARGET)
	cd bindings-node && SHOAL_TEST_WASM=1 node --test tests/vectors.test.js
	node --test bindings-wasm/tests/readme.test.cjs
	bindings-node/node_modules/.bin/tsc -p bindings-wasm

## setup-browser: Debian's chromium for the browser tests (playwright-core drives it;
## no browser download), and the e2e tests' npm packages from their lock file
setup-browser:
	@command -v chromium >/dev/null || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
	@test bindings-wasm/node_modules/.ci-stamp -nt bindings-wasm/package-lock.json || \
		(cd bindings-wasm && npm install --no-audit --no-fund && touch node_modules/.ci-stamp)

## test-browser: the visualizer end to end in headless chromium: vectors for every
## algorithm, add-node render time at 100 x 160, gossip view, live mode against a
## running `shoal demo` (screenshots in out/screenshots/)
test-browser: wasm setup-browser
	$(CARGO) build --release -p shoal-cli
	cd bindings-wasm && node --test tests/e2e/

## python: build and install the Python package the way users do
python: setup-rust setup-python
	$(PIP) install ./bindings-python

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) clippy -p shoal-wasm --target $(WASM_TARGET) --all-targets -- -D warnings
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --no-deps -p shoal-core

test-rust:
	$(CARGO) test --workspace

## test-python: pytest (vectors, API, bus between processes, nodes, the agents example),
## the type stubs against the compiled module (mypy stubtest), mypy --strict
test-python: python
	$(PY) -m pytest -q bindings-python/tests
	$(PY) -m mypy.stubtest shoal
	$(PY) -m mypy --strict bindings-python/python/shoal examples/python/agents

## test-node: node --test (vectors, API, bus between Node and Python processes, nodes),
## tsc on the declarations and the TypeScript example
test-node: node python
	cd bindings-node && node --test tests/
	cd bindings-node && node_modules/.bin/tsc -p . && node_modules/.bin/tsc -p ../examples/node

## bench-node: Node lookups vs npm hashring, and 64 B round trips between two Node
## processes (bus vs Unix socket vs child_process IPC); side by side, same run
bench-node: node
	node bindings-node/bench/lookups.js
	node bindings-node/bench/roundtrip.js

## bench-wasm: ring lookups in Node: the WASM package vs the native addon vs npm hashring
bench-wasm: wasm node
	node bindings-wasm/bench/lookups.cjs

## loom: model-check the pool's free lists and lanes under every interleaving (loom)
loom:
	RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom $(CARGO) test -q -p shoal-core --no-default-features --lib --release pool::

## nostd: the core builds for a bare-metal target (no std, only alloc)
nostd:
	$(CARGO) build -p shoal-core --no-default-features --target $(NOSTD_TARGET)
	$(CARGO) build -p shoal-core --no-default-features --features serde --target $(NOSTD_TARGET)

vectors-check:
	$(CARGO) run -q -p shoal-cli -- vectors check tests/vectors

## vectors: regenerate the shared vectors after an intended placement change
vectors:
	$(CARGO) run -q --release -p shoal-cli -- vectors write tests/vectors

## ketama-vectors: regenerate tests/vectors/ketama_uhashring.json with uhashring from PyPI
ketama-vectors:
	python3 -m venv .venv-ketama
	.venv-ketama/bin/pip install -q -r tests/vectors/requirements-ketama.txt
	.venv-ketama/bin/python tests/vectors/gen_ketama_uhashring.py

## bench: side-by-side lookup benchmark vs other crates (release build)
bench:
	$(CARGO) run --release -p shoal-cli -- bench ring

## bench-bus: the shared-memory bus vs a Unix socket between two pinned processes
bench-bus:
	$(CARGO) run --release -p shoal-cli -- bench bus

## bench-cluster: 50 `shoal agent` processes on loopback: full view, kill -9 detection
bench-cluster:
	$(CARGO) run --release -p shoal-cli -- bench cluster --agents 50 --kills 5

## bench-route: routed 4 KB messages between two network namespaces vs a plain TCP echo
## (needs root for the namespaces; falls back to loopback and says so)
bench-route:
	$(CARGO) run --release -p shoal-cli -- bench route --count 20000 --rounds 5

## bench-python: ring lookups vs uhashring; round trips between two Python processes
## over the bus vs multiprocessing.Pipe and pyzmq
bench-python: python
	$(PY) bindings-python/bench/lookups.py
	@test ! -f bindings-python/bench/roundtrip.py || $(PY) bindings-python/bench/roundtrip.py

## fuzz: run each fuzz target for FUZZ_TIME seconds (nightly + cargo-fuzz in .tools/)
FUZZ_TIME ?= 60
fuzz:
	@rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
	@test -x .tools/bin/cargo-fuzz || $(CARGO) install --root .tools cargo-fuzz
	for t in wire_open membership_packet bus_descriptor; do \
		PATH="$(CURDIR)/.tools/bin:$$PATH" cargo +nightly fuzz run $$t -- -max_total_time=$(FUZZ_TIME) || exit 1; \
	done; rm -f /dev/shm/shoal-fuzz-*

clean:
	$(CARGO) clean
	rm -rf $(OUT)
