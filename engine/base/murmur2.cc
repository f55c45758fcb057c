#include "engine/base/murmur2.h"

namespace strata {

int32_t murmur2(ByteSpan data) {
  // Constants from Kafka's Utils.murmur2. All arithmetic is on uint32_t so that it wraps as
  // Java's int does, without signed-overflow UB; Java's >>> is a logical shift.
  constexpr uint32_t kSeed = 0x9747b28c;
  constexpr uint32_t kM = 0x5bd1e995;
  constexpr int kR = 24;
  const size_t length = data.size();
  uint32_t h = kSeed ^ static_cast<uint32_t>(length);
  const size_t words = length / 4;
  for (size_t i = 0; i < words; ++i) {
    const uint8_t* p = data.data() + 4 * i;
    uint32_t k = uint32_t(p[0]) | (uint32_t(p[1]) << 8) | (uint32_t(p[2]) << 16) |
                 (uint32_t(p[3]) << 24);
    k *= kM;
    k ^= k >> kR;
    k *= kM;
    h *= kM;
    h ^= k;
  }
  const uint8_t* tail = data.data() + 4 * words;
  // Fall-through on purpose: the remaining 1-3 bytes are mixed in highest first.
  switch (length % 4) {
    case 3: h ^= uint32_t(tail[2]) << 16; [[fallthrough]];
    case 2: h ^= uint32_t(tail[1]) << 8; [[fallthrough]];
    case 1:
      h ^= uint32_t(tail[0]);
      h *= kM;
  }
  h ^= h >> 13;
  h *= kM;
  h ^= h >> 15;
  return static_cast<int32_t>(h);
}

int32_t partition_for_key(ByteSpan key, int32_t num_partitions) {
  STRATA_ASSERT(num_partitions > 0, "partition count must be positive");
  int32_t p = to_positive(murmur2(key)) % num_partitions;
  STRATA_ASSERT(p >= 0 && p < num_partitions);
  return p;
}

}  // namespace strata
