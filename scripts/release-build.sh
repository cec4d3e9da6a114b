#!/usr/bin/env bash
# The release build every script serves: wasm split into lazily loaded groups of pages
# (`--split`), brotli and gzip copies of each asset (`-P`), content-hashed names
# (`hash-files` in Cargo.toml). wasm-opt comes from end2end/node_modules (npm binaryen).
#
# With nothing changed since the last successful build it does nothing: cargo-leptos
# always regenerates the wasm (bindgen, wasm-opt, splitting, compression) on its first
# build in a process, which is minutes. "Changed" is a digest of everything the build
# reads (sources, styles, assets, migrations, manifests, flags and tool versions); set
# KEYWARD_FORCE_BUILD=1 to build anyway. Files of earlier builds (other hashes) are
# removed only after a build succeeds, so a failed build leaves the last one servable.
set -euo pipefail
cd "$(dirname "$0")/.."
export RUSTFLAGS="${RUSTFLAGS:---cfg erase_components}" LEPTOS_OUTPUT_NAME=keyward
export PATH="$PWD/end2end/node_modules/.bin:$HOME/.cargo/bin:$PATH"
PKG=target/site/pkg
HASHES=target/release/hash.txt
STAMP=target/release/keyward.build-inputs

inputs_digest() {
  {
    echo "RUSTFLAGS=$RUSTFLAGS args=$*"
    rustc -V
    cargo leptos --version
    wasm-bindgen --version
    wasm-opt --version 2>/dev/null || true
    find src style public migrations Cargo.toml Cargo.lock build.rs scripts/release-build.sh \
      -type f -print0 2>/dev/null | sort -z | xargs -0 sha256sum
  } | sha256sum | cut -d' ' -f1
}

# The last build's outputs are all there: the server, its hash file and every file it names.
outputs_present() {
  [ -x target/release/keyward ] && [ -f "$HASHES" ] || return 1
  local kind hash
  while IFS=': ' read -r kind hash; do
    case "$kind" in
      js) [ -f "$PKG/keyward.$hash.js" ] || return 1 ;;
      wasm) [ -f "$PKG/keyward.$hash.wasm" ] || return 1 ;;
      css) [ -f "$PKG/keyward.$hash.css" ] || return 1 ;;
      split) [ -f "$PKG/__wasm_split.$hash.js" ] || return 1 ;;
      manifest) [ -f "$PKG/__wasm_split_manifest.$hash.json" ] || return 1 ;;
    esac
  done < "$HASHES"
}

digest=$(inputs_digest "$@")
if [ -z "${KEYWARD_FORCE_BUILD:-}" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$digest" ] && outputs_present; then
  echo "release build: nothing changed since the last build ($digest); reusing target/release and $PKG"
  exit 0
fi

started=$(mktemp)
trap 'rm -f "$started"' EXIT
rm -f "$STAMP"
cargo leptos build --release --split --precompress "$@"

# The files this build's pages refer to: the hashed names in the hash file, and the split
# modules and chunks its manifest lists. Anything else older than this build is stale.
live=$(mktemp)
{
  while IFS=': ' read -r kind hash; do
    case "$kind" in
      js) echo "keyward.$hash.js" ;;
      wasm) echo "keyward.$hash.wasm" ;;
      css) echo "keyward.$hash.css" ;;
      split) echo "__wasm_split.$hash.js" ;;
      manifest)
        echo "__wasm_split_manifest.$hash.json"
        grep -o '"[A-Za-z0-9_.-]*"' "$PKG/__wasm_split_manifest.$hash.json" | tr -d '"' | sed 's/$/.wasm/'
        ;;
    esac
  done < "$HASHES"
} | sort -u > "$live"
find "$PKG" -maxdepth 1 -type f ! -newer "$started" -print0 |
  while IFS= read -r -d '' file; do
    name=$(basename "$file")
    name=${name%.br}
    name=${name%.gz}
    grep -qxF "$name" "$live" || rm -f "$file"
  done
rm -f "$live"
echo "$digest" > "$STAMP"
