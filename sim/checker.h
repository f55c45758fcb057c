// The history checker: finds, from what clients saw, the anomalies a Kafka-like system must
// (or, under some faults, may) exhibit — the way Jepsen's queue checker reads a history.
//
// Definitions (a "record" is a unique value id; see history.h):
//  - lost write: acknowledged at offset o of a partition, o ≥ the final log start offset
//    (retention may delete), yet absent from the final read of that partition; on a
//    compacted topic (CheckOptions::compacted_topics) a record is not lost when the final
//    read holds a later record with its key (the cleaner removed it as superseded: counted
//    in CheckResult::compacted_away);
//  - duplicate: one record stored at two or more offsets (final read or polls);
//  - reorder: two records of one producer on one partition stored in the opposite order of
//    their sequence numbers (possible without idempotence when retries and in-flight > 1);
//  - inconsistent offset: one offset returned with two different records (e.g. a consumer
//    read offset 5 before a crash truncated it, and a different record took offset 5 after);
//  - unreadable: acknowledged, still in the final log, yet never returned to a consumer whose
//    polls on that partition went past its offset (a skipped record);
//  - offset backwards: a consumer's successive polls on a partition went backwards without a
//    seek in between (an assignment, a revocation or a crash of the consumer also resets it);
// and for consumer groups (a client is a member of the group it was ever assigned in):
//  - double owner: two members of a group own one partition in the same generation;
//  - commit backwards: an accepted commit of a group and partition lower than an accepted one
//    acknowledged before it was sent (concurrent commits may be applied in either order), or
//    a final committed offset lower than any accepted one (the broker lost a commit);
//  - commit undelivered: a record of the final log at offset o, L ≤ o < C, that no member of
//    the group ever polled, where C is the group's committed offset (highest accepted commit
//    or final committed) and L the lowest offset members polled on the partition: the group
//    moved past a record it never processed (at-least-once broken).
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "sim/history.h"

namespace strata::sim {

// What one consumer group went through (statistics, not anomalies).
struct GroupCheck {
  int64_t generations = 0;       // distinct generations in which a member was assigned
  int32_t last_generation = -1;  // the highest of them
  int64_t commits = 0;           // accepted commits
  int64_t commit_failures = 0;
  int64_t redelivered = 0;  // polls by a member of a record a member had already polled
  // Time partitions spent without an owner, from each partition's first assignment in the
  // group until CheckOptions::ownership_until_ns: summed over partitions, and the longest
  // single stretch of one partition.
  int64_t unowned_ms = 0;
  int64_t max_unowned_ms = 0;
  // The most partitions without an owner at one instant (an eager rebalance: all of them).
  int64_t max_unowned_partitions = 0;
  std::map<std::pair<std::string, int32_t>, int64_t> unowned_ms_by_partition;
};

struct CheckOptions {
  size_t max_reported = 20;  // anomalies listed per kind (all are counted)
  // Where partition ownership stops being measured; -1: the time of the last operation.
  int64_t ownership_until_ns = -1;
  // Topics with cleanup.policy=compact: see "lost write" above.
  std::set<std::string> compacted_topics;
};

struct CheckResult {
  std::vector<Anomaly> anomalies;  // at most `max_reported` of each kind
  std::map<AnomalyKind, int64_t> counts;  // all of them
  int64_t sent = 0, acked = 0, failed = 0, polled = 0;
  int64_t compacted_away = 0;  // acknowledged, superseded by a later record of the same key
  std::map<std::string, GroupCheck> groups;  // by group id; empty without group operations
  int64_t redelivered = 0, commits = 0, commit_failures = 0;  // sums over `groups`

  int64_t count(AnomalyKind k) const {
    auto it = counts.find(k);
    return it == counts.end() ? 0 : it->second;
  }
};

CheckResult check_history(const History& history, const CheckOptions& options);
inline CheckResult check_history(const History& history, size_t max_reported = 20) {
  return check_history(history, CheckOptions{.max_reported = max_reported});
}

}  // namespace strata::sim
