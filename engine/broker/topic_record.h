// The metadata record that describes one topic, as kept in the broker's metadata log
// (`<log.dir>/__cluster_metadata-0`). The log is keyed by topic name; a record with a value
// is the topic's current description and a record without one (a tombstone) deletes it, so
// replaying the log from the start rebuilds the topic table (latest record per key wins).
//
// Value layout (version 0), big-endian:
//   int16  version (= 0)
//   16     topic id (UUID bytes)
//   int32  partition count
//   int32  config override count N, then N × { int16 len, key bytes, int16 len, value bytes }
#pragma once

#include <array>
#include <map>
#include <string>

#include "engine/base/bytes.h"
#include "engine/base/status.h"

namespace strata::broker {

using TopicUuid = std::array<uint8_t, 16>;

struct TopicRecord {
  std::string name;
  TopicUuid id{};
  int32_t partitions = 0;
  std::map<std::string, std::string> configs;
  bool operator==(const TopicRecord&) const = default;
};

Bytes encode_topic_record_value(const TopicRecord& record);
// `name` comes from the record key. Corrupt values give Status::corruption.
Result<TopicRecord> decode_topic_record_value(std::string name, ByteSpan value);

// Kafka's legal topic names: 1..249 characters from [a-zA-Z0-9._-], not "." or "..".
// Returns an explanation when invalid (Kafka's INVALID_TOPIC_EXCEPTION).
Status validate_topic_name(std::string_view name);

}  // namespace strata::broker
