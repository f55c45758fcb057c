#!/usr/bin/env bash
# Sets up and runs strata on this machine: installs missing Debian packages, builds, starts
# one broker on 127.0.0.1:9092 with config/server.properties (data under ./data), creates a
# demo topic and prints how to use it with kcat. Ctrl-C stops the broker.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "${STRATA_JOBS:-2}" --target strata

STRATA=build/engine/cli/strata
"$STRATA" broker --config config/server.properties "$@" &
BROKER=$!
trap 'kill $BROKER 2>/dev/null; wait $BROKER 2>/dev/null' EXIT INT TERM

for _ in $(seq 1 100); do
  "$STRATA" topics list --bootstrap-server 127.0.0.1:9092 >/dev/null 2>&1 && break
  kill -0 $BROKER 2>/dev/null || { echo "strata: broker failed to start" >&2; exit 1; }
  sleep 0.1
done
"$STRATA" topics create demo --partitions 3 --bootstrap-server 127.0.0.1:9092 || true
"$STRATA" topics describe demo --bootstrap-server 127.0.0.1:9092

cat <<'MSG'

strata is running on 127.0.0.1:9092 (data in ./data). Try it with kcat:

  kcat -b 127.0.0.1:9092 -L                                    # cluster metadata
  printf 'k1:hello\nk2:world\n' | kcat -b 127.0.0.1:9092 -t demo -P -K:   # produce with keys
  kcat -b 127.0.0.1:9092 -t demo -C -e -f '%p@%o %k=%s\n'       # consume everything

or with strata's own tools:

  build/engine/cli/strata produce demo --key k1 --value hi
  build/engine/cli/strata consume demo --from-beginning --count 3

Press Ctrl-C to stop the broker.
MSG
wait $BROKER
