// The consumer's embedded protocol: the bytes a member puts in JoinGroup's protocol metadata
// (its subscription) and the bytes the leader hands out through SyncGroup (each member's
// assignment). The broker never looks inside; every Kafka client reads and writes them, so the
// layouts are Kafka's own (ConsumerProtocolSubscription / ConsumerProtocolAssignment).
//
// Subscription, big-endian, non-flexible:
//   int16  version                 0 or 1 written; any higher version is read as far as v1
//   int32  topic count, then per topic: int16 length + UTF-8 name
//   int32  user_data length (-1 null) + bytes
//   v1+:   int32 owned topic count, then per topic: string name, int32 count + int32 partitions
// Assignment:
//   int16  version
//   int32  topic count, then per topic: string name, int32 count + int32 partitions
//   int32  user_data length (-1 null) + bytes
//
// Decoding is untrusted input: truncation, negative lengths or counts beyond the client's
// limits come back as a Status, never an assertion. Fields a later version appends after the
// ones we know are ignored, as Kafka's own clients do.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "engine/base/bytes.h"
#include "engine/base/status.h"
#include "engine/client/metadata_cache.h"

namespace strata::client {

inline constexpr int16_t kConsumerProtocolVersionMax = 1;
inline constexpr const char* kConsumerProtocolType = "consumer";

struct Subscription {
  int16_t version = kConsumerProtocolVersionMax;
  std::vector<std::string> topics;
  std::optional<Bytes> user_data;
  std::vector<TopicPartition> owned_partitions;  // v1+; the partitions the member holds now
};

struct MemberAssignment {
  int16_t version = kConsumerProtocolVersionMax;
  std::vector<TopicPartition> partitions;
  std::optional<Bytes> user_data;
};

Bytes encode_subscription(const Subscription& s);
Result<Subscription> decode_subscription(ByteSpan bytes);
Bytes encode_assignment(const MemberAssignment& a);
Result<MemberAssignment> decode_assignment(ByteSpan bytes);

}  // namespace strata::client
