// MetadataCache: what the client believes about the cluster — brokers and their endpoints,
// topics, partition leaders — as of the last Metadata response. Plain data, no I/O: the
// NetworkClient fills it and decides when to refresh (on demand, on errors such as
// NOT_LEADER_OR_FOLLOWER, and when it is older than metadata.max.age.ms).
//
// The response is untrusted: partitions are indexed by the ids they carry (duplicates and
// gaps are tolerated, never asserted on), and a leader that names no known broker is kept as
// is; sending to it fails with a retriable error and triggers another refresh.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/base/ids.h"
#include "engine/protocol/messages.h"
#include "engine/runtime/runtime.h"

namespace strata::client {

struct TopicPartition {
  std::string topic;
  PartitionId partition{0};
  auto operator<=>(const TopicPartition&) const = default;
  std::string to_string() const { return topic + "-" + std::to_string(partition.value()); }
};

struct PartitionMetadata {
  PartitionId id{0};
  int16_t error_code = 0;
  NodeId leader = kNoNode;
  LeaderEpoch leader_epoch = kNoLeaderEpoch;
  std::vector<NodeId> replicas;
  std::vector<NodeId> isr;
  std::vector<NodeId> offline;
};

struct TopicMetadata {
  std::string name;
  int16_t error_code = 0;
  bool internal = false;
  std::vector<PartitionMetadata> partitions;  // sorted by id
};

struct BrokerMetadata {
  NodeId id{0};
  Endpoint endpoint;
  std::optional<std::string> rack;
};

// Converts the decoded response into plain structs (sorted topics by name, partitions by id).
std::vector<TopicMetadata> topics_from_response(const proto::MetadataResponse& resp);

class MetadataCache {
 public:
  // Brokers are replaced wholesale; the topics present in the response replace their old
  // entries. `full` means the response lists every topic: topics missing from it are gone.
  void update(const proto::MetadataResponse& resp, MonoTime now, bool full);

  const TopicMetadata* topic(const std::string& name) const;
  // The leader of a partition, or kNoNode when unknown or leaderless.
  NodeId leader_for(const TopicPartition& tp) const;
  // Partition count of a topic the cache knows without error; nullopt otherwise.
  std::optional<int32_t> partition_count(const std::string& topic) const;
  std::optional<Endpoint> endpoint(NodeId node) const;
  const std::map<NodeId, BrokerMetadata>& brokers() const { return brokers_; }
  const std::map<std::string, TopicMetadata>& topics() const { return topics_; }
  NodeId controller() const { return controller_; }
  const std::optional<std::string>& cluster_id() const { return cluster_id_; }

  // Bumped by every update, so waiters can tell a fresh answer from the one they had.
  uint64_t version() const { return version_; }
  MonoTime updated_at() const { return updated_at_; }
  bool empty() const { return version_ == 0; }

 private:
  std::map<NodeId, BrokerMetadata> brokers_;
  std::map<std::string, TopicMetadata> topics_;
  NodeId controller_ = kNoNode;
  std::optional<std::string> cluster_id_;
  uint64_t version_ = 0;
  MonoTime updated_at_;
};

}  // namespace strata::client

template <>
struct std::hash<strata::client::TopicPartition> {
  size_t operator()(const strata::client::TopicPartition& tp) const {
    return std::hash<std::string>()(tp.topic) * 31 + size_t(tp.partition.value());
  }
};
