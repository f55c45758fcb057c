// Topic-level configuration (Kafka's topic config names: retention.ms, segment.bytes, …) and
// the broker keys that supply their defaults (log.retention.ms, log.segment.bytes, …).
// One table drives server.properties parsing, CreateTopics validation and DescribeConfigs.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/status.h"

namespace strata::broker {

inline constexpr int64_t kLongMax = std::numeric_limits<int64_t>::max();

struct TopicConfig {
  std::string cleanup_policy = "delete";  // delete | compact | compact,delete
  int64_t retention_ms = 7 * 24 * 3600 * 1000LL;
  int64_t retention_bytes = -1;
  int32_t segment_bytes = 1 << 30;
  int64_t segment_ms = 7 * 24 * 3600 * 1000LL;
  int64_t flush_messages = kLongMax;
  int64_t flush_ms = kLongMax;
  int32_t index_interval_bytes = 4096;
  int32_t segment_index_bytes = 10 * 1024 * 1024;
  int32_t max_message_bytes = 1048588;
  std::string message_timestamp_type = "CreateTime";  // CreateTime | LogAppendTime
  int32_t min_insync_replicas = 1;
  std::string compression_type = "producer";
  int64_t file_delete_delay_ms = 60000;
  bool unclean_leader_election_enable = false;
  double min_cleanable_dirty_ratio = 0.5;
  int64_t min_compaction_lag_ms = 0;
  int64_t max_compaction_lag_ms = kLongMax;
  int64_t delete_retention_ms = 86400000;
};

// How a topic config key maps to its broker default key and how it is parsed and printed.
struct TopicKeyDef {
  std::string_view name;         // topic-level key, e.g. "retention.ms"
  std::string_view broker_name;  // broker default key, e.g. "log.retention.ms"
  Status (*set)(TopicConfig&, std::string_view value);
  std::string (*get)(const TopicConfig&);
};

const std::vector<TopicKeyDef>& topic_key_defs();
const TopicKeyDef* find_topic_key(std::string_view name);
const TopicKeyDef* find_topic_key_by_broker_name(std::string_view broker_name);

// Applies per-topic overrides on top of broker defaults. An unknown key or bad value is an
// error naming the key and value (Kafka answers INVALID_CONFIG).
Result<TopicConfig> apply_overrides(const TopicConfig& defaults,
                                    const std::map<std::string, std::string>& overrides);

// Value parsers shared with the broker config; errors name the expected form.
Result<int64_t> parse_long(std::string_view value, int64_t min, int64_t max);
Result<bool> parse_bool(std::string_view value);
Result<double> parse_double(std::string_view value, double min, double max);
// Shortest text that reads back as `v` ("0.5").
std::string format_double(double v);

}  // namespace strata::broker
