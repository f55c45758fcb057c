#!/usr/bin/env bash
# A profile-guided Release build of `strata` and the simulator bench, for long simulations
# and seed sweeps (results/sim-speed.md has what it gains):
#   1. build with -fprofile-generate,
#   2. train: the standard scenario of bench/strata_sim_bench for 60 simulated seconds and
#      every scenario in scenarios/, each with a seed the measurements do not use,
#   3. rebuild the same directory with -fprofile-use.
# Usage: scripts/pgo-build.sh [BUILD_DIR (build-pgo)]
set -euo pipefail
cd "$(dirname "$0")/.."
DIR="${1:-build-pgo}"
JOBS="${STRATA_JOBS:-2}"
TARGETS=(--target strata strata_sim_bench)

echo "== generate: instrumented build in $DIR"
cmake -S . -B "$DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSTRATA_PGO=generate >/dev/null
rm -rf "$DIR/pgo-profiles"
cmake --build "$DIR" -j "$JOBS" "${TARGETS[@]}"

echo "== train"
"$DIR/bench/strata_sim_bench" --sim-seconds 60 --runs 1 --seed 1000 >/dev/null
for f in scenarios/*.yaml; do
  # A scenario whose expectation fails still trains; say so and go on.
  "$DIR/engine/cli/strata" sim run "$f" --seed 1000 >/dev/null || echo "   ($f exited $?)"
done

echo "== use: optimised build in $DIR"
cmake -S . -B "$DIR" -DSTRATA_PGO=use >/dev/null
cmake --build "$DIR" -j "$JOBS" "${TARGETS[@]}"
echo "done: $DIR/engine/cli/strata, $DIR/bench/strata_sim_bench"
