// Every queue, buffer, table and loop in strata has a named maximum, collected here.
// On overflow the code rejects or throttles with a Kafka error; it never grows unbounded.
#pragma once

#include <cstddef>
#include <cstdint>

namespace strata::limits {

// Wire: socket.request.max.bytes default (100 MiB) bounds one request frame.
inline constexpr int32_t kFrameBytesMax = 100 * 1024 * 1024;
// Requests read from one connection and not yet answered (pipelining depth).
inline constexpr size_t kInflightRequestsPerConnMax = 64;
// Bytes queued for sending on one connection before the broker stops reading from it.
inline constexpr size_t kSendQueueBytesPerConnMax = 64 * 1024 * 1024;
inline constexpr size_t kConnectionsMax = 4096;
// Decoding: the largest array/string a decoder accepts before declaring the frame malformed.
inline constexpr int32_t kArrayElementsMax = 1 << 20;
// Kafka's limit (Short.MAX_VALUE), for compact strings too.
inline constexpr int32_t kStringBytesMax = (1 << 15) - 1;
inline constexpr int32_t kBytesFieldMax = kFrameBytesMax;
inline constexpr int32_t kTaggedFieldsMax = 1024;
// The error message of a response. Messages quote what the client sent (a topic name, a
// config value), which can be as long as a string field, so quoted whole it would not fit one.
inline constexpr size_t kErrorMessageBytesMax = 1024;
// Record batches: a decompressed batch may not exceed this (zip-bomb guard). Batches are at
// most message.max.bytes (~1 MiB) compressed, so 64 MiB allows a 64x ratio while bounding
// what one hostile request can make the broker allocate.
inline constexpr size_t kDecompressedBatchBytesMax = 64 * 1024 * 1024;
inline constexpr int32_t kRecordsPerBatchMax = 1 << 24;
// Topics.
inline constexpr int32_t kTopicNameBytesMax = 249;
inline constexpr int32_t kPartitionsPerTopicMax = 10000;
inline constexpr size_t kTopicsMax = 100000;
// The cluster: brokers registered with the controller, listeners per broker.
inline constexpr int32_t kBrokersMax = 1000;
inline constexpr int32_t kListenersPerBrokerMax = 16;
// Consumer groups: groups one coordinator keeps, members of one group (group.max.size is
// at most this).
inline constexpr size_t kGroupsMax = 100000;
inline constexpr int32_t kGroupMembersMax = 10000;
// Delayed operations (Fetch long-poll, acks=all produce) parked at once.
inline constexpr size_t kPendingOperationsMax = 100000;
inline constexpr int32_t kFetchMaxWaitMsMax = 30000;
// Timers outstanding in one runtime.
inline constexpr size_t kTimersMax = 1 << 20;

static_assert(kStringBytesMax < kFrameBytesMax);
static_assert(kTopicNameBytesMax < kStringBytesMax);
static_assert(kErrorMessageBytesMax < size_t(kStringBytesMax));

}  // namespace strata::limits
