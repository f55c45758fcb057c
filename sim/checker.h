// The history checker: finds, from what clients saw, the anomalies a Kafka-like system must
// (or, under some faults, may) exhibit — the way Jepsen's queue checker reads a history.
//
// Definitions (a "record" is a unique value id; see history.h):
//  - lost write: acknowledged at offset o of a partition, o ≥ the final log start offset
//    (retention may delete), yet absent from the final read of that partition;
//  - duplicate: one record stored at two or more offsets (final read or polls);
//  - reorder: two records of one producer on one partition stored in the opposite order of
//    their sequence numbers (possible without idempotence when retries and in-flight > 1);
//  - inconsistent offset: one offset returned with two different records (e.g. a consumer
//    read offset 5 before a crash truncated it, and a different record took offset 5 after);
//  - unreadable: acknowledged, still in the final log, yet never returned to a consumer whose
//    polls on that partition went past its offset (a skipped record);
//  - offset backwards: a consumer's successive polls on a partition went backwards without a
//    seek in between.
#pragma once

#include <map>
#include <vector>

#include "sim/history.h"

namespace strata::sim {

struct CheckResult {
  std::vector<Anomaly> anomalies;  // at most `max_reported` of each kind
  std::map<AnomalyKind, int64_t> counts;  // all of them
  int64_t sent = 0, acked = 0, failed = 0, polled = 0;

  int64_t count(AnomalyKind k) const {
    auto it = counts.find(k);
    return it == counts.end() ? 0 : it->second;
  }
};

CheckResult check_history(const History& history, size_t max_reported = 20);

}  // namespace strata::sim
