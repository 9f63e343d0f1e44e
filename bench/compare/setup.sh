#!/usr/bin/env bash
# Installs what the side-by-side comparison (bench/compare/run.sh) needs from
# Debian on top of the project's own packages: the h2o server, h2load, curl,
# Go (for bench/compare/goclient), and the tools the harness runs clients
# under. CI does not run this: Go is only for benchmarks.
set -euo pipefail
exec "$(dirname "$0")/../../scripts/setup.sh" h2o nghttp2-client curl golang-go openssl util-linux time ca-certificates
