// offsets_codec: round trips, Kafka's older value versions built by hand from the documented
// layouts (kafka/coordinator/group/GroupMetadataManager schemas), hostile bytes, and the
// group -> __consumer_offsets partition mapping.
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>

#include "engine/group/offsets_codec.h"
#include "tests/group/group_fixture.h"

namespace strata::group {
namespace {

using testing::bytes_of;
using testing::str_of;

// Big-endian builder for hand-made records.
struct B {
  Bytes b;
  B& i16(int16_t v) { return be(static_cast<uint16_t>(v), 2); }
  B& i32(int32_t v) { return be(static_cast<uint32_t>(v), 4); }
  B& i64(int64_t v) { return be(static_cast<uint64_t>(v), 8); }
  B& str(std::string_view s) {  // STRING: int16 length + bytes
    i16(static_cast<int16_t>(s.size()));
    b.insert(b.end(), s.begin(), s.end());
    return *this;
  }
  B& null_str() { return i16(-1); }
  B& bytes(std::string_view s) {  // BYTES: int32 length + bytes
    i32(static_cast<int32_t>(s.size()));
    b.insert(b.end(), s.begin(), s.end());
    return *this;
  }
  B& be(uint64_t v, int n) {
    for (int i = n - 1; i >= 0; --i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
    return *this;
  }
};

TEST_CASE("offsets_codec: offset key and value round trip", "[group][codec]") {
  Bytes key = encode_offset_key("g1", "orders", 7);
  auto k = decode_offsets_key(key);
  REQUIRE(k.is_ok());
  CHECK(k->kind == OffsetsKey::Kind::kOffset);
  CHECK(k->group == "g1");
  CHECK(k->topic == "orders");
  CHECK(k->partition == 7);

  CommittedOffset v{12345, 9, "meta", 1'700'000'000'123};
  auto d = decode_offset_value(encode_offset_value(v));
  REQUIRE(d.is_ok());
  CHECK(d->offset == 12345);
  CHECK(d->leader_epoch == 9);
  CHECK(d->metadata == "meta");
  CHECK(d->commit_timestamp_ms == 1'700'000'000'123);

  // Empty metadata and the -1 leader epoch survive too.
  auto e = decode_offset_value(encode_offset_value(CommittedOffset{0, -1, "", 5}));
  REQUIRE(e.is_ok());
  CHECK(e->leader_epoch == -1);
  CHECK(e->metadata.empty());
}

TEST_CASE("offsets_codec: group key and value round trip", "[group][codec]") {
  auto k = decode_offsets_key(encode_group_key("payments"));
  REQUIRE(k.is_ok());
  CHECK(k->kind == OffsetsKey::Kind::kGroup);
  CHECK(k->group == "payments");

  GroupRecord g;
  g.protocol_type = "consumer";
  g.generation = 42;
  g.protocol = "range";
  g.leader = "m1";
  g.current_state_timestamp_ms = 77;
  MemberRecord m1{"m1", std::nullopt, "c1", "/10.0.0.1", 30000, 10000, bytes_of("s1"),
                  bytes_of("a1")};
  MemberRecord m2{"m2", "instance-2", "c2", "/10.0.0.2", 40000, 12000, bytes_of(""),
                  bytes_of("a2")};
  g.members = {m1, m2};
  auto d = decode_group_value(encode_group_value(g));
  REQUIRE(d.is_ok());
  CHECK(d->protocol_type == "consumer");
  CHECK(d->generation == 42);
  CHECK(d->protocol == std::optional<std::string>("range"));
  CHECK(d->leader == std::optional<std::string>("m1"));
  CHECK(d->current_state_timestamp_ms == 77);
  REQUIRE(d->members.size() == 2);
  CHECK(d->members[0].member_id == "m1");
  CHECK_FALSE(d->members[0].group_instance_id.has_value());
  CHECK(d->members[0].client_host == "/10.0.0.1");
  CHECK(d->members[0].rebalance_timeout_ms == 30000);
  CHECK(d->members[0].session_timeout_ms == 10000);
  CHECK(str_of(d->members[0].subscription) == "s1");
  CHECK(str_of(d->members[0].assignment) == "a1");
  CHECK(d->members[1].group_instance_id == std::optional<std::string>("instance-2"));
  CHECK(d->members[1].client_id == "c2");
  CHECK(str_of(d->members[1].assignment) == "a2");

  // An empty group (what a group that lost its last member stores): null protocol and leader.
  GroupRecord empty;
  empty.protocol_type = "consumer";
  empty.generation = 3;
  auto e = decode_group_value(encode_group_value(empty));
  REQUIRE(e.is_ok());
  CHECK_FALSE(e->protocol.has_value());
  CHECK_FALSE(e->leader.has_value());
  CHECK(e->members.empty());
}

TEST_CASE("offsets_codec: Kafka's offset key v0 and offset values v0..v3", "[group][codec]") {
  // Key v0 has the same fields as v1.
  auto k = decode_offsets_key(B{}.i16(0).str("grp").str("t").i32(3).b);
  REQUIRE(k.is_ok());
  CHECK(k->kind == OffsetsKey::Kind::kOffset);
  CHECK(k->group == "grp");
  CHECK(k->topic == "t");
  CHECK(k->partition == 3);

  // v0: offset int64, metadata string, timestamp int64.
  auto v0 = decode_offset_value(B{}.i16(0).i64(100).str("m0").i64(1000).b);
  REQUIRE(v0.is_ok());
  CHECK(v0->offset == 100);
  CHECK(v0->leader_epoch == -1);
  CHECK(v0->metadata == "m0");
  CHECK(v0->commit_timestamp_ms == 1000);

  // v1: offset, metadata, commit_timestamp, expire_timestamp.
  auto v1 = decode_offset_value(B{}.i16(1).i64(101).str("m1").i64(2000).i64(9999).b);
  REQUIRE(v1.is_ok());
  CHECK(v1->offset == 101);
  CHECK(v1->metadata == "m1");
  CHECK(v1->commit_timestamp_ms == 2000);

  // v2: offset, metadata, commit_timestamp.
  auto v2 = decode_offset_value(B{}.i16(2).i64(102).str("").i64(3000).b);
  REQUIRE(v2.is_ok());
  CHECK(v2->offset == 102);
  CHECK(v2->metadata.empty());
  CHECK(v2->commit_timestamp_ms == 3000);

  // v3: offset, leader_epoch int32, metadata, commit_timestamp.
  auto v3 = decode_offset_value(B{}.i16(3).i64(103).i32(5).str("m3").i64(4000).b);
  REQUIRE(v3.is_ok());
  CHECK(v3->offset == 103);
  CHECK(v3->leader_epoch == 5);
  CHECK(v3->metadata == "m3");
  CHECK(v3->commit_timestamp_ms == 4000);

  // Our own encoding is exactly the v3 layout.
  CHECK(encode_offset_value(CommittedOffset{103, 5, "m3", 4000}) ==
        B{}.i16(3).i64(103).i32(5).str("m3").i64(4000).b);
  CHECK(encode_offset_key("grp", "t", 3) == B{}.i16(1).str("grp").str("t").i32(3).b);
  CHECK(encode_group_key("grp") == B{}.i16(2).str("grp").b);
}

TEST_CASE("offsets_codec: Kafka's group values v0..v3", "[group][codec]") {
  // v0: protocol_type, generation, protocol (nullable), leader (nullable), members
  //     [member_id, client_id, client_host, session_timeout, subscription, assignment].
  auto v0 = decode_group_value(B{}.i16(0).str("consumer").i32(7).str("range").str("m1")
                                   .i32(1)
                                   .str("m1").str("c1").str("/h1").i32(10000)
                                   .bytes("sub").bytes("asg").b);
  REQUIRE(v0.is_ok());
  CHECK(v0->protocol_type == "consumer");
  CHECK(v0->generation == 7);
  CHECK(v0->protocol == std::optional<std::string>("range"));
  CHECK(v0->leader == std::optional<std::string>("m1"));
  REQUIRE(v0->members.size() == 1);
  CHECK(v0->members[0].member_id == "m1");
  CHECK(v0->members[0].client_id == "c1");
  CHECK(v0->members[0].client_host == "/h1");
  CHECK(v0->members[0].session_timeout_ms == 10000);
  CHECK(v0->members[0].rebalance_timeout_ms == 10000);  // v0 had one timeout for both
  CHECK(str_of(v0->members[0].subscription) == "sub");
  CHECK(str_of(v0->members[0].assignment) == "asg");

  // v1: members gain rebalance_timeout before session_timeout.
  auto v1 = decode_group_value(B{}.i16(1).str("consumer").i32(8).str("rr").str("m2")
                                   .i32(1)
                                   .str("m2").str("c2").str("/h2").i32(60000).i32(10000)
                                   .bytes("").bytes("x").b);
  REQUIRE(v1.is_ok());
  CHECK(v1->generation == 8);
  REQUIRE(v1->members.size() == 1);
  CHECK(v1->members[0].rebalance_timeout_ms == 60000);
  CHECK(v1->members[0].session_timeout_ms == 10000);
  CHECK(str_of(v1->members[0].assignment) == "x");

  // v2: current_state_timestamp after leader; an empty group with null protocol and leader.
  auto v2 = decode_group_value(
      B{}.i16(2).str("consumer").i32(9).null_str().null_str().i64(123456).i32(0).b);
  REQUIRE(v2.is_ok());
  CHECK(v2->generation == 9);
  CHECK_FALSE(v2->protocol.has_value());
  CHECK_FALSE(v2->leader.has_value());
  CHECK(v2->current_state_timestamp_ms == 123456);
  CHECK(v2->members.empty());

  // v3: members gain group_instance_id (nullable) after member_id.
  auto v3 = decode_group_value(B{}.i16(3).str("consumer").i32(10).str("range").str("m3")
                                   .i64(5)
                                   .i32(2)
                                   .str("m3").str("inst-3").str("c3").str("/h3").i32(1).i32(2)
                                   .bytes("s3").bytes("a3")
                                   .str("m4").null_str().str("c4").str("/h4").i32(3).i32(4)
                                   .bytes("s4").bytes("a4").b);
  REQUIRE(v3.is_ok());
  REQUIRE(v3->members.size() == 2);
  CHECK(v3->members[0].group_instance_id == std::optional<std::string>("inst-3"));
  CHECK(v3->members[0].rebalance_timeout_ms == 1);
  CHECK(v3->members[0].session_timeout_ms == 2);
  CHECK_FALSE(v3->members[1].group_instance_id.has_value());
  CHECK(v3->members[1].client_host == "/h4");
  CHECK(str_of(v3->members[1].subscription) == "s4");
}

TEST_CASE("offsets_codec: truncated, trailing and garbage bytes give a Status",
          "[group][codec]") {
  GroupRecord g;
  g.protocol_type = "consumer";
  g.generation = 1;
  g.protocol = "range";
  g.leader = "m1";
  g.members.push_back({"m1", "i1", "c", "/h", 1, 2, bytes_of("s"), bytes_of("a")});
  const Bytes group_value = encode_group_value(g);
  const Bytes offset_value = encode_offset_value(CommittedOffset{1, 2, "md", 3});
  const Bytes offset_key = encode_offset_key("g", "t", 0);
  const Bytes group_key = encode_group_key("g");

  // Every strict prefix fails cleanly.
  for (size_t n = 0; n < group_value.size(); ++n) {
    INFO("group value prefix " << n);
    CHECK_FALSE(decode_group_value(ByteSpan(group_value.data(), n)).is_ok());
  }
  for (size_t n = 0; n < offset_value.size(); ++n) {
    INFO("offset value prefix " << n);
    CHECK_FALSE(decode_offset_value(ByteSpan(offset_value.data(), n)).is_ok());
  }
  for (size_t n = 0; n < offset_key.size(); ++n) {
    INFO("offset key prefix " << n);
    CHECK_FALSE(decode_offsets_key(ByteSpan(offset_key.data(), n)).is_ok());
  }
  for (size_t n = 0; n < group_key.size(); ++n) {
    CHECK_FALSE(decode_offsets_key(ByteSpan(group_key.data(), n)).is_ok());
  }
  // Trailing bytes.
  Bytes longer = offset_value;
  longer.push_back(0);
  CHECK_FALSE(decode_offset_value(longer).is_ok());
  Bytes longer_key = group_key;
  longer_key.push_back(0);
  CHECK_FALSE(decode_offsets_key(longer_key).is_ok());
  // Unknown versions.
  CHECK_FALSE(decode_offsets_key(B{}.i16(3).str("g").b).is_ok());
  CHECK_FALSE(decode_offsets_key(B{}.i16(-1).str("g").b).is_ok());
  CHECK_FALSE(decode_offset_value(B{}.i16(4).i64(1).i32(0).str("").i64(0).b).is_ok());
  CHECK_FALSE(decode_group_value(B{}.i16(4).str("c").i32(1).null_str().null_str().i64(0)
                                     .i32(0).b).is_ok());
  // Hostile lengths: a huge member count, negative and oversized string lengths, a null
  // string where none is allowed.
  CHECK_FALSE(decode_group_value(B{}.i16(3).str("c").i32(1).null_str().null_str().i64(0)
                                     .i32(0x7fffffff).b).is_ok());
  CHECK_FALSE(decode_group_value(B{}.i16(3).str("c").i32(1).null_str().null_str().i64(0)
                                     .i32(-5).b).is_ok());
  CHECK_FALSE(decode_offset_value(B{}.i16(3).i64(1).i32(0).i16(-2).i64(0).b).is_ok());
  CHECK_FALSE(decode_offset_value(B{}.i16(3).i64(1).i32(0).i16(30000).i64(0).b).is_ok());
  CHECK_FALSE(decode_offsets_key(B{}.i16(1).null_str().str("t").i32(0).b).is_ok());
  CHECK_FALSE(decode_group_value(B{}.i16(3).null_str().i32(1).null_str().null_str().i64(0)
                                     .i32(0).b).is_ok());

  // Garbage from a fixed seed: any answer but a crash (ASan/UBSan builds check the rest).
  uint64_t seed = 0x5eed;
  auto next = [&seed] {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<uint8_t>(seed >> 56);
  };
  for (int round = 0; round < 2000; ++round) {
    Bytes junk(static_cast<size_t>(next() % 64));
    for (uint8_t& b : junk) b = next();
    if (round % 3 == 0 && junk.size() >= 2) {  // plausible versions reach deeper
      junk[0] = 0;
      junk[1] = static_cast<uint8_t>(round % 4);
    }
    (void)decode_offsets_key(junk).is_ok();
    (void)decode_offset_value(junk).is_ok();
    (void)decode_group_value(junk).is_ok();
  }
  // Mutations of valid values: flip each byte.
  for (size_t i = 0; i < group_value.size(); ++i) {
    Bytes m = group_value;
    m[i] ^= 0xff;
    (void)decode_group_value(m).is_ok();
  }
  SUCCEED("no crash");
}

TEST_CASE("offsets_codec: partition_for_group is Kafka's Utils.abs(hashCode) % n",
          "[group][codec]") {
  // Java String.hashCode: h = 31*h + c over UTF-16 code units in int32 arithmetic; Kafka's
  // GroupMetadataManager.partitionFor takes Utils.abs(h) % n, where Utils.abs is Math.abs
  // except that Integer.MIN_VALUE maps to 0. Expected values worked out from that formula:
  CHECK(partition_for_group("", 50) == 0);   // h = 0
  CHECK(partition_for_group("a", 50) == 47);  // h = 97
  CHECK(partition_for_group("ab", 50) == 5);  // h = 97*31 + 98 = 3105
  CHECK(partition_for_group("console-consumer-12345", 50) == 6);  // h = 158455506
  CHECK(partition_for_group("strata-test-group-with-a-rather-long-name", 50) == 15);
  // Negative hash codes (int32 wraparound): Math.abs, not a sign-bit mask.
  // "my-group": h = -1906497762, abs = 1906497762, % 50 = 12 (a mask would give 36).
  CHECK(partition_for_group("my-group", 50) == 12);
  CHECK(partition_for_group("my-group", 7) == 1906497762 % 7);
  // Non-ASCII: "grüppe" (ü = U+00FC, one UTF-16 unit): h = -1233264812 -> 12.
  CHECK(partition_for_group("gr\xc3\xbcppe", 50) == 12);
  // CJK (3-byte UTF-8, one unit each): "日本語グループ" h = -305235731 -> 31.
  CHECK(partition_for_group("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x82\xb0\xe3\x83\xab"
                            "\xe3\x83\xbc\xe3\x83\x97",
                            50) == 31);
  // Outside the BMP: "g😀" is g, U+D83D, U+DE00: h = 103*961 + 55357*31 + 56832 = 1871882.
  CHECK(partition_for_group("g\xf0\x9f\x98\x80", 50) == 32);
  // Integer.MIN_VALUE: "polygenelubricants".hashCode() == -2147483648 -> Utils.abs gives 0.
  CHECK(partition_for_group("polygenelubricants", 50) == 0);
  CHECK(partition_for_group("polygenelubricants", 7) == 0);
  // Always in range.
  for (int n : {1, 3, 50, 1000}) {
    for (const char* s : {"x", "my-group", "\xff\xfe", "\xf0\x9f"}) {
      int32_t p = partition_for_group(s, n);
      CHECK(p >= 0);
      CHECK(p < n);
    }
  }
}

}  // namespace
}  // namespace strata::group
