#!/usr/bin/env bash
# Builds the libFuzzer harnesses in tests/fuzz (clang, ASan+UBSan, the
# `fuzz` preset in build/fuzz) and runs each for SECONDS (default 30) on a
# scratch copy of its seed corpus, with its dictionary. Inputs under
# tests/fuzz/regressions/<harness>/ are replayed first. Exits non-zero when
# any harness crashes, leaks, times out or breaks an invariant; the input
# that did it is kept in build/fuzz/findings/<harness>/. Prints exec/s and
# coverage per harness at the end.
#   scripts/fuzz.sh [SECONDS] [HARNESS[:SECONDS]...]
# A harness named with :SECONDS runs that long instead (CI gives the
# harnesses that saturate in seconds less, the connection ones more).
# FUZZ_JOBS sets the build's parallelism (default 2); FUZZ_PRESET the CMake
# preset (default fuzz; CI's ci-sanitize has the same flags and also runs the
# test suite).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
shift || true
harnesses=("$@")
[ ${#harnesses[@]} -gt 0 ] || harnesses=(h1_fuzz h2_fuzz url_fuzz headers_fuzz lease_fuzz retry_after_fuzz watch_event_fuzz pool_fuzz
                                         kubeconfig_fuzz exec_credential_fuzz)
declare -A seconds_of=()
for i in "${!harnesses[@]}"; do
  h=${harnesses[$i]}
  if [[ $h == *:* ]]; then
    harnesses[$i]=${h%%:*}
    seconds_of[${h%%:*}]=${h#*:}
  fi
done

scripts/setup.sh
preset=${FUZZ_PRESET:-fuzz}
build=build/$preset
[ -f "$build/build.ninja" ] || cmake --preset "$preset" > /dev/null
cmake --build "$build" -j "${FUZZ_JOBS:-2}" --target "${harnesses[@]}"

dict_of() {
  case $1 in
    h1_fuzz) echo tests/fuzz/h1.dict ;;
    h2_fuzz) echo tests/fuzz/h2.dict ;;
    lease_fuzz) echo tests/fuzz/lease.dict ;;
  esac
}

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
status=0
summary=()
for h in "${harnesses[@]}"; do
  bin=$build/tests/fuzz/$h
  run=$build/run/$h
  findings=$build/findings/$h
  rm -rf "$run"
  mkdir -p "$run/corpus" "$findings"
  cp tests/fuzz/corpus/"$h"/* "$run/corpus/"
  if compgen -G "tests/fuzz/regressions/$h/*" > /dev/null; then
    echo "== $h: replaying regressions"
    if ! "$bin" -runs=1 tests/fuzz/regressions/"$h"/* > "$run/regressions.log" 2>&1; then
      tail -40 "$run/regressions.log"
      echo "== $h: a regression input fails (log: $run/regressions.log)"
      status=1
      summary+=("$h: REGRESSION FAILS")
      continue
    fi
  fi
  time=${seconds_of[$h]:-$seconds}
  echo "== $h: fuzzing for $time s"
  dict=$(dict_of "$h")
  args=(-max_total_time="$time" -timeout=10 -rss_limit_mb=2048 -max_len=16384 -print_final_stats=1
        -artifact_prefix="$findings/")
  [ -n "$dict" ] && args+=(-dict="$dict")
  if "$bin" "${args[@]}" "$run/corpus" > "$run/fuzz.log" 2>&1; then
    result=ok
  else
    result=FAILED
    status=1
    tail -60 "$run/fuzz.log"
  fi
  # libFuzzer's last status line: "#N DONE cov: E ft: F corp: ... exec/s: X ..."
  last=$(grep -E '^#[0-9]+' "$run/fuzz.log" | tail -1)
  cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$last")
  execs=$(sed -nE 's/^#([0-9]+).*/\1/p' <<<"$last")
  rate=$(sed -nE 's/.*exec\/s: ([0-9]+).*/\1/p' <<<"$last")
  summary+=("$h: $result, ${execs:-?} runs, ${rate:-?} exec/s, ${cov:-?} edges (log: $run/fuzz.log)")
done
echo "== summary"
printf '%s\n' "${summary[@]}"
exit $status
