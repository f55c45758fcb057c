// strata_bench's results: per-run figures, their medians, the table and the JSON line.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "engine/cli/perf_workload.h"

namespace strata::bench {

struct BenchConfig {
  perf::WorkloadOptions workload;  // bootstrap/topic/label are set per run
  int runs = 3;
  bool strata = true;
  bool mock = true;
  std::string strata_binary;
  std::string data_dir;
  bool pinned = false;  // client on CPU 0, broker on CPU 1
};

// One target's two phases in one run; `error` is set when the target could not be measured.
struct TargetRun {
  perf::PhaseResult produce;
  perf::PhaseResult consume;
  std::string error;
  // Broker CPU seconds used during each measured phase: the strata process, or the mock's
  // serving thread; -1 when unknown.
  double produce_cpu_s = -1;
  double consume_cpu_s = -1;
  bool ok() const { return error.empty() && produce.ok() && consume.ok(); }
};

struct RunResult {
  std::optional<TargetRun> strata;
  std::optional<TargetRun> mock;
};

// The median of each figure over the runs where the phase finished.
struct PhaseMedian {
  int runs = 0;
  double records_per_s = 0;
  double mb_per_s = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  double max_ms = 0;
  double cpu_ns_per_record = 0;  // broker CPU per measured record; 0 when unknown
};

PhaseMedian median_produce(const std::vector<RunResult>& runs, bool strata);
PhaseMedian median_consume(const std::vector<RunResult>& runs, bool strata);

// "AMD EPYC ... (2 CPUs)" from /proc/cpuinfo and sysconf.
std::string machine_description();

void print_text(const BenchConfig& config, const std::vector<RunResult>& runs);
void print_json(const BenchConfig& config, const std::vector<RunResult>& runs);

}  // namespace strata::bench
