#!/usr/bin/env bash
# The project's Python tools, in a virtual environment at .venv (created on first use,
# reused after): localstripe, the Stripe-compatible server the tests pay against.
set -euo pipefail
cd "$(dirname "$0")/.."
LOCALSTRIPE_VERSION=1.15.10
if ! .venv/bin/localstripe --help >/dev/null 2>&1 ||
  ! .venv/bin/pip show localstripe 2>/dev/null | grep -q "^Version: $LOCALSTRIPE_VERSION$"; then
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check "localstripe==$LOCALSTRIPE_VERSION"
fi
