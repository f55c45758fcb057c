// Broker configuration: Kafka's server.properties keys with Kafka's defaults.
//
// Unknown keys produce a warning that names them; a bad value is an error naming the file,
// line, key and value, and `strata broker` exits non-zero on it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/ids.h"
#include "engine/base/status.h"
#include "engine/broker/properties.h"
#include "engine/broker/topic_config.h"
#include "engine/group/group_config.h"
#include "engine/runtime/runtime.h"

namespace strata::broker {

struct Listener {
  std::string name = "PLAINTEXT";
  std::string host;  // empty or 0.0.0.0 = all interfaces
  uint16_t port = 9092;
};

// The controller's node id and where it listens: `controller.quorum.voters=id@host:port`.
struct ControllerVoter {
  NodeId id{0};
  Endpoint endpoint;
};

struct BrokerConfig {
  NodeId node_id{0};
  // The cluster's controller. Unset, or naming this node: this node is the controller (and a
  // broker). Another node: this broker registers with it and follows its metadata log.
  std::optional<ControllerVoter> controller;
  std::vector<Listener> listeners{Listener{}};
  std::vector<Listener> advertised_listeners;  // empty: same as listeners
  std::vector<std::string> log_dirs{"/tmp/kafka-logs"};
  int32_t num_partitions = 1;
  int16_t default_replication_factor = 1;
  bool auto_create_topics_enable = true;
  bool delete_topic_enable = true;
  int64_t replica_lag_time_max_ms = 30000;
  // A broker's session with the controller: heartbeats every interval, fenced after the
  // timeout without one.
  int64_t broker_heartbeat_interval_ms = 2000;
  int64_t broker_session_timeout_ms = 9000;
  int32_t socket_request_max_bytes = 104857600;
  // The most a Fetch response carries whatever the request asks (KIP-74's first batch aside).
  int32_t fetch_max_bytes = 57671680;
  int64_t log_retention_check_interval_ms = 300000;
  int64_t log_flush_scheduler_interval_ms = kLongMax;
  int32_t queued_max_requests = 500;
  // The log cleaner (compacted topics): whether it runs, how long it sleeps when no log is
  // dirty enough, and its key map's budget for one pass.
  bool log_cleaner_enable = true;
  int64_t log_cleaner_backoff_ms = 15000;
  int64_t log_cleaner_dedupe_buffer_size = 134217728;
  int64_t producer_id_expiration_ms = 86400000;  // idle idempotent producers are forgotten
  std::string cluster_id;  // empty: generated on first start and kept in meta.properties
  TopicConfig topic_defaults;  // log.* keys
  group::GroupConfig group;    // group.* and offsets.* keys

  // The listener address clients are told to connect to.
  Listener advertised() const;
  // Whether this node runs the controller.
  bool is_controller() const { return !controller || controller->id == node_id; }
};

struct ConfigLoad {
  BrokerConfig config;
  std::vector<std::string> warnings;  // unknown keys, ignored keys
};

// Builds a config from parsed entries (file entries first, then --override entries).
Result<ConfigLoad> load_broker_config(const std::vector<PropertyEntry>& entries,
                                      std::string_view source);

// Parses "1@host:port" (one voter only).
Result<ControllerVoter> parse_controller_voter(std::string_view value);

// Parses "PLAINTEXT://host:port,NAME://:port".
Result<std::vector<Listener>> parse_listeners(std::string_view value);

// Keys of real Kafka that strata accepts and does not act on (threads, SASL, …): they are
// reported once as "accepted, no effect" instead of "unknown".
bool is_known_ignored_key(std::string_view key);

}  // namespace strata::broker
