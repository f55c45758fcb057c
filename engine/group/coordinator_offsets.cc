// GroupCoordinator, second half: committed offsets (commit, fetch, expiry), the admin calls
// (describe, list, delete), and storage (the group record, replay of __consumer_offsets).
// Membership and rebalancing are in coordinator.cc.
#include <algorithm>

#include "engine/base/limits.h"
#include "engine/group/coordinator.h"
#include "engine/group/coordinator_internal.h"

namespace strata::group {

using internal::cancel_timer;
using internal::fenced_instance;
using internal::kComponent;

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
    cancel_timer(rt_, g.sync_timer);
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

void GroupCoordinator::finish_load(std::optional<int32_t> partition) {
  std::vector<std::string> gone;
  size_t loaded = 0;
  for (auto& [id, g] : groups_) {
    if (partition && partition_for(id) != *partition) continue;
    ++loaded;
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
  std::string where =
      partition ? " of " + std::string(kOffsetsTopic) + "-" + std::to_string(*partition) : "";
  rt_.info(kComponent, "loaded " + std::to_string(loaded - gone.size()) + " groups" + where +
                           " from " + std::to_string(stats_.records_replayed) + " records");
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
    // Init-capture: clang before 16 cannot capture a structured binding by name.
    log_.append(
        partition_for(id), std::move(tombstones), [this, alive = alive_, gid = id](Status s) {
          if (*alive && !s.is_ok()) {
            rt_.warn(kComponent, gid + ": storing expired offsets failed: " + s.to_string());
          }
        });
  }
  for (const std::string& id : emptied) {
    rt_.info(kComponent, id + ": removed (empty, every offset expired)");
    groups_.erase(id);
  }
}

}  // namespace strata::group
