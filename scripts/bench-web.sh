#!/usr/bin/env bash
# `make bench-web`: the release build served on loopback, loaded cold in Chromium.
# Prints, for every page, the files and bytes it takes and the median time to hydration
# on loopback and on an emulated fast-4G link, cold and with a warm cache. See BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${BENCH_WEB_PORT:-3300}
LOADS=${BENCH_WEB_LOADS:-5}
OUT=target/bench
mkdir -p "$OUT"

./scripts/release-build.sh
rm -f "$OUT"/web.db*
DATABASE_URL="sqlite://$OUT/web.db" KEYWARD_ADDR="127.0.0.1:$PORT" LEPTOS_SITE_ROOT=target/site \
  LEPTOS_OUTPUT_NAME=keyward LEPTOS_ENV=PROD RUST_LOG=warn KEYWARD_SIGN_UPS_PER_HOUR=10000 \
  ./target/release/keyward > "$OUT/web-server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -fs -o /dev/null "http://127.0.0.1:$PORT/sign-in" && break
  sleep 0.1
done

echo "==> sizes of the wasm files (bytes: raw, gzip, brotli)"
for wasm in target/site/pkg/*.wasm; do
  printf '%9d %9d %9d  %s\n' "$(stat -c %s "$wasm")" "$(stat -c %s "$wasm.gz")" "$(stat -c %s "$wasm.br")" "$(basename "$wasm")"
done | sort -rn | head -12
echo "    $(ls target/site/pkg/*.wasm | wc -l) wasm files in all"
echo "==> cold loads in Chromium"
(cd end2end && node bench/web-load.mjs "http://127.0.0.1:$PORT" "$LOADS" "sqlite://$OUT/web.db") | tee "$OUT/web.txt"
