#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ with clang (build-fuzz, -DMESHGATE_FUZZ=ON) and runs each
# for FUZZ_SECONDS against a scratch copy of its seed corpus fuzz/corpus/<target>/, so the
# checked-in corpus never grows by itself. Prints a table of target / runs / exec/s / result and
# exits non-zero when any target crashed, timed out, leaked or ran out of memory, naming the
# reproducer (build-fuzz/fuzz/artifacts/). `make fuzz` and .ci/run call it.
#   FUZZ_SECONDS=60     time per target
#   FUZZ_TARGETS="..."  a subset (names without _fuzzer); default: every fuzz/*_fuzzer.cc
#   FUZZ_BUILD_DIR      default build-fuzz;  JOBS: build parallelism (default: nproc)
# Reproduce a finding: build-fuzz/bin/fuzz/<target>_fuzzer <artifact>
set -euo pipefail
cd "$(dirname "$0")/.."

FUZZ_SECONDS=${FUZZ_SECONDS:-60}
BUILD_DIR=${FUZZ_BUILD_DIR:-build-fuzz}
JOBS=${JOBS:-$(nproc)}
CC=${FUZZ_CC:-clang-14}
CXX=${FUZZ_CXX:-clang++-14}

if [ -z "${FUZZ_TARGETS:-}" ]; then
  FUZZ_TARGETS=$(for f in fuzz/*_fuzzer.cc; do basename "$f" _fuzzer.cc; done)
fi

if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  CC=$CC CXX=$CXX cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DMESHGATE_FUZZ=ON -DMESHGATE_BUILD_TESTS=OFF >/dev/null
fi
cmake --build "$BUILD_DIR" --target meshgate_fuzzers -j "$JOBS"

work="$BUILD_DIR/fuzz"
rm -rf "$work/corpus" "$work/logs"
mkdir -p "$work/corpus" "$work/logs" "$work/artifacts"

dictionary_for() {
  case "$1" in
    http1_* | chunked_*) echo fuzz/dict/http.dict ;;
    *) echo fuzz/dict/json.dict ;;
  esac
}

failed=0
rows=()
for target in $FUZZ_TARGETS; do
  binary="$BUILD_DIR/bin/fuzz/${target}_fuzzer"
  corpus="$work/corpus/$target"
  log="$work/logs/$target.log"
  mkdir -p "$corpus"
  [ -d "fuzz/corpus/$target" ] && cp fuzz/corpus/"$target"/* "$corpus"/
  echo "fuzz: $target for ${FUZZ_SECONDS}s"
  # libFuzzer prints a heap profile before it stops on out-of-memory, which can take minutes on a
  # heap of millions of blocks: the outer timeout bounds that too.
  status=0
  timeout -s KILL $((FUZZ_SECONDS + 120)) "$binary" -max_total_time="$FUZZ_SECONDS" -timeout=10 \
    -rss_limit_mb=2048 -dict="$(dictionary_for "$target")" -print_final_stats=1 \
    -artifact_prefix="$work/artifacts/$target-" "$corpus" >"$log" 2>&1 || status=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  result=ok
  if [ $status -ne 0 ]; then
    failed=1
    artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
    kind=$(grep -o -m1 -E 'ERROR: libFuzzer: [a-z-]+|ERROR: AddressSanitizer: [a-z-]+|ERROR: LeakSanitizer|runtime error|invariant violated' "$log" || true)
    [ $status -eq 137 ] && kind="killed after $((FUZZ_SECONDS + 120))s"
    result="FAILED (${kind:-exit $status})"
    echo "fuzz: $target failed; log $log; reproducer: ${artifact:-none written}" >&2
    grep -m1 -B2 -A25 -E '^==[0-9]+==|invariant violated|runtime error' "$log" >&2 || tail -40 "$log" >&2
  fi
  rows+=("$(printf '%-24s %12s %10s  %s' "$target" "${runs:--}" "${speed:--}" "$result")")
done

printf '\n%-24s %12s %10s  %s\n' target runs exec/s result
printf '%s\n' "${rows[@]}"
exit $failed
