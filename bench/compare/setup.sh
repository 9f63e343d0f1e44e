#!/usr/bin/env bash
# Installs what the side-by-side comparison (bench/compare/run.sh) needs from
# Debian: the h2o server, h2load, curl, Go (for bench/compare/goclient), and
# the tools the harness runs clients under. Idempotent; run as root (or it
# uses sudo when available). CI does not run this: Go is only for benchmarks.
set -euo pipefail

packages=(h2o nghttp2-client curl golang-go openssl util-linux time ca-certificates)

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "bench setup: all packages present"
  exit 0
fi
echo "bench setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
as_root apt-get update -q
as_root apt-get install -y -q --no-install-recommends "${missing[@]}"
