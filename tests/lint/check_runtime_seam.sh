#!/usr/bin/env bash
# The one rule (shared/DESIGN.md): engine code touches the world only through Runtime.
# Fails, naming file:line, when engine/ calls a clock, random source, file or socket syscall,
# thread or sleep directly. Allowed: engine/runtime/posix_* (the real Runtime), and console
# I/O in engine/cli (a command-line tool's job). The benchmark code in engine/cli/perf_* takes
# its clock from a Runtime too; only librdkafka, which it drives, has threads of its own.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"

# Headers that only a POSIX runtime needs, and calls that bypass Runtime.
banned_includes='#include <(unistd\.h|fcntl\.h|sys/[a-z_]+\.h|netinet/[a-z_]+\.h|arpa/inet\.h|netdb\.h|thread|random|filesystem|fstream|ctime|time\.h|signal\.h|dirent\.h)>'
banned_calls='std::chrono::(steady_clock|system_clock|high_resolution_clock)|\brand\(|\bsrand\(|random_device|std::thread|std::jthread|std::async|pthread_create|sleep_for|sleep_until|\busleep\(|\bnanosleep\(|gettimeofday|clock_gettime|\btime\(nullptr\)|\bgetrandom\(|\bfopen\(|std::filesystem|(^|[^A-Za-z0-9_>])::(open|read|write|close|pread|pwrite|fsync|socket|connect|accept|accept4|bind|listen|send|recv|mmap|unlink|rename|mkdir)\('

violations=$(grep -rnE "$banned_includes|$banned_calls" engine/ --include='*.cc' --include='*.h' \
  | grep -vE '^engine/runtime/posix_' \
  | grep -vE '^[^:]+:[0-9]+:\s*//' || true)

if [[ -n "${violations//[$'\n' ]/}" ]]; then
  echo "engine/ must reach the world only through Runtime; direct calls found:"
  printf '%s\n' "$violations"
  exit 1
fi
echo "runtime seam: no direct world access outside engine/runtime/posix_*"
