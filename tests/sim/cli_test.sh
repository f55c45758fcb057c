#!/usr/bin/env bash
# `strata sim` from the shell: a seed replays to the same trace hash, every seed a report
# prints can be typed back in, and bad seeds or ranges are refused with exit code 2.
#   tests/sim/cli_test.sh STRATA_BINARY SOURCE_DIR
set -uo pipefail
strata=$1
cd "$2"
scenario=scenarios/hot-key.yaml
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# expect_rc RC ARGS...: runs `strata sim ARGS...`, keeps its output in $out.
expect_rc() {
  local want=$1
  shift
  out=$("$strata" sim "$@" 2>&1)
  local rc=$?
  [[ $rc == "$want" ]] || fail "strata sim $* exited $rc, expected $want: $out"
}

expect_rc 0 run "$scenario" --seed 1
first=$(grep '^trace hash' <<<"$out")
expect_rc 0 run "$scenario" --seed 1
[[ -n $first && $first == "$(grep '^trace hash' <<<"$out")" ]] || fail "seed 1 did not replay"

# The largest seed runs and is printed as it was given.
expect_rc 0 run "$scenario" --seed 18446744073709551615
grep -q '^seed *18446744073709551615$' <<<"$out" || fail "largest seed not printed back: $out"

for bad in -1 +1 abc 18446744073709551616 "" 1x; do
  expect_rc 2 run "$scenario" --seed "$bad"
  grep -q -- '--seed: expected an integer' <<<"$out" || fail "--seed '$bad': $out"
done

expect_rc 0 sweep "$scenario" --seeds 3..4
grep -q '^2 seeds, 0 failing' <<<"$out" || fail "sweep 3..4: $out"
# The last two seeds: a loop that compared with the upper bound would never end here.
expect_rc 0 sweep "$scenario" --seeds 18446744073709551614..18446744073709551615
grep -q '^2 seeds, 0 failing' <<<"$out" || fail "sweep of the largest seeds: $out"
for bad in 5..2 1..2x -1..2 1.2 ..3 0..18446744073709551615 1..; do
  expect_rc 2 sweep "$scenario" --seeds "$bad"
  grep -q -- '--seeds: expected A..B' <<<"$out" || fail "--seeds '$bad': $out"
done

if ((failures)); then
  echo "$failures failure(s)"
  exit 1
fi
echo "strata sim CLI: all checks passed"
