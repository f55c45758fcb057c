#include "engine/controller/placement.h"

#include <algorithm>

#include "engine/base/assert.h"

namespace strata::controller {

std::vector<std::vector<NodeId>> place_replicas(const std::vector<NodeId>& brokers,
                                                const PlacementRequest& request) {
  const int64_t n = int64_t(brokers.size());
  STRATA_ASSERT(request.replication_factor >= 1 && request.replication_factor <= n,
                "placement needs as many brokers as replicas");
  STRATA_ASSERT(std::is_sorted(brokers.begin(), brokers.end()), "candidates are sorted");
  STRATA_ASSERT(request.first_partition >= 0 && request.count >= 0, "partition range is valid");
  const int64_t start = int64_t(request.random % uint64_t(n));
  int64_t shift = int64_t((request.random / uint64_t(n)) % uint64_t(n));
  std::vector<std::vector<NodeId>> out;
  out.reserve(size_t(request.count));
  for (int32_t i = 0; i < request.count; ++i) {
    const int64_t p = int64_t(request.first_partition) + i;
    if (p > 0 && p % n == 0) ++shift;
    const int64_t first = (p + start) % n;
    std::vector<NodeId> replicas{brokers[size_t(first)]};
    for (int32_t j = 0; j + 1 < request.replication_factor; ++j) {
      // The followers skip the first replica: distance 1 + (shift + j) mod (n - 1).
      const int64_t distance = 1 + (shift + j) % (n - 1);
      replicas.push_back(brokers[size_t((first + distance) % n)]);
    }
    out.push_back(std::move(replicas));
  }
  return out;
}

}  // namespace strata::controller
