#include "engine/protocol/api_keys.h"

#include <algorithm>
#include <array>

#include "engine/protocol/messages.h"

namespace strata::proto {
namespace {

// clang-format off
constexpr std::array<ApiVersionRange, 26> kApis = {{
  {ApiKey::kProduce,          0, 7, 9,  "Produce"},
  {ApiKey::kFetch,            4, 11, 12, "Fetch"},
  {ApiKey::kListOffsets,      1, 5, 6,  "ListOffsets"},
  {ApiKey::kMetadata,         0, 8, 9,  "Metadata"},
  {ApiKey::kOffsetCommit,     0, 7, 8,  "OffsetCommit"},
  {ApiKey::kOffsetFetch,      0, 5, 6,  "OffsetFetch"},
  {ApiKey::kFindCoordinator,  0, 2, 3,  "FindCoordinator"},
  {ApiKey::kJoinGroup,        0, 5, 6,  "JoinGroup"},
  {ApiKey::kHeartbeat,        0, 3, 4,  "Heartbeat"},
  {ApiKey::kLeaveGroup,       0, 3, 4,  "LeaveGroup"},
  {ApiKey::kSyncGroup,        0, 3, 4,  "SyncGroup"},
  {ApiKey::kDescribeGroups,   0, 4, 5,  "DescribeGroups"},
  {ApiKey::kListGroups,       0, 2, 3,  "ListGroups"},
  {ApiKey::kApiVersions,      0, 3, 3,  "ApiVersions"},
  {ApiKey::kCreateTopics,     0, 4, 5,  "CreateTopics"},
  {ApiKey::kDeleteTopics,     0, 3, 4,  "DeleteTopics"},
  {ApiKey::kDeleteRecords,    0, 2, 2,  "DeleteRecords"},
  {ApiKey::kInitProducerId,   0, 4, 2,  "InitProducerId"},
  {ApiKey::kDescribeConfigs,  0, 2, 4,  "DescribeConfigs"},
  {ApiKey::kAlterConfigs,     0, 2, 2,  "AlterConfigs"},
  {ApiKey::kCreatePartitions, 0, 1, 2,  "CreatePartitions"},
  {ApiKey::kDeleteGroups,     0, 1, 2,  "DeleteGroups"},
  {ApiKey::kIncrementalAlterConfigs, 0, 1, 1, "IncrementalAlterConfigs"},
  {ApiKey::kBrokerRegistration, 0, 0, 0, "BrokerRegistration"},
  {ApiKey::kBrokerHeartbeat,  0, 0, 0,  "BrokerHeartbeat"},
  {ApiKey::kAllocateProducerIds, 0, 0, 0, "AllocateProducerIds"},
}};
// clang-format on

constexpr const ApiVersionRange* lookup(int16_t key) {
  for (const auto& a : kApis) {
    if (static_cast<int16_t>(a.key) == key) return &a;
  }
  return nullptr;
}

// The table and the generated codecs must describe the same versions: a range we advertise
// but cannot decode would fail real clients at runtime, so it fails the build instead.
template <class Req, class Resp>
constexpr bool matches_schema() {
  const ApiVersionRange* a = lookup(Req::kApiKey);
  return a != nullptr && Req::kApiKey == Resp::kApiKey &&
         a->min_version == Req::kMinVersion && a->max_version == Req::kMaxVersion &&
         a->first_flexible_version == Req::kFirstFlexibleVersion &&
         Resp::kMinVersion == Req::kMinVersion && Resp::kMaxVersion == Req::kMaxVersion &&
         Resp::kFirstFlexibleVersion == Req::kFirstFlexibleVersion;
}

#define STRATA_CHECK_API(Name)                                        \
  static_assert(matches_schema<Name##Request, Name##Response>(),      \
                #Name ": api_keys.cc table differs from the schema");
STRATA_CHECK_API(Produce)
STRATA_CHECK_API(Fetch)
STRATA_CHECK_API(ListOffsets)
STRATA_CHECK_API(Metadata)
STRATA_CHECK_API(OffsetCommit)
STRATA_CHECK_API(OffsetFetch)
STRATA_CHECK_API(FindCoordinator)
STRATA_CHECK_API(JoinGroup)
STRATA_CHECK_API(Heartbeat)
STRATA_CHECK_API(LeaveGroup)
STRATA_CHECK_API(SyncGroup)
STRATA_CHECK_API(DescribeGroups)
STRATA_CHECK_API(ListGroups)
STRATA_CHECK_API(ApiVersions)
STRATA_CHECK_API(CreateTopics)
STRATA_CHECK_API(DeleteTopics)
STRATA_CHECK_API(DeleteRecords)
STRATA_CHECK_API(InitProducerId)
STRATA_CHECK_API(DescribeConfigs)
STRATA_CHECK_API(AlterConfigs)
STRATA_CHECK_API(CreatePartitions)
STRATA_CHECK_API(DeleteGroups)
STRATA_CHECK_API(IncrementalAlterConfigs)
STRATA_CHECK_API(BrokerRegistration)
STRATA_CHECK_API(BrokerHeartbeat)
STRATA_CHECK_API(AllocateProducerIds)
#undef STRATA_CHECK_API

constexpr bool sorted_by_key() {
  for (size_t i = 1; i < kApis.size(); ++i) {
    if (kApis[i - 1].key >= kApis[i].key) return false;
  }
  return true;
}
static_assert(sorted_by_key(), "kApis must be ordered by key without duplicates");

}  // namespace

std::span<const ApiVersionRange> supported_apis() { return kApis; }

const ApiVersionRange* find_api(int16_t api_key) { return lookup(api_key); }

bool is_supported(int16_t api_key, int16_t api_version) {
  const ApiVersionRange* a = lookup(api_key);
  return a != nullptr && api_version >= a->min_version && api_version <= a->max_version;
}

bool is_flexible(int16_t api_key, int16_t api_version) {
  const ApiVersionRange* a = lookup(api_key);
  return a != nullptr && api_version >= a->first_flexible_version;
}

std::string_view api_name(int16_t api_key) {
  const ApiVersionRange* a = lookup(api_key);
  return a != nullptr ? a->name : std::string_view("Unknown");
}

}  // namespace strata::proto
