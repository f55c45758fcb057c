#include "engine/group/coordinator.h"

#include <algorithm>
#include <cstdio>
#include <utility>

#include "engine/base/assert.h"
#include "engine/base/limits.h"
#include "engine/group/coordinator_internal.h"

namespace strata::group {

using internal::cancel_timer;
using internal::fenced_instance;
using internal::kComponent;

namespace {

// What a member takes from each JoinGroup it sends (its protocols are handled apart).
void take_join_fields(Member& m, const JoinRequest& req) {
  m.client_id = req.client_id;
  m.client_host = req.client_host;
  m.session_timeout_ms = req.session_timeout_ms;
  m.rebalance_timeout_ms = req.rebalance_timeout_ms;
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
    cancel_timer(rt_, g->sync_timer);
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
  take_join_fields(m, req);
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
  take_join_fields(m, req);
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
  take_join_fields(m, req);
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
  clear_pending_sync(g);
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
  // Every member must now sync within the rebalance timeout (Kafka's pending-sync members):
  // a member that joined and went silent would otherwise hold the group in
  // CompletingRebalance, or keep an assignment nobody reads, until its session expires.
  clear_pending_sync(g);
  for (const auto& [id, m] : g.members) g.pending_sync.insert(id);
  g.sync_timer = rt_.schedule(milliseconds(std::max(g.max_rebalance_timeout_ms(), 1)),
                              [this, gid = g.id, generation = g.generation] {
                                on_sync_deadline(gid, generation);
                              });
  std::vector<std::pair<std::function<void(JoinResult)>, JoinResult>> answers;
  for (auto& [id, m] : g.members) {
    if (!m.awaiting_join) continue;
    answers.emplace_back(std::exchange(m.awaiting_join, nullptr), join_result_for(g, m));
    schedule_session_expiry(g, m);
  }
  for (auto& [cb, result] : answers) cb(std::move(result));
}

void GroupCoordinator::clear_pending_sync(Group& g) {
  g.pending_sync.clear();
  cancel_timer(rt_, g.sync_timer);
  g.sync_timer = TimerId{0};
}

void GroupCoordinator::on_sync_deadline(const std::string& group_id, int32_t generation) {
  Group* g = find_mut(group_id);
  if (g == nullptr) return;
  g->sync_timer = TimerId{0};
  if (g->generation != generation || (g->state != GroupState::kCompletingRebalance &&
                                      g->state != GroupState::kStable)) {
    return;
  }
  std::vector<std::string> late(g->pending_sync.begin(), g->pending_sync.end());
  g->pending_sync.clear();
  for (const std::string& id : late) {
    if (!g->has_member(id)) continue;
    ++stats_.members_removed_at_sync;
    remove_member(*g, id, "did not sync within the rebalance timeout");
  }
  maybe_drop(*g);
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
  if (g->state == GroupState::kCompletingRebalance || g->state == GroupState::kStable) {
    g->pending_sync.erase(req.member_id);
    if (g->pending_sync.empty()) clear_pending_sync(*g);
  }
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
  g.pending_sync.erase(member_id);
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

}  // namespace strata::group
