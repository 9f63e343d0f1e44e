#!/usr/bin/env bash
# Builds and runs every test: the optimised build, then the whole suite
# again under AddressSanitizer + UndefinedBehaviorSanitizer.
# Installs missing Debian packages first (needs root or sudo).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
for preset in default asan; do
  echo "== $preset: build"
  scripts/build.sh "$preset"
  echo "== $preset: test"
  ctest --preset "$preset"
done
