#!/usr/bin/env bash
# The release build every script serves: wasm split into lazily loaded chunks per page
# (`--split`), brotli and gzip copies of each asset (`-P`), content-hashed names
# (`hash-files` in Cargo.toml). wasm-opt comes from end2end/node_modules (npm binaryen).
set -euo pipefail
cd "$(dirname "$0")/.."
export RUSTFLAGS="${RUSTFLAGS:---cfg erase_components}" LEPTOS_OUTPUT_NAME=keyward
export PATH="$PWD/end2end/node_modules/.bin:$HOME/.cargo/bin:$PATH"
# Files of earlier builds (other hashes) would otherwise pile up in target/site/pkg.
rm -rf target/site/pkg
exec cargo leptos build --release --split --precompress "$@"
