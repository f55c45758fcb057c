#include "engine/broker/topic_config.h"

#include <charconv>

namespace strata::broker {

Result<int64_t> parse_long(std::string_view value, int64_t min, int64_t max) {
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  if (ec != std::errc() || ptr != value.data() + value.size() || value.empty()) {
    return Status::invalid_argument("expected an integer");
  }
  if (v < min || v > max) {
    return Status::invalid_argument("expected a value in [" + std::to_string(min) + ", " +
                                    std::to_string(max) + "]");
  }
  return v;
}

Result<double> parse_double(std::string_view value, double min, double max) {
  double v = 0;
  auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  if (ec != std::errc() || ptr != value.data() + value.size() || value.empty()) {
    return Status::invalid_argument("expected a number");
  }
  if (!(v >= min && v <= max)) {
    return Status::invalid_argument("expected a value in [" + format_double(min) + ", " +
                                    format_double(max) + "]");
  }
  return v;
}

std::string format_double(double v) {
  char buf[32];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, v);
  STRATA_ASSERT(ec == std::errc());
  return std::string(buf, ptr);
}

Result<bool> parse_bool(std::string_view value) {
  if (value == "true" || value == "TRUE" || value == "True") return true;
  if (value == "false" || value == "FALSE" || value == "False") return false;
  return Status::invalid_argument("expected true or false");
}

namespace {

template <class T>
Status set_int(T& field, std::string_view value, int64_t min, int64_t max) {
  auto v = parse_long(value, min, max);
  if (!v) return v.status();
  field = static_cast<T>(*v);
  return ok_status();
}

Status set_one_of(std::string& field, std::string_view value,
                  std::initializer_list<std::string_view> allowed) {
  for (auto a : allowed) {
    if (value == a) {
      field = std::string(value);
      return ok_status();
    }
  }
  std::string msg = "expected one of:";
  for (auto a : allowed) msg += " " + std::string(a);
  return Status::invalid_argument(msg);
}

constexpr int32_t kInt32Max = std::numeric_limits<int32_t>::max();

#define STRATA_LONG_KEY(topic, broker, field, min)                                   \
  TopicKeyDef {                                                                      \
    topic, broker,                                                                   \
        [](TopicConfig& c, std::string_view v) { return set_int(c.field, v, min, kLongMax); }, \
        [](const TopicConfig& c) { return std::to_string(c.field); }                 \
  }
#define STRATA_INT_KEY(topic, broker, field, min)                                    \
  TopicKeyDef {                                                                      \
    topic, broker,                                                                   \
        [](TopicConfig& c, std::string_view v) { return set_int(c.field, v, min, kInt32Max); }, \
        [](const TopicConfig& c) { return std::to_string(c.field); }                 \
  }

const std::vector<TopicKeyDef> kTopicKeys = {
    TopicKeyDef{"cleanup.policy", "log.cleanup.policy",
                [](TopicConfig& c, std::string_view v) {
                  return set_one_of(c.cleanup_policy, v,
                                    {"delete", "compact", "compact,delete", "delete,compact"});
                },
                [](const TopicConfig& c) { return c.cleanup_policy; }},
    STRATA_LONG_KEY("retention.ms", "log.retention.ms", retention_ms, -1),
    STRATA_LONG_KEY("retention.bytes", "log.retention.bytes", retention_bytes, -1),
    STRATA_INT_KEY("segment.bytes", "log.segment.bytes", segment_bytes, 14),
    STRATA_LONG_KEY("segment.ms", "log.roll.ms", segment_ms, 1),
    STRATA_LONG_KEY("flush.messages", "log.flush.interval.messages", flush_messages, 1),
    STRATA_LONG_KEY("flush.ms", "log.flush.interval.ms", flush_ms, 0),
    STRATA_INT_KEY("index.interval.bytes", "log.index.interval.bytes", index_interval_bytes, 0),
    STRATA_INT_KEY("segment.index.bytes", "log.index.size.max.bytes", segment_index_bytes, 4),
    STRATA_INT_KEY("max.message.bytes", "message.max.bytes", max_message_bytes, 0),
    TopicKeyDef{"message.timestamp.type", "log.message.timestamp.type",
                [](TopicConfig& c, std::string_view v) {
                  return set_one_of(c.message_timestamp_type, v, {"CreateTime", "LogAppendTime"});
                },
                [](const TopicConfig& c) { return c.message_timestamp_type; }},
    STRATA_INT_KEY("min.insync.replicas", "min.insync.replicas", min_insync_replicas, 1),
    TopicKeyDef{"compression.type", "compression.type",
                [](TopicConfig& c, std::string_view v) {
                  return set_one_of(c.compression_type, v,
                                    {"producer", "uncompressed", "gzip", "snappy", "lz4", "zstd"});
                },
                [](const TopicConfig& c) { return c.compression_type; }},
    STRATA_LONG_KEY("file.delete.delay.ms", "log.segment.delete.delay.ms", file_delete_delay_ms,
                    0),
    TopicKeyDef{"unclean.leader.election.enable", "unclean.leader.election.enable",
                [](TopicConfig& c, std::string_view v) {
                  auto b = parse_bool(v);
                  if (!b) return b.status();
                  c.unclean_leader_election_enable = *b;
                  return ok_status();
                },
                [](const TopicConfig& c) {
                  return std::string(c.unclean_leader_election_enable ? "true" : "false");
                }},
    TopicKeyDef{"min.cleanable.dirty.ratio", "log.cleaner.min.cleanable.ratio",
                [](TopicConfig& c, std::string_view v) {
                  auto r = parse_double(v, 0.0, 1.0);
                  if (!r) return r.status();
                  c.min_cleanable_dirty_ratio = *r;
                  return ok_status();
                },
                [](const TopicConfig& c) { return format_double(c.min_cleanable_dirty_ratio); }},
    STRATA_LONG_KEY("min.compaction.lag.ms", "log.cleaner.min.compaction.lag.ms",
                    min_compaction_lag_ms, 0),
    STRATA_LONG_KEY("max.compaction.lag.ms", "log.cleaner.max.compaction.lag.ms",
                    max_compaction_lag_ms, 1),
    STRATA_LONG_KEY("delete.retention.ms", "log.cleaner.delete.retention.ms",
                    delete_retention_ms, 0),
};

#undef STRATA_LONG_KEY
#undef STRATA_INT_KEY

}  // namespace

const std::vector<TopicKeyDef>& topic_key_defs() { return kTopicKeys; }

const TopicKeyDef* find_topic_key(std::string_view name) {
  for (const auto& k : kTopicKeys) {
    if (k.name == name) return &k;
  }
  return nullptr;
}

const TopicKeyDef* find_topic_key_by_broker_name(std::string_view broker_name) {
  for (const auto& k : kTopicKeys) {
    if (k.broker_name == broker_name) return &k;
  }
  return nullptr;
}

Result<TopicConfig> apply_overrides(const TopicConfig& defaults,
                                    const std::map<std::string, std::string>& overrides) {
  TopicConfig out = defaults;
  for (const auto& [key, value] : overrides) {
    const TopicKeyDef* def = find_topic_key(key);
    if (def == nullptr) return Status::invalid_argument("unknown topic config '" + key + "'");
    Status s = def->set(out, value);
    if (!s) {
      return Status::invalid_argument("invalid value '" + value + "' for " + key + ": " +
                                      s.message());
    }
  }
  return out;
}

}  // namespace strata::broker
