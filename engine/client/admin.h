// Admin: topic management and cluster description over the Kafka admin APIs (CreateTopics,
// DeleteTopics, CreatePartitions, Metadata, DescribeConfigs), and consumer groups
// (ListGroups, DescribeGroups, DeleteGroups, OffsetFetch, OffsetCommit; admin_groups.cc).
//
// Group operations go to the group's coordinator, found with FindCoordinator (retried while
// the answer is COORDINATOR_NOT_AVAILABLE or COORDINATOR_LOAD_IN_PROGRESS); ListGroups asks
// every broker, since each lists only the groups it coordinates.
//
// Every operation first asks any broker for fresh metadata to learn the controller, then
// sends the request there (Kafka answers NOT_CONTROLLER elsewhere). Per-topic outcomes come
// back as TopicResult with Kafka's error code and message; the callback's Result fails only
// when the request itself failed (connection, timeout, malformed answer).
//
// The Admin owns its NetworkClient; callbacks run from the runtime loop.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/client/network_client.h"

namespace strata::client {

struct NewTopic {
  std::string name;
  int32_t partitions = -1;          // -1: the broker's num.partitions
  int16_t replication_factor = -1;  // -1: the broker's default.replication.factor
  std::vector<std::pair<std::string, std::string>> configs;
};

struct TopicResult {
  std::string name;
  int16_t error_code = 0;
  std::string message;  // the broker's error message, may be empty
  // ok, or kafka_error(error_code, message).
  Status status() const;
};

struct ConfigEntry {
  std::string name;
  std::optional<std::string> value;
  bool is_default = false;
  bool read_only = false;
  bool sensitive = false;
  int8_t source = -1;  // Kafka's ConfigSource (1 topic override, 4 static broker, 5 default)
};

// One IncrementalAlterConfigs operation on a topic config key.
struct ConfigChange {
  enum class Op : int8_t { kSet = 0, kDelete = 1, kAppend = 2, kSubtract = 3 };
  std::string name;
  Op op = Op::kSet;
  std::optional<std::string> value;  // null for kDelete
};

struct ConfigResourceResult {
  std::string name;
  int16_t error_code = 0;
  std::string message;
  std::vector<ConfigEntry> entries;
};

// A consumer group as ListGroups names it.
struct GroupListing {
  std::string group_id;
  std::string protocol_type;  // "consumer" for consumer groups
  NodeId coordinator = kNoNode;
};

struct GroupMemberDescription {
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::string client_id;
  std::string client_host;
  // Decoded from the member's assignment when the group is a consumer group.
  std::vector<TopicPartition> assignment;
};

struct GroupDescription {
  std::string group_id;
  int16_t error_code = 0;
  std::string state;  // Empty, PreparingRebalance, CompletingRebalance, Stable, Dead
  std::string protocol_type;
  std::string protocol;  // the assignor chosen
  std::vector<GroupMemberDescription> members;
  NodeId coordinator = kNoNode;
  std::optional<Endpoint> coordinator_endpoint;
  Status status() const;
};

// One partition's committed offset (-1: none) as OffsetFetch returns it.
struct CommittedOffset {
  TopicPartition tp;
  int64_t offset = -1;
  std::optional<std::string> metadata;
  int16_t error_code = 0;
};

struct ClusterDescription {
  std::optional<std::string> cluster_id;
  NodeId controller = kNoNode;
  std::vector<BrokerMetadata> brokers;
  std::vector<TopicMetadata> topics;  // sorted by name
};

class Admin {
 public:
  using TopicsCallback = std::function<void(Result<std::vector<TopicResult>>)>;
  using ClusterCallback = std::function<void(Result<ClusterDescription>)>;
  using ConfigsCallback = std::function<void(Result<std::vector<ConfigResourceResult>>)>;
  using GroupsCallback = std::function<void(Result<std::vector<GroupListing>>)>;
  using DescribeGroupsCallback = std::function<void(Result<std::vector<GroupDescription>>)>;
  using OffsetsCallback = std::function<void(Result<std::vector<CommittedOffset>>)>;
  using CoordinatorCallback = std::function<void(Result<NodeId>)>;

  Admin(Runtime& rt, ClientOptions client);
  // Retry timers still pending (FindCoordinator) find the Admin gone and do nothing.
  ~Admin() { *alive_ = false; }
  Admin(const Admin&) = delete;
  Admin& operator=(const Admin&) = delete;

  void create_topics(std::vector<NewTopic> topics, TopicsCallback cb, int32_t timeout_ms = 30000,
                     bool validate_only = false);
  void delete_topics(std::vector<std::string> names, TopicsCallback cb,
                     int32_t timeout_ms = 30000);
  // Grows each topic to the given total partition count.
  void create_partitions(std::vector<std::pair<std::string, int32_t>> counts, TopicsCallback cb,
                         int32_t timeout_ms = 30000);
  // All topics (Metadata with a null topic list).
  void list_topics(ClusterCallback cb);
  // The named topics; unknown ones come back with UNKNOWN_TOPIC_OR_PARTITION. Never creates.
  void describe_topics(std::vector<std::string> names, ClusterCallback cb);
  // Effective configuration of each named topic.
  void describe_configs(std::vector<std::string> topics, ConfigsCallback cb);
  // Changes single config keys of `topic` (IncrementalAlterConfigs v0), leaving the others.
  void alter_topic_configs(std::string topic, std::vector<ConfigChange> changes,
                           TopicsCallback cb, bool validate_only = false);

  // Consumer groups (admin_groups.cc) ------------------------------------------------------
  // Every group of every broker, sorted by id.
  void list_groups(GroupsCallback cb);
  // One description per name, in the order given; unknown groups come back Dead.
  void describe_groups(std::vector<std::string> groups, DescribeGroupsCallback cb);
  // Per group: ok, NON_EMPTY_GROUP, GROUP_ID_NOT_FOUND, ... (TopicResult's name is the group).
  void delete_groups(std::vector<std::string> groups, TopicsCallback cb);
  // The group's committed offsets: of the given partitions, or of all (nullopt).
  void list_group_offsets(std::string group,
                          std::optional<std::vector<TopicPartition>> partitions,
                          OffsetsCallback cb);
  // Commits offsets for a group with no active members (generation -1, as Kafka's admin
  // client does; the coordinator refuses while members are in the group). Per-partition
  // outcomes come back in CommittedOffset::error_code.
  void alter_group_offsets(std::string group, std::vector<std::pair<TopicPartition, int64_t>>,
                           OffsetsCallback cb);
  // The coordinator of `group`, known to the NetworkClient (metadata fetched if needed).
  void find_coordinator(std::string group, CoordinatorCallback cb);

  NetworkClient& network() { return net_; }

 private:
  void find_coordinator_attempt(std::string group, CoordinatorCallback cb, int attempt);

  void with_controller(std::function<void(Result<NodeId>)> fn);
  void metadata(std::optional<std::vector<std::string>> names, ClusterCallback cb);

  NetworkClient net_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace strata::client
