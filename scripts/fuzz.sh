#!/usr/bin/env bash
# Runs every libFuzzer target of a fuzz build for a fixed time budget each, starting from the
# seed corpora in tests/fuzz/corpus/<target>/, with the dictionary tests/fuzz/<target>.dict
# where there is one. Fails (exit 1) if any target finds a crash, an assertion, a sanitizer
# report, a leak, a timeout or an out-of-memory; the reproducer is left in
# BUILD_DIR/fuzz-artifacts/ and its path printed.
#
#   scripts/fuzz.sh BUILD_DIR SECONDS
#
# BUILD_DIR must have been configured with clang and -DSTRATA_FUZZ=ON and built with
# `cmake --build BUILD_DIR --target fuzz_targets` (scripts/test.sh does both).
# New inputs the fuzzer finds go to BUILD_DIR/fuzz-corpus/<target>/, never into the source
# tree. Reproduce a crash with: BUILD_DIR/tests/fuzz/<target> <artifact>
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ $# -ne 2 || ! "$2" =~ ^[0-9]+$ ]]; then
  echo "usage: scripts/fuzz.sh BUILD_DIR SECONDS" >&2
  exit 2
fi
build=$1
seconds=$2
targets=(fuzz_request fuzz_record_batch fuzz_broker)

for t in "${targets[@]}"; do
  if [[ ! -x "$build/tests/fuzz/$t" ]]; then
    echo "fuzz.sh: $build/tests/fuzz/$t not built (configure with clang and -DSTRATA_FUZZ=ON," \
         "then build the target fuzz_targets)" >&2
    exit 2
  fi
done

failed=()
for t in "${targets[@]}"; do
  work="$build/fuzz-corpus/$t"
  artifacts="$build/fuzz-artifacts"
  mkdir -p "$work" "$artifacts"
  log="$build/fuzz-$t.log"
  echo "fuzz.sh: $t for ${seconds}s (log: $log)"
  # -rss_limit_mb guards against unbounded allocation; -timeout flags a single input taking
  # over 10 s (an infinite loop); -max_len leaves room for real Produce frames.
  dict=()
  if [[ -f "tests/fuzz/$t.dict" ]]; then dict=(-dict="tests/fuzz/$t.dict"); fi
  set +e
  ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}" \
  UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}" \
    "$build/tests/fuzz/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -max_len=65536 -print_final_stats=1 -artifact_prefix="$artifacts/$t-" "${dict[@]}" \
    "$work" "tests/fuzz/corpus/$t" >"$log" 2>&1
  status=$?
  set -e
  grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb" "$log" | sed "s/^/  /" || true
  if [[ $status -ne 0 ]]; then
    echo "fuzz.sh: $t FAILED (exit $status); the end of its log:" >&2
    tail -n 40 "$log" >&2
    ls -1 "$artifacts/$t-"* 2>/dev/null | sed "s/^/  reproducer: /" >&2 || true
    failed+=("$t")
  fi
done

if ((${#failed[@]})); then
  echo "fuzz.sh: failures in: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz.sh: all targets ran ${seconds}s without findings"
