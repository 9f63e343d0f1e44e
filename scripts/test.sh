#!/usr/bin/env bash
# Builds and runs every test: the optimised build, then the whole suite
# again under AddressSanitizer + UndefinedBehaviorSanitizer, then each
# libFuzzer harness for a short bounded run (scripts/fuzz.sh; longer runs:
# scripts/fuzz.sh 1200).
# `scripts/test.sh tsan` instead runs the concurrency and fault tests under
# ThreadSanitizer (kept out of CI for time: about 10 more minutes).
# Installs missing Debian packages first (needs root or sudo).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
if [ "${1:-}" = tsan ]; then
  [ -f build/tsan/build.ninja ] || cmake --preset tsan > /dev/null
  cmake --build build/tsan --target client_tests pool_tests recovery_tests lease_tests proxy_tests rebound_cli -j2
  ctest --test-dir build/tsan -R 'Client|Pool|Recovery|Election|Proxy' -j2 --output-on-failure --timeout 300
  exit
fi
for preset in default asan; do
  echo "== $preset: build"
  scripts/build.sh "$preset"
  echo "== $preset: test"
  ctest --preset "$preset"
done
echo "== fuzz"
scripts/fuzz.sh 15
