#!/usr/bin/env bash
# Installs the Debian packages strata needs to build and test (idempotent; quiet when present).
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config python3 clang libclang-rt-14-dev
  catch2 zlib1g-dev libsnappy-dev liblz4-dev libzstd-dev
  libyaml-cpp-dev libboost-graph-dev libsqlite3-dev libjemalloc-dev
  librdkafka-dev kcat python3-confluent-kafka python3-kafka nodejs npm
  python3-snappy python3-lz4 python3-zstandard
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# nodejs may come from another source (e.g. nodesource) that bundles npm.
if command -v node >/dev/null && command -v npm >/dev/null; then
  missing=("${missing[@]/nodejs}"); missing=("${missing[@]/npm}")
fi
read -r -a missing <<< "${missing[*]:-}"

if ((${#missing[@]})); then
  echo "strata: installing Debian packages: ${missing[*]}"
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi
