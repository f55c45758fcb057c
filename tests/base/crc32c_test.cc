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
  for (int i = 0; i < 1000; ++i) data.push_back(static_cast<char>(i * 7 + 3));
  const auto* p = reinterpret_cast<const uint8_t*>(data.data());
  for (size_t start = 0; start < 9; ++start) {
    for (size_t len : {0u, 1u, 7u, 8u, 9u, 63u, 64u, 500u, 991u}) {
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
}
