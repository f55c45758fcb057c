// RunRecord: everything one simulated scenario run produced, in one place, so the results
// writer (sim/results_db.h) and the CLI read the same thing. The runner fills it; nothing
// here owns the history or the check result (they live in the runner's RunOutcome), so a
// record is cheap to build and must not outlive the outcome it points into.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/checker.h"
#include "sim/history.h"

namespace strata::sim {

struct ExpectationResult {
  std::string name;    // e.g. "lost_write", "acked", "max_ack_latency_p99"
  bool passed = false;
  std::string detail;  // e.g. "expected 0, got 3"
};

struct TraceLine {
  int64_t t_ns = 0;  // simulated time
  std::string line;
};

// One sample of a time series, taken every RunOptions::sample_interval of simulated time.
// Names used by the runner:
//   log_end_offset, high_watermark  labels "topic=t,partition=0"
//   consumer_lag                    labels "consumer=c1,topic=t,partition=0"
//   producer_acked, producer_sent   labels "producer=p1"
//   broker_up, broker_paused        labels "node=broker-0" (value 0 or 1)
struct MetricSample {
  int64_t t_ns = 0;
  std::string name;
  std::string labels;  // "k=v,k=v", keys in a fixed order
  double value = 0;
};

struct RunRecord {
  std::string scenario_name;
  std::string scenario_path;  // as given on the command line
  std::string scenario_text;  // the file's full text, so a run can be reproduced from the db
  uint64_t seed = 0;
  int64_t simulated_ns = 0;
  uint64_t events_run = 0;
  uint64_t trace_hash = 0;
  bool passed = false;  // every expectation held
  std::vector<ExpectationResult> expectations;
  const History* history = nullptr;    // not owned
  const CheckResult* check = nullptr;  // not owned
  std::vector<TraceLine> trace;
  std::vector<MetricSample> metrics;
};

}  // namespace strata::sim
