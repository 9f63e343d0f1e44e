#!/usr/bin/env bash
# Configures (once) and builds one CMake preset: scripts/build.sh [default|asan|tsan]
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${1:-default}
if [ ! -f "build/$preset/build.ninja" ]; then
  cmake --preset "$preset" > /dev/null
fi
cmake --build --preset "$preset"
