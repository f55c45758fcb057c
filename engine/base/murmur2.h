// Kafka's murmur2 key hash, bit-compatible with the Java client's Utils.murmur2, so that the
// keys our own producer sends land on the same partitions as keys sent by the Java client,
// kafka-python, kafkajs 2.x and librdkafka's "murmur2_random" partitioner.
#pragma once

#include <cstdint>

#include "engine/base/bytes.h"

namespace strata {

// MurmurHash2 (seed 0x9747b28c) over little-endian 4-byte words, as Java computes it.
int32_t murmur2(ByteSpan data);

// Java's Utils.toPositive: clears the sign bit (not abs(), which fails for INT32_MIN).
inline constexpr int32_t to_positive(int32_t v) { return v & 0x7fffffff; }

// BuiltInPartitioner.partitionForKey: toPositive(murmur2(key)) % num_partitions.
// num_partitions must be positive (a programmer error otherwise: it comes from metadata
// that was validated when it was decoded).
int32_t partition_for_key(ByteSpan key, int32_t num_partitions);

}  // namespace strata
