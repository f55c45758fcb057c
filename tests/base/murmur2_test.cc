#include <catch2/catch.hpp>

#include <cstdint>
#include <string>

#include "engine/base/murmur2.h"

using namespace strata;

TEST_CASE("murmur2 matches the Java client's results") {
  // Vectors from librdkafka's rdmurmur2.c unit test, which were computed with Java.
  struct Vector {
    const char* key;
    uint32_t hash;
  };
  const Vector vectors[] = {
      {"kafka", 0xd067cf64},
      {"giberish123456789", 0x8f552b0c},
      {"1234", 0x9fc97b14},
      {"234", 0xe7c009ca},
      {"34", 0x873930da},
      {"4", 0x5a4b5ca1},
      {"PreAmbleWillBeRemoved,ThePrePartThatIs", 0x78424f1c},
      {"", 0x106e08d9},
  };
  for (const auto& v : vectors) {
    INFO("key \"" << v.key << "\"");
    CHECK(static_cast<uint32_t>(murmur2(as_bytes(v.key))) == v.hash);
  }
}

TEST_CASE("to_positive clears only the sign bit") {
  CHECK(to_positive(0) == 0);
  CHECK(to_positive(5) == 5);
  CHECK(to_positive(-1) == 0x7fffffff);
  CHECK(to_positive(INT32_MIN) == 0);
}

TEST_CASE("partition_for_key agrees with what real clients chose for k0/k1/k2") {
  // Observed with kafka-python, kafkajs and kcat's murmur2_random on a 4-partition topic.
  CHECK(partition_for_key(as_bytes("k0"), 4) == 1);
  CHECK(partition_for_key(as_bytes("k1"), 4) == 1);
  CHECK(partition_for_key(as_bytes("k2"), 4) == 1);
  CHECK(partition_for_key(as_bytes("kafka"), 1) == 0);
  // "kafka" hashes to 0xd067cf64: toPositive gives 0x5067cf64 = 1348980580.
  CHECK(partition_for_key(as_bytes("kafka"), 1000) == 1348980580 % 1000);
}
