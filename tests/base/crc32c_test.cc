#include <catch2/catch.hpp>

#include <string>

#include "engine/base/crc32c.h"

using namespace strata;

TEST_CASE("crc32c check value") {
  CHECK(crc32c::value(as_bytes("123456789")) == 0xE3069283u);
  CHECK(crc32c::value(as_bytes("")) == 0u);
}

TEST_CASE("crc32c hardware and portable paths agree at every length and alignment") {
  std::string data;
  for (int i = 0; i < 20000; ++i) data.push_back(static_cast<char>(i * 7 + 3 + (i >> 8)));
  const auto* p = reinterpret_cast<const uint8_t*>(data.data());
  // Lengths around the interleaved rounds' sizes (3 x 128 and 3 x 2048 bytes) and many of each.
  for (size_t start = 0; start < 9; ++start) {
    for (size_t len : {0u, 1u, 7u, 8u, 9u, 63u, 64u, 383u, 384u, 385u, 500u, 768u, 991u,
                       1543u, 6143u, 6144u, 6145u, 6144u + 384u + 9u, 12288u, 19990u}) {
      uint32_t portable = crc32c::extend_portable(0, p + start, len);
      if (crc32c::has_hardware()) {
        CHECK(crc32c::extend_hardware(0, p + start, len) == portable);
      }
      CHECK(crc32c::extend(0, p + start, len) == portable);
    }
  }
}

TEST_CASE("crc32c extends incrementally") {
  auto whole = crc32c::value(as_bytes("hello, world"));
  auto part = crc32c::value(as_bytes("hello, "));
  auto rest = as_bytes("world");
  CHECK(crc32c::extend(part, rest.data(), rest.size()) == whole);

  std::string big(10000, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 131 + (i >> 5));
  const auto* p = reinterpret_cast<const uint8_t*>(big.data());
  uint32_t all = crc32c::extend_portable(0, p, big.size());
  for (size_t cut : {1u, 385u, 6145u, 9999u}) {
    CHECK(crc32c::extend(crc32c::extend(0, p, cut), p + cut, big.size() - cut) == all);
  }
}
