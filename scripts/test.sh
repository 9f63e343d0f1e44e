#!/usr/bin/env bash
# Builds and runs every test; CI runs exactly this (.ci/run). Three builds:
#  ci (g++ -O2, line tables only, unity build, no benchmarks): the whole
#    suite - the tests labelled `wallclock` (wall-clock bounds or a loaded
#    machine: partition, demo, elect, leadership bounds, soak, compat) two at
#    a time, a core each (the soak and the partition alone: RUN_SERIAL), with
#    nothing else but an idle-priority build beside; the rest (they wait on
#    sockets) at -j4.
#  ci-sanitize (clang ASan+UBSan with the fuzz preset's instrumentation): the
#    suite again except `wallclock` (their bounds would measure the sanitizer;
#    the code they drive runs under ASan in the integration tests) and
#    `install` (packaging); then each libFuzzer harness for a bounded time
#    (scripts/fuzz.sh; longer runs: scripts/fuzz.sh 1200).
#  ci-tsan (clang ThreadSanitizer): the concurrency tests - client,
#    credentials, pool, watcher, elector, server streams, recovery.
# In a full run a build goes beside the tests of the build before it, at idle
# CPU priority (SCHED_IDLE: it takes only the CPU the tests leave, so the
# tests' own timing is as if alone): the sanitizer build beside the ci
# tests (the wallclock ones mostly wait on timers), the TSan build beside
# the sanitizer tests and the fuzzers (one core). The TSan tests run alone.
# A step beside prints its output when it is joined (logs in build/ci-logs).
# `scripts/test.sh ci|sanitize|tsan` runs one build's part, one step at a time.
# Installs missing Debian packages first (needs root or sudo).
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${1:-}" = step ] || scripts/setup.sh  # a step beside runs after the set-up

# ThreadSanitizer: the executables these tests live in, and the tests
# (parameterised suites carry a prefix: Transports/StreamingTest.X/1).
tsan_targets=(client_tests recovery_tests pool_tests kube_watch_tests kube_watch_restart_tests kube_watch_lease_tests election_tests server_tests)
tsan_tests='^([A-Za-z]+/)?(Client[A-Za-z0-9]*|Credentials|RetryAfter|BodyIdle|Recovery|PoolTest|Watcher|WatcherHardCases|WatcherOnLeaseServer|WatchAcrossRestarts|LeaderElection|ElectorCallbacks|StreamingTest|ResponseStream|H2Multiplexing|H1Threads)\.'

build() {
  [ -f "build/$1/build.ninja" ] || cmake --preset "$1" > /dev/null
  cmake --build --preset "$1" "${@:2}"
}
ci_build() { build ci; }
ci_wallclock_tests() {
  local status=0
  ctest --preset ci -L wallclock -j2 || status=$?
  # The soak's fresh seed of this run, and the banner when it broke an
  # invariant (saved in tests/cli/soak_seeds_found.txt; it fails nothing).
  grep -hE 'fresh soak seed|ADD THIS SEED' build/ci/Testing/Temporary/LastTest.log 2> /dev/null || true
  return $status
}
ci_tests() { ctest --preset ci -LE wallclock -j4; }
sanitize_build() { build ci-sanitize; }
sanitize_tests() { ctest --preset ci-sanitize -LE 'wallclock|install' -j4; }
# 81 s in all, a smoke run on the seed corpora (longer: scripts/fuzz.sh
# 1200): the URL, headers, Lease and kubeconfig/exec JSON harnesses
# saturate within seconds; the connection harnesses get the time saved.
fuzz() {
  FUZZ_PRESET=ci-sanitize scripts/fuzz.sh 10 h1_fuzz:18 h2_fuzz:18 url_fuzz:3 headers_fuzz:3 lease_fuzz:3 \
    retry_after_fuzz watch_event_fuzz pool_fuzz kubeconfig_fuzz:3 exec_credential_fuzz:3
}
# The tests' peer processes (`rebound serve`) are the optimised build's
# binary when there is one: TSan in another process checks nothing here.
tsan_build() {
  local peer=
  [ -x build/ci/rebound ] && peer=$PWD/build/ci/rebound
  cmake --preset ci-tsan -DREBOUND_TEST_PEER_CLI="$peer" > /dev/null
  cmake --build --preset ci-tsan --target "${tsan_targets[@]}"
}
tsan_tests() { ctest --preset ci-tsan -R "$tsan_tests" -j2; }

# timed STEP: runs the function and prints its wall time (CI's step table).
timed() {
  local start=$SECONDS
  echo "== $1"
  "$1"
  echo "== $1: done in $((SECONDS - start)) s"
}
# idle_beside STEP: starts it in the background at idle CPU priority, its
# output to build/ci-logs; joined STEP: waits for it, prints its output,
# fails when it failed.
declare -A pids=()
idle_beside() {
  mkdir -p build/ci-logs
  echo "== $1: started at idle priority beside the next steps (build/ci-logs/$1.log)"
  # chrt is util-linux's; nice 19 where SCHED_IDLE is refused.
  local idle=(chrt --idle 0)
  "${idle[@]}" true 2> /dev/null || idle=(nice -n 19)
  "${idle[@]}" "$0" "step" "$1" > "build/ci-logs/$1.log" 2>&1 &
  pids[$1]=$!
}
joined() {
  local status=0
  wait "${pids[$1]}" || status=$?
  cat "build/ci-logs/$1.log"
  unset "pids[$1]"
  return $status
}
trap '[ ${#pids[@]} -eq 0 ] || kill "${pids[@]}" 2> /dev/null' EXIT

start=$SECONDS
case ${1:-all} in
  all)
    timed ci_build
    idle_beside sanitize_build
    timed ci_wallclock_tests
    timed ci_tests
    joined sanitize_build
    idle_beside tsan_build
    timed sanitize_tests
    timed fuzz
    joined tsan_build
    timed tsan_tests
    ;;
  step) timed "$2"; exit ;;  # one step, for idle_beside
  ci) timed ci_build; timed ci_wallclock_tests; timed ci_tests ;;
  sanitize) timed sanitize_build; timed sanitize_tests; timed fuzz ;;
  tsan) timed tsan_build; timed tsan_tests ;;
  *) echo "usage: scripts/test.sh [ci|sanitize|tsan]" >&2; exit 2 ;;
esac
echo "== all steps passed in $((SECONDS - start)) s"
