#include <catch2/catch.hpp>

#include "engine/base/bytes.h"

using namespace strata;

TEST_CASE("big-endian integers round-trip") {
  Bytes buf;
  ByteWriter w(buf);
  w.i8(-5);
  w.i16(-2);
  w.i32(0x12345678);
  w.i64(-1234567890123LL);
  w.f64(3.5);
  REQUIRE(buf.size() == 1 + 2 + 4 + 8 + 8);
  CHECK(buf[1] == 0xff);
  CHECK(buf[3] == 0x12);

  ByteReader r(buf);
  CHECK(r.i8() == -5);
  CHECK(r.i16() == -2);
  CHECK(r.i32() == 0x12345678);
  CHECK(r.i64() == -1234567890123LL);
  CHECK(r.f64() == 3.5);
  CHECK(r.ok());
  CHECK(r.at_end());
}

TEST_CASE("reading past the end fails stickily and never asserts") {
  Bytes buf{0x00, 0x01};
  ByteReader r(buf);
  CHECK(r.i32() == 0);
  CHECK_FALSE(r.ok());
  CHECK(r.i8() == 0);
  CHECK(r.take(1).empty());
  CHECK(r.remaining() == 0);
}

TEST_CASE("varints follow protobuf zigzag and unsigned LEB128") {
  Bytes buf;
  ByteWriter w(buf);
  w.varint(-1);
  w.varint(63);
  w.varint(-64);
  w.varlong(INT64_MIN);
  w.uvarint(300);
  CHECK(buf[0] == 0x01);  // zigzag(-1) = 1
  CHECK(buf[1] == 0x7e);  // zigzag(63) = 126
  CHECK(buf[2] == 0x7f);  // zigzag(-64) = 127
  ByteReader r(buf);
  CHECK(r.varint() == -1);
  CHECK(r.varint() == 63);
  CHECK(r.varint() == -64);
  CHECK(r.varlong() == INT64_MIN);
  CHECK(r.uvarint() == 300);
  CHECK(r.ok());
  CHECK(uvarint_size(300) == 2);
}

TEST_CASE("varints of every length round-trip and a cut-short one fails without advancing") {
  for (uint64_t v : {0ull, 1ull, 127ull, 128ull, 16383ull, 16384ull, 2097151ull, 2097152ull,
                     268435455ull, 268435456ull, 4294967295ull}) {
    Bytes buf;
    ByteWriter(buf).uvarint(v);
    REQUIRE(buf.size() == uvarint_size(v));
    Bytes raw(uvarint_size(v));
    CHECK(encode_uvarint(raw.data(), v) == raw.data() + raw.size());
    CHECK(raw == buf);
    ByteReader whole(buf);
    CHECK(whole.uvarint() == uint32_t(v));
    CHECK(whole.ok());
    CHECK(whole.at_end());
    ByteReader wide(buf);
    CHECK(wide.uvarlong() == v);
    CHECK(wide.at_end());
    for (size_t cut = 1; cut < buf.size(); ++cut) {
      ByteReader r(ByteSpan(buf).first(cut));
      (void)r.uvarint();
      CHECK_FALSE(r.ok());
      CHECK(r.position() == 0);
    }
  }
}

TEST_CASE("an over-long varint is malformed input") {
  Bytes buf(11, 0xff);
  ByteReader r(buf);
  (void)r.uvarint();
  CHECK_FALSE(r.ok());
  ByteReader r2(buf);
  (void)r2.varlong();
  CHECK_FALSE(r2.ok());
}
