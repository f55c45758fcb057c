#include "engine/group/group.h"

#include <algorithm>

namespace strata::group {

std::string_view state_name(GroupState s) {
  switch (s) {
    case GroupState::kEmpty: return "Empty";
    case GroupState::kPreparingRebalance: return "PreparingRebalance";
    case GroupState::kCompletingRebalance: return "CompletingRebalance";
    case GroupState::kStable: return "Stable";
    case GroupState::kDead: return "Dead";
  }
  return "Unknown";
}

bool valid_transition(GroupState from, GroupState to) {
  using S = GroupState;
  switch (to) {
    case S::kPreparingRebalance:
      return from == S::kEmpty || from == S::kStable || from == S::kCompletingRebalance;
    case S::kCompletingRebalance: return from == S::kPreparingRebalance;
    case S::kStable: return from == S::kCompletingRebalance;
    case S::kEmpty: return from == S::kPreparingRebalance;
    case S::kDead: return from != S::kDead;
  }
  return false;
}

const Bytes* Member::metadata_for(std::string_view protocol) const {
  for (const Protocol& p : protocols) {
    if (p.name == protocol) return &p.metadata;
  }
  return nullptr;
}

bool Member::same_protocols(const std::vector<Protocol>& other) const {
  if (other.size() != protocols.size()) return false;
  for (size_t i = 0; i < other.size(); ++i) {
    if (other[i].name != protocols[i].name || other[i].metadata != protocols[i].metadata) {
      return false;
    }
  }
  return true;
}

size_t Group::awaiting_join_count() const {
  return static_cast<size_t>(std::count_if(members.begin(), members.end(), [](const auto& kv) {
    return static_cast<bool>(kv.second.awaiting_join);
  }));
}

bool Group::all_members_joined() const {
  return pending_members.empty() && awaiting_join_count() == members.size();
}

int32_t Group::max_rebalance_timeout_ms() const {
  int32_t max = 0;
  for (const auto& [id, m] : members) max = std::max(max, m.rebalance_timeout_ms);
  return max;
}

bool Group::supports(std::string_view type, const std::vector<Protocol>& protocols,
                     std::string_view except) const {
  if (type.empty() || protocols.empty()) return false;
  bool any_other = false;
  for (const auto& [id, m] : members) {
    if (id != except) any_other = true;
  }
  if (!any_other) return true;
  if (type != protocol_type) return false;
  for (const Protocol& p : protocols) {
    bool everyone = true;
    for (const auto& [id, m] : members) {
      if (id != except && m.metadata_for(p.name) == nullptr) {
        everyone = false;
        break;
      }
    }
    if (everyone) return true;
  }
  return false;
}

std::optional<std::string> Group::select_protocol() const {
  if (members.empty()) return std::nullopt;
  // Candidates: the protocols of some member that every member supports.
  std::map<std::string, int> votes;
  const Member& first = members.begin()->second;
  for (const Protocol& p : first.protocols) {
    bool everyone = std::all_of(members.begin(), members.end(), [&](const auto& kv) {
      return kv.second.metadata_for(p.name) != nullptr;
    });
    if (everyone) votes.emplace(p.name, 0);
  }
  if (votes.empty()) return std::nullopt;
  // Each member votes for the candidate it lists first.
  for (const auto& [id, m] : members) {
    for (const Protocol& p : m.protocols) {
      auto it = votes.find(p.name);
      if (it != votes.end()) {
        ++it->second;
        break;
      }
    }
  }
  auto best = votes.begin();
  for (auto it = votes.begin(); it != votes.end(); ++it) {
    if (it->second > best->second) best = it;
  }
  return best->first;
}

}  // namespace strata::group
