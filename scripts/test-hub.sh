#!/usr/bin/env bash
# Starts the tests' JupyterHub on loopback and waits until its REST API answers:
#   scripts/test-hub.sh DIR PORT   (the hub's files in DIR; ports PORT to PORT+2)
# Needs the project's venv (scripts/python-env.sh) and end2end's configurable-http-proxy.
# Prints the hub's pid; the caller stops it with kill (the hub stops the proxy and the
# servers it started). KEYWARD_HUB_TOKEN and KEYWARD_HUB_CLIENT_SECRET must be set.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$1 port=$2
# A hub left by an interrupted run stops first (it would answer in this one's place).
if [ -f "$dir/jupyterhub.pid" ]; then
  old=$(cat "$dir/jupyterhub.pid")
  kill "$old" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$old" 2>/dev/null || break; sleep 0.2; done
fi
rm -rf "$dir" && mkdir -p "$dir"
export KEYWARD_HUB_DIR=$PWD/$dir KEYWARD_HUB_PORT=$port
export PATH="$PWD/.venv/bin:$PWD/end2end/node_modules/.bin:$PATH"
(cd "$dir" && exec jupyterhub -f "$OLDPWD/scripts/jupyterhub_config.py") >"$dir/hub.log" 2>&1 &
pid=$!
# The proxy answers 404 until the hub has registered with it: wait for a 200.
for _ in $(seq 1 150); do
  if curl -fs "http://127.0.0.1:$port/hub/api/" >/dev/null 2>&1; then
    echo "$pid"
    exit 0
  fi
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.2
done
echo "the test JupyterHub did not start; see $dir/hub.log" >&2
tail -20 "$dir/hub.log" >&2 || true
kill "$pid" 2>/dev/null || true
exit 1
