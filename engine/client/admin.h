// Admin: topic management and cluster description over the Kafka admin APIs (CreateTopics,
// DeleteTopics, CreatePartitions, Metadata, DescribeConfigs).
//
// Every operation first asks any broker for fresh metadata to learn the controller, then
// sends the request there (Kafka answers NOT_CONTROLLER elsewhere). Per-topic outcomes come
// back as TopicResult with Kafka's error code and message; the callback's Result fails only
// when the request itself failed (connection, timeout, malformed answer).
//
// The Admin owns its NetworkClient; callbacks run from the runtime loop.
#pragma once

#include <functional>
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

struct ConfigResourceResult {
  std::string name;
  int16_t error_code = 0;
  std::string message;
  std::vector<ConfigEntry> entries;
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

  Admin(Runtime& rt, ClientOptions client);

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

  NetworkClient& network() { return net_; }

 private:
  void with_controller(std::function<void(Result<NodeId>)> fn);
  void metadata(std::optional<std::vector<std::string>> names, ClusterCallback cb);

  NetworkClient net_;
};

}  // namespace strata::client
