#!/usr/bin/env bash
# `make test`: build, Rust tests, Playwright tests, then a summary. Fails if any part failed.
set -uo pipefail
cd "$(dirname "$0")/.."
# Same build environment as cargo-leptos, so cargo test and cargo leptos share artifacts (see Makefile).
export RUSTFLAGS="${RUSTFLAGS:---cfg erase_components}" LEPTOS_OUTPUT_NAME=keyward
LOGS=target/test-logs
mkdir -p "$LOGS"
rm -f "$LOGS/notify-delay.txt"
status=0
# Seconds each phase took, printed with the summary.
phases=()
phase_start=$SECONDS
phase_done() {
  phases+=("$(printf '%-24s %4d s' "$1" $((SECONDS - phase_start)))")
  phase_start=$SECONDS
}

echo "==> release build (split wasm, precompressed, hashed names)"
# The browser tests run against exactly what `make run` serves.
./scripts/release-build.sh || exit 1
phase_done "release build"

echo "==> localstripe (the Stripe-compatible server card payments are tested against)"
# The venv also holds the test JupyterHub (below).
./scripts/python-env.sh || exit 1
LOCALSTRIPE_PORT="${LOCALSTRIPE_PORT:-8420}"
export TEST_LOCALSTRIPE_URL="http://127.0.0.1:$LOCALSTRIPE_PORT"
.venv/bin/localstripe --port "$LOCALSTRIPE_PORT" --from-scratch >"$LOGS/localstripe.log" 2>&1 &
localstripe_pid=$!
trap 'kill $localstripe_pid 2>/dev/null' EXIT
for _ in $(seq 1 50); do
  curl -fs "$TEST_LOCALSTRIPE_URL/js.stripe.com/v3/" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fs "$TEST_LOCALSTRIPE_URL/js.stripe.com/v3/" >/dev/null || { echo "localstripe did not start; see $LOGS/localstripe.log"; exit 1; }

echo "==> JupyterHub (the hub Lab servers are tested on)"
HUB_PORT="${TEST_HUB_PORT:-8430}"
export KEYWARD_HUB_TOKEN="test-hub-service-token-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export KEYWARD_HUB_CLIENT_SECRET="test-hub-client-secret-0123456789"
# Single sign-on goes through the Keyward the browser tests start.
export KEYWARD_HUB_KEYWARD_URL="http://127.0.0.1:${E2E_PORT:-3100}"
hub_pid=$(./scripts/test-hub.sh target/test-hub "$HUB_PORT") || exit 1
trap 'kill $localstripe_pid $hub_pid 2>/dev/null' EXIT
export TEST_JUPYTERHUB_URL="http://127.0.0.1:$HUB_PORT" TEST_JUPYTERHUB_API_TOKEN="$KEYWARD_HUB_TOKEN"
phase_done "localstripe, JupyterHub"

echo "==> Rust tests"
# Postgres variants are #[ignore]d so that, without a server, they count as skipped.
include_postgres=()
if [ -n "${TEST_POSTGRES_URL:-}" ]; then include_postgres=(--include-ignored); fi
cargo test --no-fail-fast --no-default-features --features ssr -- "${include_postgres[@]}" 2>&1 | tee "$LOGS/rust.log"
rust_status=${PIPESTATUS[0]}
phase_done "Rust (build and tests)"

echo "==> Playwright tests"
(cd end2end && npx playwright test) 2>&1 | tee "$LOGS/e2e.log"
e2e_status=${PIPESTATUS[0]}
phase_done "Playwright"

[ "$rust_status" -eq 0 ] || status=1
[ "$e2e_status" -eq 0 ] || status=1

echo
echo "==================== summary ===================="
awk '/^test result:/ { passed += $4; failed += $6; ignored += $8 }
     END { printf "Rust tests:   %d passed, %d failed, %d ignored\n", passed, failed, ignored }' "$LOGS/rust.log"
# Postgres variants: `<file>::postgres::<name>`, or `<file>::postgres_<name>`.
postgres_ran=$(grep -cE '^test ([a-z0-9_]+::)?postgres.* ok$' "$LOGS/rust.log" || true)
postgres_skipped=$(grep -cE '^test ([a-z0-9_]+::)?postgres.* ignored' "$LOGS/rust.log" || true)
if [ "$postgres_skipped" -gt 0 ]; then
  echo "Postgres:     $postgres_skipped skipped (set TEST_POSTGRES_URL to run them)"
else
  echo "Postgres:     $postgres_ran tests passed on Postgres"
fi
if [ -f "$LOGS/notify-delay.txt" ]; then sed 's/^/NOTIFY:       /' "$LOGS/notify-delay.txt"; fi
grep -E '^\s+[0-9]+ (passed|failed|flaky|skipped|did not run)' "$LOGS/e2e.log" | sed 's/^ */Playwright:   /'
echo "Screenshots:  end2end/screenshots/"
for phase in "${phases[@]}"; do echo "Time:         $phase"; done
echo "Time:         $(printf '%-24s %4d s' "in all" "$SECONDS")"
if [ "$status" -eq 0 ]; then echo "Result:       PASSED"; else echo "Result:       FAILED"; fi
exit "$status"
