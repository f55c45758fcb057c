#include "engine/client/assignors.h"

#include <algorithm>
#include <set>

#include "engine/client/client_limits.h"

namespace strata::client {
namespace {

// Members sorted by member id, as every assignor here orders them.
std::vector<const AssignorMember*> sorted_members(const std::vector<AssignorMember>& members) {
  std::vector<const AssignorMember*> out;
  for (const auto& m : members) out.push_back(&m);
  std::sort(out.begin(), out.end(),
            [](const auto* a, const auto* b) { return a->member_id < b->member_id; });
  return out;
}

GroupAssignment empty_assignment(const std::vector<AssignorMember>& members) {
  GroupAssignment out;
  for (const auto& m : members) out[m.member_id];
  return out;
}

bool subscribed(const AssignorMember& m, const std::string& topic) {
  return std::find(m.topics.begin(), m.topics.end(), topic) != m.topics.end();
}

// Every partition of every topic someone subscribes to, sorted by topic then partition.
std::vector<TopicPartition> all_partitions(const PartitionCounts& counts,
                                           const std::vector<AssignorMember>& members) {
  std::vector<TopicPartition> out;
  for (const auto& entry : counts) {
    // Not a structured binding: clang before 16 cannot capture one in a lambda.
    const auto& topic = entry.first;
    bool wanted = std::any_of(members.begin(), members.end(),
                              [&](const auto& m) { return subscribed(m, topic); });
    for (int32_t p = 0; wanted && p < entry.second; ++p) {
      out.push_back({topic, PartitionId(p)});
    }
  }
  return out;
}

void sort_all(GroupAssignment& a) {
  for (auto& [id, tps] : a) std::sort(tps.begin(), tps.end());
}

// The balanced sticky computation over members sorted by id (index = position).
struct Sticky {
  std::vector<const AssignorMember*> members;
  std::vector<std::vector<TopicPartition>> held;  // per member index

  void keep_owned(const PartitionCounts& counts) {
    std::set<TopicPartition> claimed;
    for (size_t i = 0; i < members.size(); ++i) {
      std::vector<TopicPartition> owned = members[i]->owned;
      std::sort(owned.begin(), owned.end());
      for (const auto& tp : owned) {
        auto c = counts.find(tp.topic);
        bool valid = c != counts.end() && tp.partition.value() >= 0 &&
                     tp.partition.value() < c->second && subscribed(*members[i], tp.topic);
        // Two claimants (a member that missed a rebalance): the first by member id keeps it.
        if (valid && claimed.insert(tp).second) held[i].push_back(tp);
      }
    }
  }

  bool same_subscriptions(const PartitionCounts& counts) const {
    auto topics_of = [&](const AssignorMember& m) {
      std::set<std::string> s;
      for (const auto& t : m.topics) {
        if (counts.count(t)) s.insert(t);
      }
      return s;
    };
    for (const auto* m : members) {
      if (topics_of(*m) != topics_of(*members.front())) return false;
    }
    return true;
  }

  // Equal subscriptions: the fewest moves that balance is to cap every member at its quota
  // (ceil for the first `extra` of those holding most, floor for the rest) and hand out the
  // rest. Partitions above the cap are released from the end of each member's list.
  void cap_at_quota(size_t total) {
    size_t m = members.size();
    size_t floor = total / m, extra = total % m;
    size_t ceil = floor + (extra > 0 ? 1 : 0);
    for (auto& h : held) {
      if (h.size() > ceil) h.resize(ceil);
    }
    if (extra == 0) return;
    size_t at_ceil = 0;
    for (auto& h : held) {
      if (h.size() < ceil) continue;
      if (++at_ceil > extra) h.resize(floor);
    }
  }

  size_t least_loaded_for(const std::string& topic) const {
    size_t best = members.size();
    for (size_t i = 0; i < members.size(); ++i) {
      if (!subscribed(*members[i], topic)) continue;
      if (best == members.size() || held[i].size() < held[best].size()) best = i;
    }
    return best;
  }

  // Unequal subscriptions: move a partition from a member to one that may take it and holds
  // at least two fewer, until no such pair is left. Each move lowers the sum of squared
  // counts, so this ends; the bound is a safety net.
  void rebalance() {
    size_t bound = 1;
    for (const auto& h : held) bound += h.size() * members.size();
    for (size_t step = 0; step < bound; ++step) {
      if (!move_one()) return;
    }
  }

  bool move_one() {
    std::vector<size_t> order(members.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return held[a].size() > held[b].size(); });
    for (size_t a : order) {
      for (size_t k = held[a].size(); k-- > 0;) {
        size_t b = least_loaded_for(held[a][k].topic);
        if (b == members.size() || held[b].size() + 1 >= held[a].size()) continue;
        held[b].push_back(held[a][k]);
        held[a].erase(held[a].begin() + ptrdiff_t(k));
        return true;
      }
    }
    return false;
  }
};

}  // namespace

GroupAssignment assign_range(const PartitionCounts& counts,
                             const std::vector<AssignorMember>& members) {
  GroupAssignment out = empty_assignment(members);
  auto sorted = sorted_members(members);
  for (const auto& [topic, n] : counts) {
    std::vector<const AssignorMember*> subs;
    for (const auto* m : sorted) {
      if (subscribed(*m, topic)) subs.push_back(m);
    }
    if (subs.empty()) continue;
    int32_t k = int32_t(subs.size());
    int32_t each = n / k, extra = n % k;
    for (int32_t i = 0; i < k; ++i) {
      int32_t start = i * each + std::min(i, extra);
      int32_t len = each + (i < extra ? 1 : 0);
      auto& dst = out[subs[size_t(i)]->member_id];
      for (int32_t p = start; p < start + len; ++p) dst.push_back({topic, PartitionId(p)});
    }
  }
  sort_all(out);
  return out;
}

GroupAssignment assign_roundrobin(const PartitionCounts& counts,
                                  const std::vector<AssignorMember>& members) {
  GroupAssignment out = empty_assignment(members);
  auto sorted = sorted_members(members);
  size_t next = 0;
  for (const auto& tp : all_partitions(counts, members)) {
    for (size_t j = 0; j < sorted.size(); ++j) {
      const AssignorMember* m = sorted[(next + j) % sorted.size()];
      if (!subscribed(*m, tp.topic)) continue;
      out[m->member_id].push_back(tp);
      next = (next + j + 1) % sorted.size();
      break;
    }
  }
  sort_all(out);
  return out;
}

GroupAssignment assign_sticky(const PartitionCounts& counts,
                              const std::vector<AssignorMember>& members) {
  GroupAssignment out = empty_assignment(members);
  if (members.empty()) return out;
  Sticky s{sorted_members(members), {}};
  s.held.resize(s.members.size());
  s.keep_owned(counts);
  std::vector<TopicPartition> all = all_partitions(counts, members);
  bool same = s.same_subscriptions(counts);
  if (same) s.cap_at_quota(all.size());
  std::set<TopicPartition> taken;
  for (const auto& h : s.held) taken.insert(h.begin(), h.end());
  for (const auto& tp : all) {
    if (taken.count(tp)) continue;
    size_t i = s.least_loaded_for(tp.topic);
    if (i < s.members.size()) s.held[i].push_back(tp);
  }
  if (!same) s.rebalance();
  for (size_t i = 0; i < s.members.size(); ++i) out[s.members[i]->member_id] = s.held[i];
  sort_all(out);
  return out;
}

GroupAssignment assign_cooperative_sticky(const PartitionCounts& counts,
                                          const std::vector<AssignorMember>& members) {
  GroupAssignment target = assign_sticky(counts, members);
  // Who holds each partition now (the first claimant by member id, as assign_sticky decides).
  std::map<TopicPartition, std::string> holder;
  for (const auto* m : sorted_members(members)) {
    for (const auto& tp : m->owned) holder.emplace(tp, m->member_id);
  }
  for (auto& [id, tps] : target) {
    std::erase_if(tps, [&, &id = id](const TopicPartition& tp) {
      auto h = holder.find(tp);
      return h != holder.end() && h->second != id;
    });
  }
  return target;
}

const Assignor* find_assignor(std::string_view name) {
  static const Assignor kAssignors[] = {
      {"range", RebalanceProtocol::kEager, &assign_range},
      {"roundrobin", RebalanceProtocol::kEager, &assign_roundrobin},
      {"cooperative-sticky", RebalanceProtocol::kCooperative, &assign_cooperative_sticky},
  };
  // Kafka's Java configuration names the classes.
  if (name == "org.apache.kafka.clients.consumer.RangeAssignor") name = "range";
  if (name == "org.apache.kafka.clients.consumer.RoundRobinAssignor") name = "roundrobin";
  if (name == "org.apache.kafka.clients.consumer.CooperativeStickyAssignor") {
    name = "cooperative-sticky";
  }
  for (const auto& a : kAssignors) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

Result<std::vector<const Assignor*>> parse_assignment_strategy(std::string_view list) {
  std::vector<const Assignor*> out;
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view one = list.substr(0, comma);
    while (!one.empty() && one.front() == ' ') one.remove_prefix(1);
    while (!one.empty() && one.back() == ' ') one.remove_suffix(1);
    if (!one.empty()) {
      const Assignor* a = find_assignor(one);
      if (a == nullptr) {
        return Status::invalid_argument("partition.assignment.strategy: unknown assignor '" +
                                        std::string(one) +
                                        "' (range, roundrobin, cooperative-sticky)");
      }
      if (std::find(out.begin(), out.end(), a) == out.end()) out.push_back(a);
    }
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  if (out.empty()) return Status::invalid_argument("partition.assignment.strategy is empty");
  return out;
}

RebalanceProtocol rebalance_protocol(const std::vector<const Assignor*>& assignors) {
  STRATA_ASSERT(!assignors.empty());
  for (const auto* a : assignors) {
    if (a->protocol != RebalanceProtocol::kCooperative) return RebalanceProtocol::kEager;
  }
  return RebalanceProtocol::kCooperative;
}

}  // namespace strata::client
