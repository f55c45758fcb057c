#!/usr/bin/env bash
# Runs strata's whole test suite, as CI does:
#   1. installs missing Debian packages and the npm client used by interop tests,
#   2. a RelWithDebInfo build with warnings as errors, and its CTest suite
#      (unit tests + interop tests with real Kafka clients against a real broker),
#   3. a Debug build with AddressSanitizer + UndefinedBehaviorSanitizer, and its suite,
#   4. the libFuzzer targets for a short fixed budget.
# Set STRATA_SKIP_ASAN=1 or STRATA_SKIP_FUZZ=1 to skip a stage locally.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS="${STRATA_JOBS:-2}"

stage() { printf '\n=== %s ===\n' "$*"; }

stage "dependencies"
scripts/deps.sh
if [[ -f tests/interop/js/package.json ]]; then
  (cd tests/interop/js && npm install --no-audit --no-fund --silent)
fi

stage "build (RelWithDebInfo)"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSTRATA_WERROR=ON >/dev/null
cmake --build build -j "$JOBS"

stage "tests (RelWithDebInfo)"
(cd build && ctest --output-on-failure -j "$JOBS")

if [[ "${STRATA_SKIP_ASAN:-0}" != 1 ]]; then
  stage "build (Debug + ASan/UBSan)"
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSTRATA_SANITIZE=ON \
    -DSTRATA_WERROR=ON >/dev/null
  cmake --build build-asan -j "$JOBS"
  stage "tests (Debug + ASan/UBSan)"
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j "$JOBS" \
     -LE slow)
fi

if [[ "${STRATA_SKIP_FUZZ:-0}" != 1 && -d tests/fuzz ]]; then
  stage "fuzz (libFuzzer, fixed budget)"
  cmake -S . -B build-fuzz -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSTRATA_FUZZ=ON >/dev/null
  cmake --build build-fuzz -j "$JOBS" --target fuzz_targets
  scripts/fuzz.sh build-fuzz "${STRATA_FUZZ_SECONDS:-30}"
fi
stage "all tests passed"
