#!/usr/bin/env bash
# rebound side by side with h2load, curl and Go's net/http against one h2o
# server: installs the peers (Debian packages), builds rebound's CLI and the
# Go client, runs every client pinned to CPU 0 (h2o on CPU 1) and writes
# bench/compare/results/latest.{json,md} and docs/PERFORMANCE.md.
#
#   bench/compare/run.sh            full run (3 repetitions, 10-15 minutes)
#   bench/compare/run.sh --quick    before and after a hot-path change (1 repetition,
#                                   2-3 minutes; writes results/quick.*, not the docs)
#
# rebound runs twice per cell: with its own I/O thread, and on the caller's
# executor (rebound bench --executor caller).
#
# Own options: --no-setup (skip apt), --no-build. Everything else goes to
# compare.py (--reps N, --cases SUBSTRING, --clients a,b, --cipher any...).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
setup=1 build=1 args=()
for a in "$@"; do
  case "$a" in
    --no-setup) setup=0 ;;
    --no-build) build=0 ;;
    *) args+=("$a") ;;
  esac
done

if [ "$setup" = 1 ]; then "$here/setup.sh"; fi

if [ "$build" = 1 ]; then
  cd "$root"
  cmake --preset default >/dev/null
  cmake --build build/default --target rebound_cli rebound_bench -j2
  gobuild="$root/build/bench-compare"
  mkdir -p "$gobuild"
  # Standard library only: nothing may be downloaded.
  (cd "$here/goclient" &&
    GOPATH="$gobuild/gopath" GOCACHE="$gobuild/gocache" GOMODCACHE="$gobuild/gopath/pkg/mod" \
      GOPROXY=off GOTOOLCHAIN=local GOFLAGS= GO111MODULE=on \
      go build -trimpath -o "$gobuild/goclient" .)
fi

exec python3 "$here/compare.py" --root "$root" ${args[@]+"${args[@]}"}
