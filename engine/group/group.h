// One consumer group as the coordinator keeps it: members, generation, chosen protocol,
// committed offsets, and the answers parked while a rebalance is in progress.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/base/bytes.h"
#include "engine/base/ids.h"
#include "engine/group/offsets_codec.h"
#include "engine/protocol/errors.h"

namespace strata::group {

enum class GroupState : uint8_t {
  kEmpty,
  kPreparingRebalance,
  kCompletingRebalance,
  kStable,
  kDead,
};

// Kafka's names, as DescribeGroups and ListGroups report them.
std::string_view state_name(GroupState s);
// The edges of Kafka's group state diagram; transition() asserts on anything else.
bool valid_transition(GroupState from, GroupState to);

// One (assignor name, member metadata) pair from JoinGroup, in the member's preference order.
struct Protocol {
  std::string name;
  Bytes metadata;
};

struct JoinMember {
  std::string member_id;
  std::optional<std::string> group_instance_id;
  Bytes metadata;
};

struct JoinResult {
  proto::ErrorCode error = proto::ErrorCode::kNone;
  int32_t generation = -1;
  std::string protocol_name;
  std::string leader;
  std::string member_id;
  std::vector<JoinMember> members;  // the leader's answer only
};

struct SyncResult {
  proto::ErrorCode error = proto::ErrorCode::kNone;
  Bytes assignment;
};

struct Member {
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::string client_id;
  std::string client_host;
  int32_t session_timeout_ms = 0;
  int32_t rebalance_timeout_ms = 0;
  std::vector<Protocol> protocols;
  Bytes assignment;
  // The JoinGroup / SyncGroup answer owed to this member while a rebalance is in progress.
  std::function<void(JoinResult)> awaiting_join;
  std::function<void(SyncResult)> awaiting_sync;
  TimerId session_timer{0};

  bool is_static() const { return group_instance_id.has_value(); }
  const Bytes* metadata_for(std::string_view protocol) const;
  bool same_protocols(const std::vector<Protocol>& other) const;
};

struct CommittedKey {
  std::string topic;
  int32_t partition = 0;
  auto operator<=>(const CommittedKey&) const = default;
};

struct Group {
  std::string id;
  GroupState state = GroupState::kEmpty;
  int32_t generation = 0;
  std::string protocol_type;  // set by the first member; kept while members remain
  std::optional<std::string> protocol;
  std::optional<std::string> leader;
  int64_t state_timestamp_ms = -1;  // when the group entered its current state
  std::map<std::string, Member> members;             // by member id
  std::map<std::string, std::string> static_members;  // group.instance.id -> member id
  // Member ids handed out with MEMBER_ID_REQUIRED and not yet used, with their expiry timer.
  std::map<std::string, TimerId> pending_members;
  std::map<CommittedKey, CommittedOffset> offsets;
  // Offset commits sent to the log and not yet completed: the group is kept while any are
  // in flight (Kafka's pendingOffsetCommits), so that their completion finds it.
  int32_t pending_commits = 0;

  // Members of the current generation that have not sent SyncGroup yet, and the deadline
  // (the rebalance timeout) after which they are removed and the group rebalances again.
  std::set<std::string> pending_sync;
  TimerId sync_timer{0};

  // The delayed join (a pending operation while PreparingRebalance).
  TimerId join_timer{0};
  bool initial_join = false;       // group.initial.rebalance.delay.ms is running
  bool joined_during_delay = false;
  int64_t join_deadline_ms = 0;    // the initial delay never extends past this

  bool has_member(const std::string& member_id) const { return members.count(member_id) > 0; }
  size_t awaiting_join_count() const;
  bool all_members_joined() const;
  int32_t max_rebalance_timeout_ms() const;
  // Whether a member with `protocols` could join: the protocol type matches and some protocol
  // is supported by every member other than `except`.
  bool supports(std::string_view type, const std::vector<Protocol>& protocols,
                std::string_view except) const;
  // The protocol every member supports that most members prefer (ties: the name first in
  // order), as Kafka's coordinator chooses it.
  std::optional<std::string> select_protocol() const;
};

}  // namespace strata::group
