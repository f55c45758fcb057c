// Records of the internal `__consumer_offsets` topic, in Kafka's own layout so that tools
// reading the topic understand them. Two kinds, told apart by the key's version:
//
//   offset commit   key v0/v1: group, topic, partition      value v0..v3 (we write v3:
//                   offset, leader epoch, metadata, commit timestamp)
//   group metadata  key v2: group                           value v0..v3 (we write v3:
//                   protocol type, generation, protocol, leader, state timestamp, members)
//
// A null value is a tombstone: the offset or the group is gone. The topic is compacted by
// key, so replaying it from the start rebuilds the coordinator's state.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/bytes.h"
#include "engine/base/status.h"

namespace strata::group {

inline constexpr std::string_view kOffsetsTopic = "__consumer_offsets";

struct CommittedOffset {
  int64_t offset = -1;
  int32_t leader_epoch = -1;
  std::string metadata;
  int64_t commit_timestamp_ms = -1;
};

struct MemberRecord {
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::string client_id;
  std::string client_host;
  int32_t rebalance_timeout_ms = 0;
  int32_t session_timeout_ms = 0;
  Bytes subscription;  // the member's metadata for the chosen protocol
  Bytes assignment;
};

struct GroupRecord {
  std::string protocol_type;
  int32_t generation = 0;
  std::optional<std::string> protocol;
  std::optional<std::string> leader;
  int64_t current_state_timestamp_ms = -1;
  std::vector<MemberRecord> members;
};

struct OffsetsKey {
  enum class Kind { kOffset, kGroup } kind = Kind::kOffset;
  std::string group;
  std::string topic;      // kOffset only
  int32_t partition = 0;  // kOffset only
};

Bytes encode_offset_key(std::string_view group, std::string_view topic, int32_t partition);
Bytes encode_offset_value(const CommittedOffset& value);
Bytes encode_group_key(std::string_view group);
Bytes encode_group_value(const GroupRecord& value);

// Decoders accept every version Kafka has written; anything else is kCorruption naming the
// field, never an assertion (the bytes come from disk).
Result<OffsetsKey> decode_offsets_key(ByteSpan key);
Result<CommittedOffset> decode_offset_value(ByteSpan value);
Result<GroupRecord> decode_group_value(ByteSpan value);

// The __consumer_offsets partition holding a group: Kafka's abs(groupId.hashCode()) % n,
// with Java's String.hashCode over the UTF-16 code units of the group id.
int32_t partition_for_group(std::string_view group, int32_t partitions);

}  // namespace strata::group
