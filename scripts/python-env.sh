#!/usr/bin/env bash
# The project's Python tools, in a virtual environment at .venv (created on first use,
# reused after): localstripe, the Stripe-compatible server the tests pay against, and
# JupyterHub with oauthenticator and JupyterLab, the hub the Lab tests run servers on.
set -euo pipefail
cd "$(dirname "$0")/.."
PINS=(
  localstripe==1.15.10
  jupyterhub==6.1.1
  oauthenticator==17.4.0
  jupyterlab==4.6.6
)
installed() {
  local pin name version
  for pin in "${PINS[@]}"; do
    name=${pin%%==*} version=${pin##*==}
    .venv/bin/pip show "$name" 2>/dev/null | grep -q "^Version: $version$" || return 1
  done
}
if ! [ -x .venv/bin/python ] || ! installed; then
  [ -x .venv/bin/python ] || python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check "${PINS[@]}"
fi
