// Named maxima for the client, in the style of engine/base/limits.h: every queue and table the
// client keeps is bounded, and overflow is an error the caller sees, never unbounded growth.
#pragma once

#include <cstddef>
#include <cstdint>

#include "engine/base/limits.h"

namespace strata::client::limits {

// Requests waiting for a connection to become ready (connect + ApiVersions), per node.
inline constexpr size_t kPendingRequestsPerNodeMax = 1024;
// Requests sent on one connection and not yet answered. Kafka's own client allows 5 per
// connection for produce; admin and metadata requests share the same cap.
inline constexpr size_t kInflightRequestsPerNodeMax = 64;
// Nodes (bootstrap entries + brokers from Metadata) one client tracks.
inline constexpr size_t kNodesMax = 1024;
inline constexpr size_t kBootstrapServersMax = 64;
// Callbacks waiting for one metadata refresh.
inline constexpr size_t kMetadataWaitersMax = 100000;
// Producer: records accepted and not yet completed; buffer.memory bounds their bytes too.
inline constexpr size_t kProducerRecordsMax = 1 << 20;
// Batches one Produce request carries (one per partition).
inline constexpr size_t kBatchesPerRequestMax = 4096;
// Pending flush() callbacks.
inline constexpr size_t kFlushWaitersMax = 1024;
// Consumer: decoded records waiting for poll(). A fetch is only sent while the queue has
// room, so the queue may overshoot by at most one fetch response (fetch.max.bytes).
inline constexpr size_t kConsumerQueueRecordsMax = 100000;
inline constexpr size_t kAssignedPartitionsMax = 100000;
// Admin: topics per request.
inline constexpr size_t kAdminTopicsPerRequestMax = 10000;
// Consumer groups: topics one member subscribes to, members one leader assigns over,
// commits waiting for an answer, groups one admin request names.
inline constexpr size_t kSubscribedTopicsMax = 10000;
inline constexpr size_t kGroupMembersMax = 10000;
inline constexpr size_t kPendingCommitsMax = 1024;
inline constexpr size_t kAdminGroupsPerRequestMax = 10000;

static_assert(kInflightRequestsPerNodeMax <= ::strata::limits::kInflightRequestsPerConnMax,
              "the broker reads at most this many pipelined requests per connection");

}  // namespace strata::client::limits
