// Cluster-side invariants, checked after every simulated event (the client-side ones —
// lost, duplicated, reordered records — are the checker's, from the history).
//
// Per partition replica on a live broker:
//   log-bounds          log start <= high watermark <= log end
//   epoch-monotonic     the leader epoch never goes down
//   hw-monotonic        within one leader epoch the high watermark never goes down
// Per consumer group on a live coordinator (within one broker incarnation: a machine crash
// may lose unsynced group records, which is a finding of the run, not an invariant):
//   group-generation    the generation never goes down (a group deleted and created again
//                       starts over)
//   group-shape         Empty has no members; CompletingRebalance and Stable have a leader
//                       that is a member; the protocol type is set when there are members
//
// Checking is cheap (a flat table rebuilt only when the broker's topic layout changes), so
// it can run after each of millions of events.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "engine/broker/broker.h"
#include "engine/runtime/runtime.h"

namespace strata::sim {

struct InvariantViolation {
  MonoTime at;
  std::string invariant;  // one of the names above
  std::string detail;     // node, partition or group, and the values seen
};

class ClusterInvariants {
 public:
  // At most this many violations are kept (the count goes on).
  static constexpr size_t kViolationsKept = 1000;

  // `incarnation` changes whenever the broker on `node` is (re)started.
  void check(MonoTime at, const std::string& node, uint64_t incarnation, broker::Broker& b);

  const std::vector<InvariantViolation>& violations() const { return violations_; }
  uint64_t violation_count() const { return violation_count_; }
  uint64_t checks() const { return checks_; }

 private:
  struct Watched {
    broker::PartitionReplica* replica = nullptr;  // valid within one layout version only
    std::string key;                               // "topic-partition"
    int32_t epoch = -1;
    int64_t high_watermark = -1;
  };
  struct NodeState {
    uint64_t incarnation = 0;
    uint64_t layout_version = UINT64_MAX;
    std::vector<Watched> partitions;
    std::map<std::string, int32_t, std::less<>> epochs;  // "topic-p" -> last epoch
    std::map<std::string, int32_t, std::less<>> generations;
  };

  void rebuild(NodeState& s, broker::Broker& b);
  void check_groups(MonoTime at, const std::string& node, NodeState& s, broker::Broker& b);
  void report(MonoTime at, std::string invariant, std::string detail);

  std::map<std::string, NodeState> nodes_;
  std::vector<InvariantViolation> violations_;
  uint64_t violation_count_ = 0;
  uint64_t checks_ = 0;
};

}  // namespace strata::sim
