#!/usr/bin/env bash
# The main job. Until `rebound demo` lands: builds if needed, starts the
# embedded server over TLS (h2) on a free loopback port, and fetches from it
# with `rebound get -v`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh > /dev/null
scripts/build.sh default > /dev/null
bin=build/default/rebound
coproc server { exec "$bin" serve --tls --port 0; }
trap 'kill $server_PID 2>/dev/null || true' EXIT
read -r url <&"${server[0]}"
echo "embedded server: $url"
"$bin" get -v -k "$url/bytes/100"
echo
