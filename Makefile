# Keyward: `make run` serves the app; `make test` runs every test. Both install what is missing.
SHELL := /bin/bash
.ONESHELL:
.SHELLFLAGS := -eu -o pipefail -c

CARGO_LEPTOS_VERSION := 0.3.10
WASM_BINDGEN_VERSION := 0.2.130
export PATH := $(CURDIR)/end2end/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)
# The flag cargo-leptos builds the server with; `cargo test` uses it too so they share artifacts.
export RUSTFLAGS := --cfg erase_components
# Leptos reads this at compile time to name the wasm file. cargo-leptos sets it; plain
# `cargo test` must too, or it rebuilds leptos and overwrites the server binary with one
# that asks for `keyward_bg.wasm`, and the page never hydrates.
export LEPTOS_OUTPUT_NAME := keyward

.PHONY: run test fuzz bench bench-web tools browser node-modules check fmt clippy

## Build the release app and serve it on http://127.0.0.1:3000 (embedded SQLite by default).
## For development, emails (with their links) are written to the log: no mail server needed.
run: tools node-modules
	./scripts/release-build.sh
	KEYWARD_MAIL_LOG_BODIES=$${KEYWARD_MAIL_LOG_BODIES:-1} LEPTOS_SITE_ROOT=target/site LEPTOS_OUTPUT_NAME=keyward LEPTOS_ENV=PROD ./target/release/keyward

## Rust tests (SQLite, and Postgres when TEST_POSTGRES_URL is set) and Playwright tests in Chromium.
test: tools browser node-modules
	./scripts/test.sh

## The property tests and the request fuzzer at length (minutes; `make test` runs them small).
fuzz:
	KEYWARD_PROPERTY_CASES=1000000 KEYWARD_FUZZ_CASES=100000 cargo test --no-default-features --features ssr -- any_string_is_answered_without_a_panic every_json_body_is_answered_without_a_panic random_json_bodies_never_cause_a_500

## Load benchmark of key verification (see BENCHMARKS.md).
bench: tools node-modules
	./scripts/bench.sh

## First-load benchmark in Chromium: bytes per asset, median time to hydration (see BENCHMARKS.md).
bench-web: tools browser node-modules
	./scripts/bench-web.sh

tools:
	if ! rustup target list --installed | grep -q wasm32-unknown-unknown; then rustup target add wasm32-unknown-unknown; fi
	if ! cargo leptos --version 2>/dev/null | grep -q "$(CARGO_LEPTOS_VERSION)"; then cargo install cargo-leptos@$(CARGO_LEPTOS_VERSION) --locked; fi
	# Without --locked: its lock file names a webpki-roots version the registry lacks.
	if ! wasm-bindgen --version 2>/dev/null | grep -q "$(WASM_BINDGEN_VERSION)"; then cargo install wasm-bindgen-cli@$(WASM_BINDGEN_VERSION); fi

# wasm-opt for release builds comes from npm's binaryen (Debian's breaks hydration).
node-modules:
	if [ ! -x end2end/node_modules/.bin/wasm-opt ] || [ ! -x end2end/node_modules/.bin/maildev ] || [ ! -x end2end/node_modules/.bin/configurable-http-proxy ] || [ ! -d end2end/node_modules/@playwright/test ] || [ ! -d end2end/node_modules/@axe-core/playwright ]; then (cd end2end && npm ci --no-audit --no-fund); fi

browser:
	if [ ! -x /usr/bin/chromium ]; then apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; fi

check:
	cargo check --no-default-features --features ssr
	cargo check --no-default-features --features hydrate --target wasm32-unknown-unknown

fmt:
	cargo fmt --all

clippy:
	cargo clippy --all-features -- -D warnings
