// Where a new partition's replicas go. Kafka's rack-unaware scheme: over the brokers sorted by
// id, partition p's first replica (its preferred leader) is on broker (start + p) mod n and
// the others follow it at a distance that grows by one every n partitions, so that leaders
// and followers both spread evenly and no two brokers share all their partitions. `start` and
// the first distance come from `random` (the caller's seeded Runtime), as in Kafka.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/base/ids.h"

namespace strata::controller {

struct PlacementRequest {
  int32_t first_partition = 0;  // partitions [first, first + count) are placed
  int32_t count = 0;
  int32_t replication_factor = 1;
  uint64_t random = 0;
};

// `brokers` are the candidates (sorted, distinct, at least replication_factor of them).
// Returns one replica list per partition, each of replication_factor distinct brokers.
std::vector<std::vector<NodeId>> place_replicas(const std::vector<NodeId>& brokers,
                                                const PlacementRequest& request);

}  // namespace strata::controller
