#include "engine/group/coordinator.h"

#include <algorithm>
#include <cstdio>
#include <utility>

#include "engine/base/assert.h"
#include "engine/base/limits.h"

namespace strata::group {
namespace {

constexpr std::string_view kComponent = "group";

void cancel_timer(Runtime& rt, TimerId& id) {
  if (id.value() != 0) rt.cancel(id);
  id = TimerId{0};
}

JoinResult join_error(ErrorCode e, std::string member_id = {}) {
  JoinResult r;
  r.error = e;
  r.member_id = std::move(member_id);
  return r;
}

SyncResult sync_error(ErrorCode e) {
  SyncResult r;
  r.error = e;
  return r;
}

// Kafka's isStaticMemberFenced: the instance id is known and belongs to another member id.
// An unknown instance id is not fenced: that member was removed (session expiry, leave) and
// must hear UNKNOWN_MEMBER_ID so that it rejoins; FENCED_INSTANCE_ID is fatal to a client.
bool fenced_instance(const Group& g, const std::string& member_id,
                     const std::optional<std::string>& instance) {
  if (!instance) return false;
  auto it = g.static_members.find(*instance);
  return it != g.static_members.end() && it->second != member_id;
}

}  // namespace

GroupCoordinator::GroupCoordinator(Runtime& runtime, GroupConfig config, GroupLog& log)
    : rt_(runtime),
      config_(config),
      log_(log),
      partitions_(config.offsets_topic_num_partitions),
      alive_(std::make_shared<bool>(true)) {
  schedule_offset_expiry();
}

GroupCoordinator::~GroupCoordinator() {
  *alive_ = false;
  cancel_timer(rt_, expiry_timer_);
  for (auto& [id, g] : groups_) {
    cancel_timer(rt_, g->join_timer);
    for (auto& [mid, m] : g->members) cancel_timer(rt_, m.session_timer);
    for (auto& [mid, t] : g->pending_members) cancel_timer(rt_, t);
  }
}

void GroupCoordinator::set_partition_count(int32_t partitions) {
  STRATA_ASSERT(partitions > 0);
  partitions_ = partitions;
}

int64_t GroupCoordinator::now_ms() const { return rt_.wall_clock_ms(); }

Group* GroupCoordinator::find_mut(const std::string& group_id) {
  auto it = groups_.find(group_id);
  return it == groups_.end() ? nullptr : it->second.get();
}

const Group* GroupCoordinator::find(const std::string& group_id) const {
  auto it = groups_.find(group_id);
  return it == groups_.end() ? nullptr : it->second.get();
}

Group& GroupCoordinator::get_or_create(const std::string& group_id) {
  auto& slot = groups_[group_id];
  if (!slot) {
    slot = std::make_unique<Group>();
    slot->id = group_id;
    slot->state_timestamp_ms = now_ms();
  }
  return *slot;
}

std::string GroupCoordinator::new_member_id(std::string_view prefix) {
  uint64_t a = rt_.random_u64();
  uint64_t b = rt_.random_u64();
  char uuid[40];
  std::snprintf(uuid, sizeof uuid, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0xffff),
                static_cast<unsigned>(b >> 48),
                static_cast<unsigned long long>(b & 0xffffffffffffULL));
  std::string id(prefix.substr(0, 200));
  id += '-';
  id += uuid;
  return id;
}

void GroupCoordinator::transition(Group& g, GroupState to) {
  STRATA_ASSERT(valid_transition(g.state, to), "group state transition not in Kafka's diagram");
  rt_.debug(kComponent, g.id + ": " + std::string(state_name(g.state)) + " -> " +
                            std::string(state_name(to)));
  g.state = to;
  g.state_timestamp_ms = now_ms();
}

// JoinGroup ----------------------------------------------------------------------------------

void GroupCoordinator::join(JoinRequest req, std::function<void(JoinResult)> done) {
  if (req.group_id.empty()) return done(join_error(ErrorCode::kInvalidGroupId, req.member_id));
  if (req.session_timeout_ms < config_.min_session_timeout_ms ||
      req.session_timeout_ms > config_.max_session_timeout_ms) {
    return done(join_error(ErrorCode::kInvalidSessionTimeout, req.member_id));
  }
  if (req.rebalance_timeout_ms <= 0) req.rebalance_timeout_ms = req.session_timeout_ms;
  Group* existing = find_mut(req.group_id);
  if (existing == nullptr) {
    if (!req.member_id.empty()) return done(join_error(ErrorCode::kUnknownMemberId, req.member_id));
    if (groups_.size() >= limits::kGroupsMax) {
      rt_.warn(kComponent, "refusing group " + req.group_id + ": too many groups");
      return done(join_error(ErrorCode::kCoordinatorNotAvailable));
    }
  } else if (existing->state == GroupState::kDead) {
    return done(join_error(ErrorCode::kCoordinatorNotAvailable, req.member_id));
  }
  bool supported = existing ? existing->supports(req.protocol_type, req.protocols, req.member_id)
                            : !req.protocol_type.empty() && !req.protocols.empty();
  if (!supported) return done(join_error(ErrorCode::kInconsistentGroupProtocol, req.member_id));

  Group& g = existing ? *existing : get_or_create(req.group_id);
  if (!req.member_id.empty()) {
    join_known_member(g, req, done);
  } else if (req.group_instance_id) {
    join_static_member(g, req, done);
  } else {
    join_new_member(g, req, done);
  }
  maybe_drop(g);
}

void GroupCoordinator::join_new_member(Group& g, JoinRequest& req,
                                       std::function<void(JoinResult)>& done) {
  if (g.members.size() + g.pending_members.size() >= static_cast<size_t>(config_.max_size)) {
    return done(join_error(ErrorCode::kGroupMaxSizeReached));
  }
  std::string id = new_member_id(req.client_id);
  if (req.require_known_member_id) {
    // KIP-394: hand out the id first, so that a member whose JoinGroup times out and retries
    // does not leave an orphan behind.
    schedule_pending_expiry(g, id, req.session_timeout_ms);
    return done(join_error(ErrorCode::kMemberIdRequired, id));
  }
  add_member_and_rebalance(g, req, std::move(id), std::move(done));
}

void GroupCoordinator::join_static_member(Group& g, JoinRequest& req,
                                          std::function<void(JoinResult)>& done) {
  const std::string& instance = *req.group_instance_id;
  auto known = g.static_members.find(instance);
  if (known == g.static_members.end()) {
    if (g.members.size() + g.pending_members.size() >= static_cast<size_t>(config_.max_size)) {
      return done(join_error(ErrorCode::kGroupMaxSizeReached));
    }
    return add_member_and_rebalance(g, req, new_member_id(instance), std::move(done));
  }
  // A static member came back (restarted): it gets a new member id and the old one is fenced,
  // without a rebalance unless something changed.
  std::string old_id = known->second;
  auto node = g.members.extract(old_id);
  STRATA_ASSERT(!node.empty(), "static member map names a missing member");
  Member m = std::move(node.mapped());
  cancel_timer(rt_, m.session_timer);
  auto old_join = std::move(m.awaiting_join);
  auto old_sync = std::move(m.awaiting_sync);
  m.awaiting_join = nullptr;
  m.awaiting_sync = nullptr;
  std::string new_id = new_member_id(instance);
  m.member_id = new_id;
  m.client_id = req.client_id;
  m.client_host = req.client_host;
  m.session_timeout_ms = req.session_timeout_ms;
  m.rebalance_timeout_ms = req.rebalance_timeout_ms;
  known->second = new_id;
  bool was_leader = g.leader == old_id;
  if (was_leader) g.leader = new_id;
  bool same = m.same_protocols(req.protocols);
  Member& placed = g.members.emplace(new_id, std::move(m)).first->second;
  if (old_join) old_join(join_error(ErrorCode::kFencedInstanceId, old_id));
  if (old_sync) old_sync(sync_error(ErrorCode::kFencedInstanceId));

  if (g.state == GroupState::kStable && same && !was_leader) {
    int32_t generation = g.generation;
    schedule_session_expiry(g, placed);
    std::string gid = g.id;
    store_group(g, [this, alive = alive_, gid, new_id, generation,
                    done = std::move(done)](Status s) {
      if (!*alive) return;
      Group* g = find_mut(gid);
      if (!s.is_ok() || g == nullptr || !g->has_member(new_id)) {
        return done(join_error(ErrorCode::kCoordinatorNotAvailable, new_id));
      }
      JoinResult r;
      r.generation = generation;
      r.protocol_name = g->protocol.value_or("");
      r.leader = g->leader.value_or("");
      r.member_id = new_id;
      done(std::move(r));
    });
    return;
  }
  update_member_and_rebalance(g, placed, req, std::move(done));
}

void GroupCoordinator::join_known_member(Group& g, JoinRequest& req,
                                         std::function<void(JoinResult)>& done) {
  const std::string& id = req.member_id;
  if (auto pending = g.pending_members.find(id); pending != g.pending_members.end()) {
    cancel_timer(rt_, pending->second);
    g.pending_members.erase(pending);
    return add_member_and_rebalance(g, req, id, std::move(done));
  }
  // As Kafka: a zombie holding a replaced static member's old id is fenced (and stops),
  // checked before the id is looked up; an unknown instance id makes the member rejoin.
  if (fenced_instance(g, id, req.group_instance_id)) {
    return done(join_error(ErrorCode::kFencedInstanceId, id));
  }
  auto it = g.members.find(id);
  if (it == g.members.end() ||
      (req.group_instance_id && g.static_members.count(*req.group_instance_id) == 0)) {
    return done(join_error(ErrorCode::kUnknownMemberId, id));
  }
  Member& m = it->second;
  switch (g.state) {
    case GroupState::kPreparingRebalance:
      return update_member_and_rebalance(g, m, req, std::move(done));
    case GroupState::kCompletingRebalance:
      // The member lost our answer (a retry): the same answer again, unless it changed.
      if (m.same_protocols(req.protocols)) return done(join_result_for(g, m));
      return update_member_and_rebalance(g, m, req, std::move(done));
    case GroupState::kStable:
      // The leader rejoining or a member's subscription changing forces a rebalance.
      if (g.leader == id || !m.same_protocols(req.protocols)) {
        return update_member_and_rebalance(g, m, req, std::move(done));
      }
      return done(join_result_for(g, m));
    case GroupState::kEmpty:
    case GroupState::kDead:
      return done(join_error(ErrorCode::kUnknownMemberId, id));
  }
}

void GroupCoordinator::add_member_and_rebalance(Group& g, JoinRequest& req, std::string member_id,
                                                std::function<void(JoinResult)> done) {
  Member m;
  m.member_id = member_id;
  m.group_instance_id = req.group_instance_id;
  m.client_id = req.client_id;
  m.client_host = req.client_host;
  m.session_timeout_ms = req.session_timeout_ms;
  m.rebalance_timeout_ms = req.rebalance_timeout_ms;
  m.protocols = std::move(req.protocols);
  m.awaiting_join = std::move(done);
  if (m.group_instance_id) g.static_members[*m.group_instance_id] = member_id;
  if (g.members.empty()) g.protocol_type = req.protocol_type;
  if (!g.leader || !g.has_member(*g.leader)) g.leader = member_id;
  g.members.emplace(member_id, std::move(m));
  if (g.initial_join) g.joined_during_delay = true;
  if (g.state == GroupState::kPreparingRebalance) {
    try_complete_join(g);
  } else {
    prepare_rebalance(g, "member " + member_id + " joined");
  }
}

void GroupCoordinator::update_member_and_rebalance(Group& g, Member& m, JoinRequest& req,
                                                   std::function<void(JoinResult)> done) {
  // A second JoinGroup from the same member replaces the first; the first still gets an
  // answer so its connection's responses stay in order.
  auto superseded = std::move(m.awaiting_join);
  m.protocols = std::move(req.protocols);
  m.client_id = req.client_id;
  m.client_host = req.client_host;
  m.session_timeout_ms = req.session_timeout_ms;
  m.rebalance_timeout_ms = req.rebalance_timeout_ms;
  m.awaiting_join = std::move(done);
  std::string member_id = m.member_id;
  if (superseded) superseded(join_error(ErrorCode::kRebalanceInProgress, member_id));
  if (g.state == GroupState::kPreparingRebalance) {
    try_complete_join(g);
  } else {
    prepare_rebalance(g, "member " + member_id + " rejoined");
  }
}

void GroupCoordinator::prepare_rebalance(Group& g, std::string_view reason) {
  std::vector<std::function<void(SyncResult)>> owed;
  if (g.state == GroupState::kCompletingRebalance) {
    // The assignment being synced is for a generation that will not happen.
    for (auto& [id, m] : g.members) {
      m.assignment.clear();
      if (m.awaiting_sync) owed.push_back(std::exchange(m.awaiting_sync, nullptr));
    }
  }
  bool was_empty = g.state == GroupState::kEmpty;
  rt_.info(kComponent, g.id + ": preparing rebalance (generation " +
                           std::to_string(g.generation) + "): " + std::string(reason));
  transition(g, GroupState::kPreparingRebalance);
  cancel_timer(rt_, g.join_timer);
  int32_t timeout = std::max(g.max_rebalance_timeout_ms(), 1);
  std::string gid = g.id;
  auto fire = [this, gid] { on_join_deadline(gid); };
  if (was_empty && config_.initial_rebalance_delay_ms > 0) {
    // Wait a little for more members before the first generation (group.initial.rebalance.
    // delay.ms), extended while members keep arriving, never past the rebalance timeout.
    g.initial_join = true;
    g.joined_during_delay = false;
    g.join_deadline_ms = rt_.now().ms() + timeout;
    g.join_timer = rt_.schedule(milliseconds(std::min(config_.initial_rebalance_delay_ms, timeout)),
                                fire);
  } else {
    g.initial_join = false;
    g.join_timer = rt_.schedule(milliseconds(timeout), fire);
  }
  for (auto& cb : owed) cb(sync_error(ErrorCode::kRebalanceInProgress));
  try_complete_join(g);
}

void GroupCoordinator::try_complete_join(Group& g) {
  if (g.state == GroupState::kPreparingRebalance && !g.initial_join && g.all_members_joined()) {
    complete_join(g);
  }
}

void GroupCoordinator::on_join_deadline(const std::string& group_id) {
  Group* g = find_mut(group_id);
  if (g == nullptr) return;
  g->join_timer = TimerId{0};
  if (g->state != GroupState::kPreparingRebalance) return;
  if (g->initial_join) {
    int64_t remaining = g->join_deadline_ms - rt_.now().ms();
    if (g->joined_during_delay && remaining > 0) {
      g->joined_during_delay = false;
      g->join_timer = rt_.schedule(
          milliseconds(std::min<int64_t>(config_.initial_rebalance_delay_ms, remaining)),
          [this, group_id] { on_join_deadline(group_id); });
      return;
    }
    g->initial_join = false;
  }
  complete_join(*g);
  maybe_drop(*g);
}

void GroupCoordinator::complete_join(Group& g) {
  cancel_timer(rt_, g.join_timer);
  g.initial_join = false;
  // Dynamic members that did not rejoin in time are gone; static members keep their place
  // (they may be restarting) until their session expires.
  std::vector<std::string> late;
  for (const auto& [id, m] : g.members) {
    if (!m.awaiting_join && !m.is_static()) late.push_back(id);
  }
  for (const std::string& id : late) {
    Member& m = g.members.at(id);
    cancel_timer(rt_, m.session_timer);
    g.members.erase(id);
    ++stats_.members_removed_at_join;
    rt_.info(kComponent, g.id + ": removed member " + id + " (did not rejoin in time)");
  }
  ++g.generation;
  ++stats_.rebalances;
  if (g.members.empty()) {
    g.protocol.reset();
    g.leader.reset();
    transition(g, GroupState::kEmpty);
    store_group(g, [this, alive = alive_, gid = g.id](Status s) {
      if (*alive && !s.is_ok()) rt_.warn(kComponent, gid + ": storing the empty group failed: " +
                                                      s.to_string());
    });
    return;
  }
  g.protocol = g.select_protocol();
  if (!g.protocol) g.protocol = g.members.begin()->second.protocols.front().name;
  bool leader_joined = g.leader && g.has_member(*g.leader) &&
                       static_cast<bool>(g.members.at(*g.leader).awaiting_join);
  if (!leader_joined) {
    g.leader = g.members.begin()->first;
    for (const auto& [id, m] : g.members) {
      if (m.awaiting_join) {
        g.leader = id;
        break;
      }
    }
  }
  transition(g, GroupState::kCompletingRebalance);
  rt_.info(kComponent, g.id + ": generation " + std::to_string(g.generation) + " with " +
                           std::to_string(g.members.size()) + " members, protocol " +
                           *g.protocol + ", leader " + *g.leader);
  std::vector<std::pair<std::function<void(JoinResult)>, JoinResult>> answers;
  for (auto& [id, m] : g.members) {
    if (!m.awaiting_join) continue;
    answers.emplace_back(std::exchange(m.awaiting_join, nullptr), join_result_for(g, m));
    schedule_session_expiry(g, m);
  }
  for (auto& [cb, result] : answers) cb(std::move(result));
}

JoinResult GroupCoordinator::join_result_for(const Group& g, const Member& m) const {
  JoinResult r;
  r.generation = g.generation;
  r.protocol_name = g.protocol.value_or("");
  r.leader = g.leader.value_or("");
  r.member_id = m.member_id;
  if (g.leader == m.member_id) {
    for (const auto& [id, other] : g.members) {
      JoinMember jm;
      jm.member_id = id;
      jm.group_instance_id = other.group_instance_id;
      if (const Bytes* md = other.metadata_for(r.protocol_name)) jm.metadata = *md;
      r.members.push_back(std::move(jm));
    }
  }
  return r;
}

// SyncGroup ----------------------------------------------------------------------------------

void GroupCoordinator::sync(SyncRequest req, std::function<void(SyncResult)> done) {
  Group* g = find_mut(req.group_id);
  if (g == nullptr) return done(sync_error(ErrorCode::kUnknownMemberId));
  // Kafka's order: fencing before membership, so a replaced static member's zombie stops.
  if (fenced_instance(*g, req.member_id, req.group_instance_id)) {
    return done(sync_error(ErrorCode::kFencedInstanceId));
  }
  if (!g->has_member(req.member_id)) return done(sync_error(ErrorCode::kUnknownMemberId));
  if (req.generation != g->generation) return done(sync_error(ErrorCode::kIllegalGeneration));
  Member& m = g->members.at(req.member_id);
  switch (g->state) {
    case GroupState::kEmpty:
    case GroupState::kDead:
      return done(sync_error(ErrorCode::kUnknownMemberId));
    case GroupState::kPreparingRebalance:
      return done(sync_error(ErrorCode::kRebalanceInProgress));
    case GroupState::kStable: {
      schedule_session_expiry(*g, m);
      SyncResult r;
      r.assignment = m.assignment;
      return done(std::move(r));
    }
    case GroupState::kCompletingRebalance:
      break;
  }
  auto superseded = std::exchange(m.awaiting_sync, std::move(done));
  schedule_session_expiry(*g, m);
  if (superseded) superseded(sync_error(ErrorCode::kRebalanceInProgress));
  if (g->leader != req.member_id) return;

  // The leader's assignment: store the generation with it before anyone sees it, so that a
  // coordinator restart cannot hand out a different one for the same generation.
  std::map<std::string, Bytes> assignments;
  for (auto& [id, member] : g->members) {
    auto a = req.assignments.find(id);
    assignments[id] = a == req.assignments.end() ? Bytes{} : std::move(a->second);
  }
  GroupRecord record = group_record(*g);
  for (MemberRecord& mr : record.members) mr.assignment = assignments[mr.member_id];
  std::vector<OffsetsRecord> records;
  records.push_back({encode_group_key(g->id), encode_group_value(record)});
  int32_t generation = g->generation;
  std::string gid = g->id;
  log_.append(partition_for(gid), std::move(records),
              [this, alive = alive_, gid, generation,
               assignments = std::move(assignments)](Status s) mutable {
                if (!*alive) return;
                Group* g = find_mut(gid);
                if (g == nullptr || g->state != GroupState::kCompletingRebalance ||
                    g->generation != generation) {
                  return;  // a rebalance overtook the store; its members were answered
                }
                if (!s.is_ok()) {
                  rt_.warn(kComponent, gid + ": storing generation " +
                                           std::to_string(generation) + " failed: " +
                                           s.to_string());
                  std::vector<std::function<void(SyncResult)>> owed;
                  for (auto& [id, m] : g->members) {
                    if (m.awaiting_sync) owed.push_back(std::exchange(m.awaiting_sync, nullptr));
                  }
                  prepare_rebalance(*g, "storing the assignment failed");
                  for (auto& cb : owed) cb(sync_error(ErrorCode::kCoordinatorNotAvailable));
                  return;
                }
                std::vector<std::pair<std::function<void(SyncResult)>, SyncResult>> answers;
                for (auto& [id, m] : g->members) {
                  m.assignment = std::move(assignments[id]);
                  if (m.awaiting_sync) {
                    SyncResult r;
                    r.assignment = m.assignment;
                    answers.emplace_back(std::exchange(m.awaiting_sync, nullptr), std::move(r));
                  }
                }
                transition(*g, GroupState::kStable);
                for (auto& [cb, r] : answers) cb(std::move(r));
              });
}

// Heartbeat, LeaveGroup, session expiry -------------------------------------------------------

ErrorCode GroupCoordinator::heartbeat(const std::string& group_id, const std::string& member_id,
                                      const std::optional<std::string>& group_instance_id,
                                      int32_t generation) {
  Group* g = find_mut(group_id);
  if (g == nullptr) return ErrorCode::kUnknownMemberId;
  if (g->state == GroupState::kDead) return ErrorCode::kCoordinatorNotAvailable;
  if (fenced_instance(*g, member_id, group_instance_id)) return ErrorCode::kFencedInstanceId;
  if (!g->has_member(member_id)) return ErrorCode::kUnknownMemberId;
  if (generation != g->generation) return ErrorCode::kIllegalGeneration;
  if (g->state == GroupState::kEmpty) return ErrorCode::kUnknownMemberId;
  schedule_session_expiry(*g, g->members.at(member_id));
  return g->state == GroupState::kPreparingRebalance ? ErrorCode::kRebalanceInProgress
                                                     : ErrorCode::kNone;
}

LeaveResult GroupCoordinator::leave(const std::string& group_id,
                                    const std::vector<MemberIdentity>& members) {
  LeaveResult out;
  Group* g = find_mut(group_id);
  for (const MemberIdentity& who : members) {
    ErrorCode e = ErrorCode::kNone;
    std::string id = who.member_id;
    if (g == nullptr) {
      e = ErrorCode::kUnknownMemberId;
    } else if (id.empty() && who.group_instance_id) {
      auto it = g->static_members.find(*who.group_instance_id);
      if (it == g->static_members.end()) {
        e = ErrorCode::kUnknownMemberId;
      } else {
        id = it->second;
      }
    } else if (fenced_instance(*g, id, who.group_instance_id)) {
      e = ErrorCode::kFencedInstanceId;
    }
    if (e == ErrorCode::kNone) {
      if (auto p = g->pending_members.find(id); p != g->pending_members.end()) {
        cancel_timer(rt_, p->second);
        g->pending_members.erase(p);
        try_complete_join(*g);
      } else if (!g->has_member(id)) {
        e = ErrorCode::kUnknownMemberId;
      } else {
        remove_member(*g, id, "member left the group");
      }
    }
    out.members.emplace_back(who, e);
  }
  if (g != nullptr) maybe_drop(*g);
  return out;
}

void GroupCoordinator::remove_member(Group& g, const std::string& member_id,
                                     std::string_view reason) {
  auto node = g.members.extract(member_id);
  STRATA_ASSERT(!node.empty());
  Member& m = node.mapped();
  cancel_timer(rt_, m.session_timer);
  if (m.group_instance_id) g.static_members.erase(*m.group_instance_id);
  if (g.leader == member_id) {
    g.leader.reset();
    if (!g.members.empty()) g.leader = g.members.begin()->first;
  }
  rt_.info(kComponent, g.id + ": removed member " + member_id + ": " + std::string(reason));
  switch (g.state) {
    case GroupState::kStable:
    case GroupState::kCompletingRebalance:
      prepare_rebalance(g, std::string(reason) + " (" + member_id + ")");
      break;
    case GroupState::kPreparingRebalance:
      try_complete_join(g);
      break;
    case GroupState::kEmpty:
    case GroupState::kDead:
      break;
  }
  if (m.awaiting_join) m.awaiting_join(join_error(ErrorCode::kUnknownMemberId, member_id));
  if (m.awaiting_sync) m.awaiting_sync(sync_error(ErrorCode::kUnknownMemberId));
}

void GroupCoordinator::schedule_session_expiry(Group& g, Member& m) {
  cancel_timer(rt_, m.session_timer);
  m.session_timer = rt_.schedule(milliseconds(m.session_timeout_ms),
                                 [this, gid = g.id, mid = m.member_id] {
                                   on_session_expired(gid, mid);
                                 });
}

void GroupCoordinator::on_session_expired(const std::string& group_id,
                                          const std::string& member_id) {
  Group* g = find_mut(group_id);
  if (g == nullptr) return;
  auto it = g->members.find(member_id);
  if (it == g->members.end()) return;
  Member& m = it->second;
  m.session_timer = TimerId{0};
  // A member parked in JoinGroup or SyncGroup is alive; the join deadline bounds the wait.
  if (m.awaiting_join || m.awaiting_sync) return schedule_session_expiry(*g, m);
  ++stats_.members_expired;
  remove_member(*g, member_id, "session timeout expired");
  maybe_drop(*g);
}

void GroupCoordinator::schedule_pending_expiry(Group& g, const std::string& member_id,
                                               int32_t timeout_ms) {
  g.pending_members[member_id] =
      rt_.schedule(milliseconds(timeout_ms), [this, gid = g.id, member_id] {
        Group* g = find_mut(gid);
        if (g == nullptr) return;
        if (g->pending_members.erase(member_id) == 0) return;
        try_complete_join(*g);
        maybe_drop(*g);
      });
}

// Offsets -------------------------------------------------------------------------------------

void GroupCoordinator::commit_offsets(CommitRequest req,
                                      std::function<void(std::vector<ErrorCode>)> done) {
  size_t n = req.offsets.size();
  auto all = [&](ErrorCode e) { done(std::vector<ErrorCode>(n, e)); };
  if (req.group_id.empty()) return all(ErrorCode::kInvalidGroupId);
  Group* g = find_mut(req.group_id);
  if (g == nullptr) {
    // A commit outside group management (an assign()-based consumer) may create the group.
    if (req.generation >= 0) return all(ErrorCode::kIllegalGeneration);
    if (groups_.size() >= limits::kGroupsMax) return all(ErrorCode::kCoordinatorNotAvailable);
    g = &get_or_create(req.group_id);
  }
  if (g->state == GroupState::kDead) return all(ErrorCode::kCoordinatorNotAvailable);
  if (fenced_instance(*g, req.member_id, req.group_instance_id)) {
    return all(ErrorCode::kFencedInstanceId);
  }
  if (req.generation < 0 && g->state == GroupState::kEmpty) {
    // Allowed: no member owns anything.
  } else if (g->state == GroupState::kCompletingRebalance) {
    return all(ErrorCode::kRebalanceInProgress);
  } else if (!g->has_member(req.member_id)) {
    return all(ErrorCode::kUnknownMemberId);
  } else if (req.generation != g->generation) {
    return all(ErrorCode::kIllegalGeneration);
  } else {
    schedule_session_expiry(*g, g->members.at(req.member_id));  // a commit proves liveness
  }

  std::vector<ErrorCode> errors(n, ErrorCode::kNone);
  std::vector<OffsetsRecord> records;
  std::vector<std::pair<CommittedKey, CommittedOffset>> stored;
  int64_t now = now_ms();
  for (size_t i = 0; i < n; ++i) {
    const OffsetCommitEntry& e = req.offsets[i];
    std::string metadata = e.metadata.value_or("");
    if (metadata.size() > static_cast<size_t>(config_.offset_metadata_max_bytes)) {
      errors[i] = ErrorCode::kOffsetMetadataTooLarge;
      continue;
    }
    CommittedOffset value{e.offset, e.leader_epoch, std::move(metadata), now};
    records.push_back({encode_offset_key(g->id, e.topic, e.partition), encode_offset_value(value)});
    stored.emplace_back(CommittedKey{e.topic, e.partition}, std::move(value));
  }
  if (records.empty()) {
    done(std::move(errors));
    maybe_drop(*g);
    return;
  }
  std::string gid = g->id;
  ++g->pending_commits;
  log_.append(partition_for(gid), std::move(records),
              [this, alive = alive_, gid, stored = std::move(stored), errors = std::move(errors),
               done = std::move(done)](Status s) mutable {
                if (!*alive) return;
                Group* g = find_mut(gid);
                // Not asserted: the group may have been deleted and created again meanwhile.
                if (g != nullptr && g->pending_commits > 0) --g->pending_commits;
                if (!s.is_ok() || g == nullptr) {
                  if (g != nullptr) maybe_drop(*g);  // a group created for this commit only
                  if (!s.is_ok()) {
                    rt_.warn(kComponent, gid + ": storing offsets failed: " + s.to_string());
                  }
                  for (ErrorCode& e : errors) {
                    if (e == ErrorCode::kNone) e = ErrorCode::kCoordinatorNotAvailable;
                  }
                  return done(std::move(errors));
                }
                for (auto& [key, value] : stored) g->offsets[key] = std::move(value);
                stats_.offset_commits += stored.size();
                done(std::move(errors));
              });
}

OffsetFetchResult GroupCoordinator::fetch_offsets(
    const std::string& group_id,
    const std::optional<std::vector<std::pair<std::string, int32_t>>>& partitions) const {
  OffsetFetchResult out;
  const Group* g = find(group_id);
  auto fill = [](FetchedOffset& f, const CommittedOffset& c) {
    f.offset = c.offset;
    f.leader_epoch = c.leader_epoch;
    f.metadata = c.metadata;
  };
  if (partitions) {
    for (const auto& [topic, partition] : *partitions) {
      FetchedOffset f;
      f.topic = topic;
      f.partition = partition;
      f.metadata = "";
      if (g != nullptr) {
        auto it = g->offsets.find(CommittedKey{topic, partition});
        if (it != g->offsets.end()) fill(f, it->second);
      }
      out.offsets.push_back(std::move(f));
    }
  } else if (g != nullptr) {
    for (const auto& [key, c] : g->offsets) {
      FetchedOffset f;
      f.topic = key.topic;
      f.partition = key.partition;
      fill(f, c);
      out.offsets.push_back(std::move(f));
    }
  }
  return out;
}

// DescribeGroups, ListGroups, DeleteGroups -----------------------------------------------------

GroupDescription GroupCoordinator::describe(const std::string& group_id) const {
  GroupDescription d;
  d.group_id = group_id;
  const Group* g = find(group_id);
  if (g == nullptr) {
    d.state = state_name(GroupState::kDead);
    return d;
  }
  d.state = state_name(g->state);
  d.protocol_type = g->protocol_type;
  bool stable = g->state == GroupState::kStable;
  if (stable) d.protocol = g->protocol.value_or("");
  for (const auto& [id, m] : g->members) {
    MemberDescription md;
    md.member_id = id;
    md.group_instance_id = m.group_instance_id;
    md.client_id = m.client_id;
    md.client_host = m.client_host;
    if (stable) {
      if (const Bytes* b = m.metadata_for(d.protocol)) md.metadata = *b;
      md.assignment = m.assignment;
    }
    d.members.push_back(std::move(md));
  }
  return d;
}

std::vector<ListedGroup> GroupCoordinator::list() const {
  std::vector<ListedGroup> out;
  for (const auto& [id, g] : groups_) {
    if (g->state == GroupState::kDead) continue;
    out.push_back({id, g->protocol_type, std::string(state_name(g->state))});
  }
  return out;
}

void GroupCoordinator::delete_group(const std::string& group_id,
                                    std::function<void(ErrorCode)> done) {
  Group* g = find_mut(group_id);
  if (g == nullptr || g->state == GroupState::kDead) return done(ErrorCode::kGroupIdNotFound);
  if (g->state != GroupState::kEmpty || !g->members.empty()) {
    return done(ErrorCode::kNonEmptyGroup);
  }
  std::vector<OffsetsRecord> records;
  records.push_back({encode_group_key(group_id), std::nullopt});
  for (const auto& [key, c] : g->offsets) {
    records.push_back({encode_offset_key(group_id, key.topic, key.partition), std::nullopt});
  }
  for (auto& [id, t] : g->pending_members) cancel_timer(rt_, t);
  g->pending_members.clear();
  transition(*g, GroupState::kDead);
  log_.append(partition_for(group_id), std::move(records),
              [this, alive = alive_, group_id, done = std::move(done)](Status s) {
                if (!*alive) return;
                Group* g = find_mut(group_id);
                if (!s.is_ok()) {
                  rt_.warn(kComponent, group_id + ": deleting failed: " + s.to_string());
                  // Still there on disk: bring it back (Dead has no edge out, by design).
                  if (g != nullptr) g->state = GroupState::kEmpty;
                  return done(ErrorCode::kCoordinatorNotAvailable);
                }
                groups_.erase(group_id);
                rt_.info(kComponent, group_id + ": deleted");
                done(ErrorCode::kNone);
              });
}

// Storage -------------------------------------------------------------------------------------

GroupRecord GroupCoordinator::group_record(const Group& g) const {
  GroupRecord r;
  r.protocol_type = g.protocol_type;
  r.generation = g.generation;
  r.protocol = g.protocol;
  r.leader = g.leader;
  r.current_state_timestamp_ms = g.state_timestamp_ms;
  for (const auto& [id, m] : g.members) {
    MemberRecord mr;
    mr.member_id = id;
    mr.group_instance_id = m.group_instance_id;
    mr.client_id = m.client_id;
    mr.client_host = m.client_host;
    mr.rebalance_timeout_ms = m.rebalance_timeout_ms;
    mr.session_timeout_ms = m.session_timeout_ms;
    if (g.protocol) {
      if (const Bytes* md = m.metadata_for(*g.protocol)) mr.subscription = *md;
    }
    mr.assignment = m.assignment;
    r.members.push_back(std::move(mr));
  }
  return r;
}

void GroupCoordinator::store_group(Group& g, std::function<void(Status)> done) {
  std::vector<OffsetsRecord> records;
  records.push_back({encode_group_key(g.id), encode_group_value(group_record(g))});
  log_.append(partition_for(g.id), std::move(records), std::move(done));
}

void GroupCoordinator::maybe_drop(Group& g) {
  // A group that never stored anything (a refused or abandoned first join) leaves no trace.
  if (g.state == GroupState::kEmpty && g.generation == 0 && g.members.empty() &&
      g.pending_members.empty() && g.offsets.empty() && g.pending_commits == 0) {
    cancel_timer(rt_, g.join_timer);
    groups_.erase(g.id);
  }
}

void GroupCoordinator::replay(ByteSpan key, std::optional<ByteSpan> value) {
  auto k = decode_offsets_key(key);
  if (!k) {
    ++stats_.corrupt_records;
    rt_.warn(kComponent, "skipping __consumer_offsets record: " + k.status().to_string());
    return;
  }
  ++stats_.records_replayed;
  if (k->kind == OffsetsKey::Kind::kOffset) {
    CommittedKey ck{k->topic, k->partition};
    if (!value) {
      if (Group* g = find_mut(k->group)) g->offsets.erase(ck);
      return;
    }
    auto v = decode_offset_value(*value);
    if (!v) {
      ++stats_.corrupt_records;
      rt_.warn(kComponent, "skipping offset of " + k->group + ": " + v.status().to_string());
      return;
    }
    get_or_create(k->group).offsets[ck] = std::move(*v);
    return;
  }
  if (!value) {
    // The group was deleted (or emptied and expired); its offsets have tombstones of their own.
    if (Group* g = find_mut(k->group)) {
      g->members.clear();
      g->static_members.clear();
      g->generation = 0;
      g->protocol.reset();
      g->leader.reset();
      g->protocol_type.clear();
    }
    return;
  }
  auto v = decode_group_value(*value);
  if (!v) {
    ++stats_.corrupt_records;
    rt_.warn(kComponent, "skipping group " + k->group + ": " + v.status().to_string());
    return;
  }
  Group& g = get_or_create(k->group);
  g.protocol_type = v->protocol_type;
  g.generation = v->generation;
  g.protocol = v->protocol;
  g.leader = v->leader;
  g.state_timestamp_ms = v->current_state_timestamp_ms;
  g.members.clear();
  g.static_members.clear();
  for (MemberRecord& mr : v->members) {
    Member m;
    m.member_id = mr.member_id;
    m.group_instance_id = mr.group_instance_id;
    m.client_id = mr.client_id;
    m.client_host = mr.client_host;
    m.rebalance_timeout_ms = mr.rebalance_timeout_ms;
    m.session_timeout_ms = mr.session_timeout_ms;
    m.protocols.push_back({g.protocol.value_or(""), std::move(mr.subscription)});
    m.assignment = std::move(mr.assignment);
    if (m.group_instance_id) g.static_members[*m.group_instance_id] = m.member_id;
    g.members.emplace(mr.member_id, std::move(m));
  }
}

void GroupCoordinator::finish_load() {
  std::vector<std::string> gone;
  for (auto& [id, g] : groups_) {
    if (g->members.empty()) {
      g->state = GroupState::kEmpty;
      if (g->generation == 0 && g->offsets.empty()) gone.push_back(id);
      continue;
    }
    // The generation that was stored is the one its members hold: they carry on, and must
    // heartbeat within their session timeout like any member.
    g->state = GroupState::kStable;
    for (auto& [mid, m] : g->members) schedule_session_expiry(*g, m);
  }
  for (const std::string& id : gone) groups_.erase(id);
  rt_.info(kComponent, "loaded " + std::to_string(groups_.size()) + " groups from " +
                           std::to_string(stats_.records_replayed) + " records");
}

void GroupCoordinator::schedule_offset_expiry() {
  expiry_timer_ = rt_.schedule(milliseconds(config_.offsets_retention_check_interval_ms), [this] {
    expiry_timer_ = TimerId{0};
    expire_offsets();
    schedule_offset_expiry();
  });
}

void GroupCoordinator::expire_offsets() {
  int64_t now = now_ms();
  std::vector<std::string> emptied;
  for (auto& [id, g] : groups_) {
    // Offsets of a consumer group expire only once it is empty, counted from when it became
    // empty; those of a group that never had members, from their commit.
    if (g->state != GroupState::kEmpty) continue;
    bool managed = !g->protocol_type.empty();
    std::vector<OffsetsRecord> tombstones;
    for (auto it = g->offsets.begin(); it != g->offsets.end();) {
      int64_t since = managed ? std::max(g->state_timestamp_ms, it->second.commit_timestamp_ms)
                              : it->second.commit_timestamp_ms;
      if (now - since >= config_.offsets_retention_ms) {
        tombstones.push_back(
            {encode_offset_key(id, it->first.topic, it->first.partition), std::nullopt});
        it = g->offsets.erase(it);
        ++stats_.offsets_expired;
      } else {
        ++it;
      }
    }
    if (g->offsets.empty() && g->members.empty() && g->pending_members.empty() &&
        g->pending_commits == 0) {
      tombstones.push_back({encode_group_key(id), std::nullopt});
      emptied.push_back(id);
    }
    if (tombstones.empty()) continue;
    log_.append(partition_for(id), std::move(tombstones), [this, alive = alive_, id](Status s) {
      if (*alive && !s.is_ok()) {
        rt_.warn(kComponent, id + ": storing expired offsets failed: " + s.to_string());
      }
    });
  }
  for (const std::string& id : emptied) {
    rt_.info(kComponent, id + ": removed (empty, every offset expired)");
    groups_.erase(id);
  }
}

}  // namespace strata::group
