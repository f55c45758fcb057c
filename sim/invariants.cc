#include "sim/invariants.h"

namespace strata::sim {

void ClusterInvariants::report(MonoTime at, std::string invariant, std::string detail) {
  ++violation_count_;
  if (violations_.size() < kViolationsKept) {
    violations_.push_back({at, std::move(invariant), std::move(detail)});
  }
}

void ClusterInvariants::rebuild(NodeState& s, broker::Broker& b) {
  // Keep what is known per (topic, partition) across the rebuild: the last epoch seen.
  for (const Watched& w : s.partitions) {
    if (w.epoch >= 0) s.epochs[w.key] = w.epoch;
  }
  s.partitions.clear();
  // Partitions that are gone are forgotten: a topic deleted and created again starts over.
  std::map<std::string, int32_t, std::less<>> kept;
  for (const auto& [name, topic] : b.topics().topics()) {
    for (const auto& p : topic.partitions) {
      if (!p) continue;
      Watched w;
      w.replica = p.get();
      w.key = p->key();
      auto it = s.epochs.find(w.key);
      if (it != s.epochs.end()) {
        w.epoch = it->second;
        kept.emplace(w.key, w.epoch);
      }
      s.partitions.push_back(std::move(w));
    }
  }
  s.epochs = std::move(kept);
  s.layout_version = b.topics().layout_version();
}

void ClusterInvariants::check(MonoTime at, const std::string& node, uint64_t incarnation,
                              broker::Broker& b) {
  ++checks_;
  NodeState& s = nodes_[node];
  if (s.incarnation != incarnation) {
    // A new broker process: replica objects are new (rebuild), the epochs learnt before stay
    // (they must keep going up), group generations start over.
    for (const Watched& w : s.partitions) {
      if (w.epoch >= 0) s.epochs[w.key] = w.epoch;
    }
    s.partitions.clear();
    s.layout_version = UINT64_MAX;
    s.generations.clear();
    s.incarnation = incarnation;
  }
  if (s.layout_version != b.topics().layout_version()) rebuild(s, b);
  for (Watched& w : s.partitions) {
    const broker::PartitionReplica& p = *w.replica;
    int32_t epoch = p.leader_epoch.value();
    int64_t hw = p.high_watermark().value();
    int64_t start = p.log->log_start_offset().value();
    int64_t end = p.log->log_end_offset().value();
    if (start > hw || hw > end) {
      report(at, "log-bounds",
             node + " " + w.key + ": log start " + std::to_string(start) + ", high watermark " +
                 std::to_string(hw) + ", log end " + std::to_string(end));
    }
    if (epoch < w.epoch) {
      report(at, "epoch-monotonic",
             node + " " + w.key + ": leader epoch went from " + std::to_string(w.epoch) +
                 " to " + std::to_string(epoch));
    } else if (epoch == w.epoch && hw < w.high_watermark) {
      report(at, "hw-monotonic",
             node + " " + w.key + ": high watermark went from " +
                 std::to_string(w.high_watermark) + " to " + std::to_string(hw) +
                 " in leader epoch " + std::to_string(epoch));
    }
    w.epoch = epoch;
    w.high_watermark = hw;
  }
  check_groups(at, node, s, b);
}

void ClusterInvariants::check_groups(MonoTime at, const std::string& node, NodeState& s,
                                     broker::Broker& b) {
  using group::GroupState;
  // A group that is gone (deleted, or emptied with every offset expired) is forgotten: when
  // its id is used again it is a new group, at generation 0 as in Kafka.
  std::erase_if(s.generations,
                [&](const auto& kv) { return b.groups().find(kv.first) == nullptr; });
  for (const auto& [id, g] : b.groups().groups()) {
    auto [it, fresh] = s.generations.try_emplace(id, g->generation);
    if (!fresh) {
      if (g->generation < it->second) {
        report(at, "group-generation",
               node + " group " + id + ": generation went from " + std::to_string(it->second) +
                   " to " + std::to_string(g->generation));
      }
      it->second = g->generation;
    }
    bool has_members = !g->members.empty();
    bool needs_leader =
        g->state == GroupState::kCompletingRebalance || g->state == GroupState::kStable;
    std::string problem;
    if (g->state == GroupState::kEmpty && has_members) {
      problem = "Empty with " + std::to_string(g->members.size()) + " members";
    } else if (needs_leader && (!g->leader || !g->has_member(*g->leader))) {
      problem = std::string(group::state_name(g->state)) + " without a leader among its members";
    } else if (has_members && g->protocol_type.empty()) {
      problem = "members but no protocol type";
    }
    if (!problem.empty()) report(at, "group-shape", node + " group " + id + ": " + problem);
  }
}

}  // namespace strata::sim
