#!/usr/bin/env bash
# Builds and runs every test; CI runs exactly this (.ci/run). Three builds:
#  1. ci (g++ -O2, line tables only, unity build, no benchmarks): the whole
#     suite, the tests that wait on sockets at -j4, then the tests labelled
#     `wallclock` (wall-clock bounds or a loaded machine: partition, demo,
#     elect, leadership bounds, soak, compat) one at a time.
#  2. ci-sanitize (clang ASan+UBSan, the fuzz preset's flags): the suite
#     again except `wallclock` (their bounds would measure the sanitizer; the
#     code they drive runs under ASan in the integration tests) and `install`
#     (packaging, nothing to check); then each libFuzzer harness for a short
#     bounded run (scripts/fuzz.sh; longer runs: scripts/fuzz.sh 1200).
#  3. ci-tsan (clang ThreadSanitizer): the concurrency tests - client, pool,
#     credentials, watcher, elector, server streams, recovery.
# `scripts/test.sh ci|sanitize|tsan` runs one of the three.
# Installs missing Debian packages first (needs root or sudo).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
steps=("$@")
[ ${#steps[@]} -gt 0 ] || steps=(ci sanitize tsan)

# ThreadSanitizer: the executables these tests live in, and the tests.
tsan_targets=(client_tests recovery_tests pool_tests kube_watch_tests kube_watch_restart_tests lease_tests server_tests)
tsan_tests='^(Client|Credentials|RetryAfter|BodyIdle|Recovery|PoolTest|Watcher|WatchAcrossRestarts|LeaderElection|StreamingTest|ResponseStream|H2Multiplexing|H1Threads)\.'

configure() {
  [ -f "build/$1/build.ninja" ] || cmake --preset "$1" > /dev/null
}
# timed LABEL COMMAND...: runs it and prints its wall time (CI's step table).
timed() {
  local label=$1 start=$SECONDS
  shift
  "$@"
  echo "== $label: $((SECONDS - start)) s"
}
for step in "${steps[@]}"; do
  case $step in
    ci)
      echo "== ci: build"
      timed "ci: configure" configure ci
      timed "ci: build" cmake --build --preset ci
      echo "== ci: test (-j4, then the wallclock tests one at a time)"
      timed "ci: test" ctest --preset ci -LE wallclock -j4
      timed "ci: wallclock tests" ctest --preset ci -L wallclock -j1
      ;;
    sanitize)
      echo "== ci-sanitize: build (clang ASan+UBSan, tests and fuzzers)"
      timed "ci-sanitize: configure" configure ci-sanitize
      timed "ci-sanitize: build" cmake --build --preset ci-sanitize
      echo "== ci-sanitize: test"
      timed "ci-sanitize: test" ctest --preset ci-sanitize -LE 'wallclock|install' -j4
      echo "== fuzz"
      timed "fuzz" env FUZZ_PRESET=ci-sanitize scripts/fuzz.sh 15
      ;;
    tsan)
      echo "== ci-tsan: build (the concurrency tests' executables)"
      timed "ci-tsan: configure" configure ci-tsan
      timed "ci-tsan: build" cmake --build --preset ci-tsan --target "${tsan_targets[@]}"
      echo "== ci-tsan: test"
      timed "ci-tsan: test" ctest --preset ci-tsan -R "$tsan_tests" -j2
      ;;
    *) echo "usage: scripts/test.sh [ci|sanitize|tsan]..." >&2; exit 2 ;;
  esac
done
