// The scenario runner: builds a simulated world from a Scenario (brokers, one node per
// producer and consumer, a "checker" node for the final read), runs the workload with the
// fault timeline and the nemesis, then a final phase that heals everything and lets
// producers finish, reads every topic back, checks the history and evaluates expectations.
//
// Everything is derived from (scenario, seed): the same pair gives the same trace hash.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "sim/checker.h"
#include "sim/history.h"
#include "sim/run_record.h"
#include "sim/scenario.h"

namespace strata::sim {

struct RunOptions {
  Duration sample_interval = std::chrono::milliseconds(100);
  bool keep_trace = true;    // RunRecord::trace (the hash is computed either way)
  bool keep_metrics = true;  // RunRecord::metrics
  // After the workload phase: how long producers get to drain and consumers to catch up.
  Duration final_phase_max = std::chrono::seconds(30);
};

// Owns the history and check result that `record` points into; keep them together.
struct RunOutcome {
  std::unique_ptr<History> history;
  std::unique_ptr<CheckResult> check;
  std::map<std::string, double> measures;  // every name of expectation_names()
  RunRecord record;
};

// Fails only when the scenario cannot be set up (a bad broker or topic config); a run whose
// expectations fail is still a RunOutcome, with record.passed false.
Result<RunOutcome> run_scenario(const Scenario& scenario, uint64_t seed,
                                const RunOptions& options = {});

}  // namespace strata::sim
