// Kafka API keys and the table of versions this broker serves. The broker answers
// ApiVersions from this table and rejects anything outside it with UNSUPPORTED_VERSION.
//
// The ranges are chosen for the real clients (shared/reference/kafka-clients.md §1, §6):
// librdkafka 2.0.2 needs FindCoordinator v0, Produce v3 and Fetch v4 inside the advertised
// ranges, and kafkajs ignores our minimum, so every version in a range must really work.
// Most ranges stop below the first flexible version; ApiVersions v3 and InitProducerId v2-4
// are the flexible ones we serve.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "engine/protocol/wire.h"

namespace strata::proto {

enum class ApiKey : int16_t {
  kProduce = 0,
  kFetch = 1,
  kListOffsets = 2,
  kMetadata = 3,
  kOffsetCommit = 8,
  kOffsetFetch = 9,
  kFindCoordinator = 10,
  kJoinGroup = 11,
  kHeartbeat = 12,
  kLeaveGroup = 13,
  kSyncGroup = 14,
  kDescribeGroups = 15,
  kListGroups = 16,
  kApiVersions = 18,
  kCreateTopics = 19,
  kDeleteTopics = 20,
  kDeleteRecords = 21,
  kInitProducerId = 22,
  kDescribeConfigs = 32,
  kAlterConfigs = 33,
  kCreatePartitions = 37,
  kDeleteGroups = 42,
  kIncrementalAlterConfigs = 44,
  // Between brokers and the controller (KIP-631, KIP-730).
  kBrokerRegistration = 62,
  kBrokerHeartbeat = 63,
  kAllocateProducerIds = 67,
};

struct ApiVersionRange {
  ApiKey key;
  int16_t min_version;
  int16_t max_version;
  // Kafka's first flexible version of the API; may lie above max_version, in which case
  // every version we serve is non-flexible.
  int16_t first_flexible_version;
  std::string_view name;
};

// Every API we serve, ordered by key.
std::span<const ApiVersionRange> supported_apis();
// nullptr when the key is not one we serve.
const ApiVersionRange* find_api(int16_t api_key);
bool is_supported(int16_t api_key, int16_t api_version);
// Whether (key, version) uses compact encodings and tagged fields. Only meaningful for a
// supported pair; false otherwise.
bool is_flexible(int16_t api_key, int16_t api_version);
// "Produce", "Fetch", ...; "Unknown" for keys we do not serve.
std::string_view api_name(int16_t api_key);

inline constexpr int16_t to_int(ApiKey k) { return static_cast<int16_t>(k); }

}  // namespace strata::proto
