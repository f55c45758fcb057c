// The group coordinator: Kafka's classic consumer-group protocol as a state machine.
//
// Sans-I/O: requests come in as plain calls with a completion callback, time and timers come
// from `Runtime` (session timeouts, the delayed join, offset expiry), and durable state goes
// out through `GroupLog` as `__consumer_offsets` records (offsets_codec.h). The broker
// decodes the wire requests, calls in here and encodes the answers
// (engine/broker/handle_*group*.cc, handle_offset_*.cc); the simulator runs the same code.
//
// A group moves through
//
//   Empty ──join──▶ PreparingRebalance ──all joined / timeout──▶ CompletingRebalance
//     ▲                  ▲        ▲                                   │ leader's SyncGroup
//     │ last member      │        └──── join, leave, session expiry ──┤ (stored first)
//     │ leaves/expires   └──────────────── join, leave, expiry ◀── Stable ◀┘
//   Dead: deleted (DeleteGroups, or every offset expired while Empty).
//
// Each completed join starts a new generation; SyncGroup, Heartbeat and OffsetCommit from
// another generation or from an unknown member are fenced (ILLEGAL_GENERATION,
// UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID). The join is a pending operation: it completes when
// every known member has rejoined, or at the deadline (the members' largest rebalance
// timeout; group.initial.rebalance.delay.ms, extended while members keep arriving, for a
// group that was empty), removing dynamic members that did not rejoin.
//
// Callbacks run at most once each, possibly inside the call that was given them. Destroying
// the coordinator cancels its timers and drops callbacks not yet run.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/group/group.h"
#include "engine/group/group_config.h"
#include "engine/group/offsets_codec.h"
#include "engine/protocol/errors.h"
#include "engine/runtime/runtime.h"

namespace strata::group {

using proto::ErrorCode;

// One record for __consumer_offsets; a null value is a tombstone.
struct OffsetsRecord {
  Bytes key;
  std::optional<Bytes> value;
};

// Where the coordinator's durable state goes. The broker appends to its log; `done` runs once
// the records are stored as the log promises (possibly before append() returns).
class GroupLog {
 public:
  virtual ~GroupLog() = default;
  virtual void append(int32_t partition, std::vector<OffsetsRecord> records,
                      std::function<void(Status)> done) = 0;
};

struct JoinRequest {
  std::string group_id;
  std::string member_id;  // empty for a new member
  std::optional<std::string> group_instance_id;
  std::string client_id;
  std::string client_host;
  int32_t session_timeout_ms = 0;
  int32_t rebalance_timeout_ms = 0;
  std::string protocol_type;
  std::vector<Protocol> protocols;
  bool require_known_member_id = false;  // JoinGroup v4+: MEMBER_ID_REQUIRED handshake
};

struct SyncRequest {
  std::string group_id;
  int32_t generation = -1;
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::map<std::string, Bytes> assignments;  // the leader's only
};

struct MemberIdentity {
  std::string member_id;  // may be empty when group_instance_id names a static member
  std::optional<std::string> group_instance_id;
};

struct LeaveResult {
  ErrorCode error = ErrorCode::kNone;  // for the whole request
  std::vector<std::pair<MemberIdentity, ErrorCode>> members;
};

struct OffsetCommitEntry {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  int32_t leader_epoch = -1;
  std::optional<std::string> metadata;
};

struct CommitRequest {
  std::string group_id;
  int32_t generation = -1;  // -1 with an empty member id: a commit outside group management
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::vector<OffsetCommitEntry> offsets;
};

struct FetchedOffset {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = -1;  // -1: nothing committed
  int32_t leader_epoch = -1;
  std::optional<std::string> metadata;
  ErrorCode error = ErrorCode::kNone;
};

struct OffsetFetchResult {
  ErrorCode error = ErrorCode::kNone;
  std::vector<FetchedOffset> offsets;
};

struct MemberDescription {
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::string client_id;
  std::string client_host;
  Bytes metadata;    // Stable groups only
  Bytes assignment;  // Stable groups only
};

struct GroupDescription {
  ErrorCode error = ErrorCode::kNone;
  std::string group_id;
  std::string state;  // Kafka's names: Empty, PreparingRebalance, …, Dead
  std::string protocol_type;
  std::string protocol;  // Stable groups only
  std::vector<MemberDescription> members;
};

struct ListedGroup {
  std::string group_id;
  std::string protocol_type;
  std::string state;
};

struct CoordinatorStats {
  uint64_t rebalances = 0;         // joins completed (generations started)
  uint64_t members_expired = 0;    // session timeouts
  uint64_t members_removed_at_join = 0;  // did not rejoin before the join deadline
  uint64_t members_removed_at_sync = 0;  // joined, then did not sync in time
  uint64_t offset_commits = 0;     // partitions committed
  uint64_t offsets_expired = 0;
  uint64_t records_replayed = 0;
  uint64_t corrupt_records = 0;    // skipped while replaying
};

class GroupCoordinator {
 public:
  GroupCoordinator(Runtime& runtime, GroupConfig config, GroupLog& log);
  ~GroupCoordinator();
  GroupCoordinator(const GroupCoordinator&) = delete;
  GroupCoordinator& operator=(const GroupCoordinator&) = delete;

  // The number of __consumer_offsets partitions (from the existing topic, else the config).
  void set_partition_count(int32_t partitions);
  int32_t partition_count() const { return partitions_; }
  int32_t partition_for(std::string_view group_id) const {
    return partition_for_group(group_id, partitions_);
  }

  // Rebuilding from __consumer_offsets: feed every record of every partition in offset
  // order, then call finish_load(). Groups with members come back Stable; their members must
  // heartbeat within their session timeout or are removed. A partition this broker takes
  // over later is fed alone and finished with finish_load(partition): only its groups.
  void replay(ByteSpan key, std::optional<ByteSpan> value);
  void finish_load(std::optional<int32_t> partition = std::nullopt);

  void join(JoinRequest req, std::function<void(JoinResult)> done);
  void sync(SyncRequest req, std::function<void(SyncResult)> done);
  ErrorCode heartbeat(const std::string& group_id, const std::string& member_id,
                      const std::optional<std::string>& group_instance_id, int32_t generation);
  LeaveResult leave(const std::string& group_id, const std::vector<MemberIdentity>& members);
  void commit_offsets(CommitRequest req, std::function<void(std::vector<ErrorCode>)> done);
  // `partitions` nullopt: every committed offset of the group.
  OffsetFetchResult fetch_offsets(
      const std::string& group_id,
      const std::optional<std::vector<std::pair<std::string, int32_t>>>& partitions) const;
  GroupDescription describe(const std::string& group_id) const;
  std::vector<ListedGroup> list() const;
  void delete_group(const std::string& group_id, std::function<void(ErrorCode)> done);

  const Group* find(const std::string& group_id) const;
  const std::map<std::string, std::unique_ptr<Group>>& groups() const { return groups_; }
  const CoordinatorStats& stats() const { return stats_; }

 private:
  Group* find_mut(const std::string& group_id);
  Group& get_or_create(const std::string& group_id);
  int64_t now_ms() const;

  void join_new_member(Group& g, JoinRequest& req, std::function<void(JoinResult)>& done);
  void join_static_member(Group& g, JoinRequest& req, std::function<void(JoinResult)>& done);
  void join_known_member(Group& g, JoinRequest& req, std::function<void(JoinResult)>& done);
  void add_member_and_rebalance(Group& g, JoinRequest& req, std::string member_id,
                                std::function<void(JoinResult)> done);
  void update_member_and_rebalance(Group& g, Member& m, JoinRequest& req,
                                   std::function<void(JoinResult)> done);

  void prepare_rebalance(Group& g, std::string_view reason);
  void try_complete_join(Group& g);
  void on_join_deadline(const std::string& group_id);
  void clear_pending_sync(Group& g);
  void on_sync_deadline(const std::string& group_id, int32_t generation);
  void complete_join(Group& g);
  JoinResult join_result_for(const Group& g, const Member& m) const;

  void remove_member(Group& g, const std::string& member_id, std::string_view reason);
  void transition(Group& g, GroupState to);
  void schedule_session_expiry(Group& g, Member& m);
  void on_session_expired(const std::string& group_id, const std::string& member_id);
  void schedule_pending_expiry(Group& g, const std::string& member_id, int32_t timeout_ms);

  void store_group(Group& g, std::function<void(Status)> done);
  GroupRecord group_record(const Group& g) const;
  void maybe_drop(Group& g);

  void schedule_offset_expiry();
  void expire_offsets();

  std::string new_member_id(std::string_view prefix);

  Runtime& rt_;
  GroupConfig config_;
  GroupLog& log_;
  int32_t partitions_;
  std::map<std::string, std::unique_ptr<Group>> groups_;
  CoordinatorStats stats_;
  TimerId expiry_timer_{0};
  // Set while the object is alive; timers and log callbacks check it (shared_ptr so that a
  // callback outliving the coordinator sees it cleared).
  std::shared_ptr<bool> alive_;
};

}  // namespace strata::group
