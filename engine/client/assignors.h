// Client-side partition assignors: the group leader runs one over every member's subscription
// and hands each member its share through SyncGroup. Pure functions of their inputs, so that
// every member, the simulator and the tests compute the same answer from the same data.
//
//   range               per topic, over the members subscribed to it sorted by member id: the
//                       first (partitions % members) members get one extra partition (Kafka's
//                       RangeAssignor). Eager protocol.
//   roundrobin          every topic-partition of every subscribed topic, sorted by topic then
//                       partition, dealt in turn to the members sorted by member id, skipping
//                       members not subscribed to the partition's topic. Eager protocol.
//   cooperative-sticky  balanced (counts within one for members with equal subscriptions), and
//                       sticky: a member keeps the partitions it owned while that stays
//                       balanced, so a rebalance moves as few partitions as possible. With the
//                       cooperative protocol (KIP-429) a partition moving from A to B is left
//                       out of both this time: A revokes it, and B gets it in the follow-up
//                       rebalance that A's revocation triggers.
//
// A group uses the cooperative protocol only if every assignor in partition.assignment.strategy
// is cooperative, as in Kafka's client; otherwise members revoke everything before joining.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/status.h"
#include "engine/client/metadata_cache.h"

namespace strata::client {

struct AssignorMember {
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::vector<std::string> topics;    // the subscription
  std::vector<TopicPartition> owned;  // what the member holds now (subscription v1)
};

// Topic -> partition count, for the topics the leader found in metadata. Topics missing here
// (unknown, or in error) are assigned to nobody.
using PartitionCounts = std::map<std::string, int32_t>;
// Member id -> its partitions, sorted; every member of the input has an entry.
using GroupAssignment = std::map<std::string, std::vector<TopicPartition>>;

enum class RebalanceProtocol { kEager, kCooperative };

struct Assignor {
  std::string_view name;
  RebalanceProtocol protocol;
  GroupAssignment (*assign)(const PartitionCounts&, const std::vector<AssignorMember>&);
};

GroupAssignment assign_range(const PartitionCounts& counts,
                             const std::vector<AssignorMember>& members);
GroupAssignment assign_roundrobin(const PartitionCounts& counts,
                                  const std::vector<AssignorMember>& members);
// The balanced, sticky target, every partition given out (also what a follow-up rebalance
// converges to).
GroupAssignment assign_sticky(const PartitionCounts& counts,
                              const std::vector<AssignorMember>& members);
// assign_sticky minus the partitions that change owner (the first of the two cooperative
// rebalances).
GroupAssignment assign_cooperative_sticky(const PartitionCounts& counts,
                                          const std::vector<AssignorMember>& members);

// "range", "roundrobin", "cooperative-sticky" (Kafka's class names are accepted too); null if
// unknown.
const Assignor* find_assignor(std::string_view name);
// partition.assignment.strategy: a comma-separated list, in order of preference.
Result<std::vector<const Assignor*>> parse_assignment_strategy(std::string_view list);
// Cooperative only if every assignor in the list is.
RebalanceProtocol rebalance_protocol(const std::vector<const Assignor*>& assignors);

}  // namespace strata::client
