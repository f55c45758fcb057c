// Generated message codecs: every message at every supported version round-trips, every
// truncation is an error, hostile lengths are rejected, unknown tagged fields are skipped.
#include <catch2/catch.hpp>

#include "engine/base/limits.h"
#include "engine/protocol/messages.h"
#include "tests/protocol/message_fill.h"

using namespace strata;
using namespace strata::proto;
using strata::proto::testing::encode;
using strata::proto::testing::filled;

namespace {

// Decoding `bytes` at `version` must succeed, consume everything and re-encode identically.
template <class Msg>
void check_round_trip_of(const Msg& original, int16_t version) {
  INFO(Msg::kName << " v" << version);
  const Bytes bytes = encode(original, version);
  Msg decoded;
  ByteReader r(bytes);
  Status st = decoded.decode(r, version);
  INFO(st.to_string());
  REQUIRE(st.is_ok());
  CHECK(r.at_end());
  CHECK(encode(decoded, version) == bytes);
  if constexpr (Msg::kIsRequest) {
    ByteReader again(bytes);
    CHECK(decode_request_body(Msg::kApiKey, version, again).is_ok());
  }
}

template <class Msg>
void check_round_trip(int16_t version) {
  check_round_trip_of(filled<Msg>(), version);
}

template <class Msg>
void check_round_trip_with_nulls(int16_t version) {
  check_round_trip_of(filled<Msg>(/*keep_nulls=*/true), version);
}

template <class Msg>
void check_round_trip_of_default(int16_t version) {
  check_round_trip_of(Msg{}, version);
}

// Every strict prefix of a valid encoding is a decode error (never a crash, never success).
template <class Msg>
void check_truncations(int16_t version) {
  const Bytes bytes = encode(filled<Msg>(), version);
  for (size_t len = 0; len < bytes.size(); ++len) {
    INFO(Msg::kName << " v" << version << " prefix " << len << "/" << bytes.size());
    Msg m;
    ByteReader r(ByteSpan(bytes.data(), len));
    Status st = m.decode(r, version);
    REQUIRE_FALSE(st.is_ok());
    CHECK(st.code() == StatusCode::kCorruption);
  }
}

// Overwriting any single byte must not crash the decoder (it may or may not decode).
template <class Msg>
void check_byte_corruptions(int16_t version) {
  const Bytes bytes = encode(filled<Msg>(), version);
  for (size_t at = 0; at < bytes.size(); ++at) {
    for (uint8_t v : {uint8_t{0x00}, uint8_t{0x7f}, uint8_t{0x80}, uint8_t{0xff}}) {
      Bytes mutated = bytes;
      mutated[at] = v;
      Msg m;
      ByteReader r(mutated);
      (void)m.decode(r, version);
    }
  }
}

template <class Msg>
void for_each_version(void (*check)(int16_t)) {
  for (int v = Msg::kMinVersion; v <= Msg::kMaxVersion; ++v) check(static_cast<int16_t>(v));
}

}  // namespace

TEST_CASE("every message round-trips at every supported version with all fields set") {
#define STRATA_ROUND_TRIP(Msg) for_each_version<Msg>(&check_round_trip<Msg>);
  STRATA_PROTO_FOR_EACH_MESSAGE(STRATA_ROUND_TRIP)
#undef STRATA_ROUND_TRIP
}

TEST_CASE("every message round-trips with its null defaults left null") {
#define STRATA_ROUND_TRIP(Msg) for_each_version<Msg>(&check_round_trip_with_nulls<Msg>);
  STRATA_PROTO_FOR_EACH_MESSAGE(STRATA_ROUND_TRIP)
#undef STRATA_ROUND_TRIP
}

TEST_CASE("a default-constructed message encodes and round-trips at every version") {
#define STRATA_ROUND_TRIP(Msg) for_each_version<Msg>(&check_round_trip_of_default<Msg>);
  STRATA_PROTO_FOR_EACH_MESSAGE(STRATA_ROUND_TRIP)
#undef STRATA_ROUND_TRIP
}

TEST_CASE("every truncated encoding of every message is a corruption error") {
#define STRATA_TRUNCATE(Msg) for_each_version<Msg>(&check_truncations<Msg>);
  STRATA_PROTO_FOR_EACH_MESSAGE(STRATA_TRUNCATE)
#undef STRATA_TRUNCATE
}

TEST_CASE("single-byte corruptions never crash a decoder") {
#define STRATA_CORRUPT(Msg) for_each_version<Msg>(&check_byte_corruptions<Msg>);
  STRATA_PROTO_FOR_EACH_MESSAGE(STRATA_CORRUPT)
#undef STRATA_CORRUPT
}

TEST_CASE("fields absent from a version are not encoded and decode to their defaults") {
  ProduceResponse resp = filled<ProduceResponse>();
  Bytes v4 = encode(resp, 4);
  Bytes v5 = encode(resp, 5);
  // v5 adds log_start_offset (int64) to each of 2 x 2 partitions.
  CHECK(v5.size() == v4.size() + 4 * 8);
  ProduceResponse back;
  ByteReader r(v4);
  REQUIRE(back.decode(r, 4).is_ok());
  CHECK(back.responses.at(0).partition_responses.at(0).log_start_offset == -1);
  CHECK(back.responses.at(0).partition_responses.at(0).base_offset ==
        resp.responses.at(0).partition_responses.at(0).base_offset);
}

TEST_CASE("defaults come from the schema") {
  FetchRequest f;
  CHECK(f.replica_id == -1);
  CHECK(f.max_bytes == 0x7fffffff);
  CHECK(f.session_epoch == -1);
  CHECK(f.rack_id.empty());
  MetadataRequest m;
  CHECK(m.allow_auto_topic_creation);
  MetadataResponse::TopicMetadata t;
  CHECK(t.topic_authorized_operations == INT32_MIN);
  CreateTopicsRequest c;
  CHECK(c.timeout_ms == 60000);
  ProduceRequest p;
  CHECK_FALSE(p.transactional_id.has_value());
}

TEST_CASE("records decode as a view into the frame") {
  ProduceRequest req;
  req.acks = -1;
  req.timeout_ms = 30000;
  const uint8_t batch[] = {9, 8, 7, 6};
  auto& part = req.topic_data.emplace_back().partition_data.emplace_back();
  part.index = 3;
  part.records = ByteSpan(batch, sizeof(batch));
  Bytes bytes = encode(req, 7);

  ProduceRequest back;
  ByteReader r(bytes);
  REQUIRE(back.decode(r, 7).is_ok());
  const auto& records = back.topic_data.at(0).partition_data.at(0).records;
  REQUIRE(records.has_value());
  CHECK(records->size() == 4);
  CHECK(records->data() >= bytes.data());
  CHECK(records->data() + records->size() <= bytes.data() + bytes.size());
  CHECK((*records)[0] == 9);
}

TEST_CASE("null records and null nullable arrays round-trip") {
  FetchResponse resp;
  auto& p = resp.responses.emplace_back().partitions.emplace_back();
  p.records.reset();
  p.aborted_transactions.reset();
  for (int16_t v = 4; v <= 11; ++v) {
    Bytes bytes = encode(resp, v);
    FetchResponse back;
    ByteReader r(bytes);
    REQUIRE(back.decode(r, v).is_ok());
    CHECK_FALSE(back.responses.at(0).partitions.at(0).records.has_value());
    CHECK_FALSE(back.responses.at(0).partitions.at(0).aborted_transactions.has_value());
  }
}

TEST_CASE("Metadata topics: null means all topics from v1, and is illegal in v0") {
  Bytes null_array = {0xff, 0xff, 0xff, 0xff};
  MetadataRequest m;
  ByteReader r1(null_array);
  REQUIRE(m.decode(r1, 1).is_ok());
  CHECK_FALSE(m.topics.has_value());

  ByteReader r0(null_array);
  Status st = m.decode(r0, 0);
  CHECK(st.code() == StatusCode::kCorruption);
  CHECK_THAT(st.message(), Catch::Contains("MetadataRequest.topics"));
}

TEST_CASE("hostile lengths are rejected with the field name") {
  SECTION("array count far beyond the bytes left") {
    // transactional_id null, acks, timeout, then topic_data count 0x7fffffff.
    Bytes b = {0xff, 0xff, 0, 1, 0, 0, 0, 10, 0x7f, 0xff, 0xff, 0xff};
    ProduceRequest m;
    ByteReader r(b);
    Status st = m.decode(r, 3);
    CHECK(st.code() == StatusCode::kCorruption);
    CHECK_THAT(st.message(), Catch::Contains("ProduceRequest.topic_data"));
  }
  SECTION("array count over kArrayElementsMax") {
    Bytes b = {0xff, 0xff, 0, 1, 0, 0, 0, 10, 0x10, 0, 0, 0};
    b.resize(b.size() + 64, 0);
    ProduceRequest m;
    ByteReader r(b);
    Status st = m.decode(r, 3);
    CHECK_THAT(st.message(), Catch::Contains("over the limit"));
  }
  SECTION("negative string length other than -1") {
    Bytes b = {0xff, 0xfb, 0, 0, 0, 1};  // group_id length -5
    HeartbeatRequest m;
    ByteReader r(b);
    Status st = m.decode(r, 0);
    CHECK(st.code() == StatusCode::kCorruption);
    CHECK_THAT(st.message(), Catch::Contains("HeartbeatRequest.group_id"));
  }
  SECTION("null in a non-nullable string") {
    Bytes b = {0xff, 0xff, 0, 0, 0, 1, 0, 0};
    HeartbeatRequest m;
    ByteReader r(b);
    CHECK(m.decode(r, 0).code() == StatusCode::kCorruption);
  }
  SECTION("compact string longer than kStringBytesMax") {
    Bytes b;
    ByteWriter bw(b);
    bw.uvarint(static_cast<uint64_t>(limits::kStringBytesMax) + 2);
    b.resize(b.size() + limits::kStringBytesMax + 8, 'x');
    ApiVersionsRequest m;
    ByteReader r(b);
    Status st = m.decode(r, 3);
    CHECK_THAT(st.message(), Catch::Contains("client_software_name"));
    CHECK_THAT(st.message(), Catch::Contains("over the limit"));
  }
  SECTION("a compact string may be 32767 bytes long, as in Kafka, not 32768") {
    auto request = [](size_t name_bytes) {
      Bytes b;
      ByteWriter bw(b);
      bw.uvarint(name_bytes + 1);
      b.resize(b.size() + name_bytes, 'x');
      ByteWriter rest(b);
      rest.uvarint(2);  // client_software_version "1"
      b.push_back('1');
      rest.uvarint(0);  // no tagged fields
      return b;
    };
    Bytes ok = request(32767);
    ApiVersionsRequest m;
    ByteReader r(ok);
    REQUIRE(m.decode(r, 3).is_ok());
    CHECK(m.client_software_name.size() == 32767);
    Bytes over = request(32768);
    ByteReader r2(over);
    CHECK_THAT(m.decode(r2, 3).message(), Catch::Contains("over the limit"));
  }
  SECTION("bytes length negative") {
    // SyncGroupResponse v0: error_code, assignment length -7.
    Bytes b = {0, 0, 0xff, 0xff, 0xff, 0xf9};
    SyncGroupResponse m;
    ByteReader r(b);
    CHECK(m.decode(r, 0).code() == StatusCode::kCorruption);
  }
  SECTION("too many tagged fields") {
    Bytes b = {0x01, 0x01};  // two empty compact strings
    ByteWriter w(b);
    w.uvarint(limits::kTaggedFieldsMax + 1);
    ApiVersionsRequest m;
    ByteReader r(b);
    CHECK(m.decode(r, 3).code() == StatusCode::kCorruption);
  }
}

TEST_CASE("unknown tagged fields are skipped, known ones decoded") {
  SECTION("top level of a flexible request") {
    Bytes b = {0x02, 'a', 0x02, 'b',
               0x02,              // two tagged fields
               0x05, 0x02, 0xaa, 0xbb,  // tag 5 (unknown), 2 bytes
               0x7f, 0x00};       // tag 127 (unknown), empty
    ApiVersionsRequest m;
    ByteReader r(b);
    REQUIRE(m.decode(r, 3).is_ok());
    CHECK(r.at_end());
    CHECK(m.client_software_name == "a");
    CHECK(m.client_software_version == "b");
  }
  SECTION("inside a nested struct and next to a known tag") {
    ApiVersionsResponse resp;
    resp.api_keys.push_back({18, 0, 3});
    resp.finalized_features_epoch = 42;
    Bytes plain = encode(resp, 3);
    // error_code(2) | count(1) | api_key min max (6) | element tags(1) | throttle(4) | tags
    REQUIRE(plain[9] == 0x00);
    Bytes b(plain.begin(), plain.begin() + 9);
    for (uint8_t x : {0x01, 0x09, 0x01, 0x33}) b.push_back(x);  // element: unknown tag 9
    b.insert(b.end(), plain.begin() + 10, plain.end());
    ApiVersionsResponse back;
    ByteReader r(b);
    REQUIRE(back.decode(r, 3).is_ok());
    CHECK(r.at_end());
    CHECK(back.api_keys.at(0).max_version == 3);
    CHECK(back.finalized_features_epoch == 42);
  }
  SECTION("a tagged field set by the sender is encoded; defaults are not") {
    ApiVersionsResponse resp;
    Bytes empty_tags = encode(resp, 3);
    CHECK(empty_tags.back() == 0x00);
    resp.zk_migration_ready = true;
    Bytes with_tag = encode(resp, 3);
    CHECK(with_tag.size() == empty_tags.size() + 3);  // tag, size, one byte
    ApiVersionsResponse back;
    ByteReader r(with_tag);
    REQUIRE(back.decode(r, 3).is_ok());
    CHECK(back.zk_migration_ready);
  }
}

TEST_CASE("decode_request_body dispatches on the key and rejects unknown keys and versions") {
  Bytes empty;
  ByteReader r(empty);
  CHECK(decode_request_body(ListGroupsRequest::kApiKey, 0, r).is_ok());
  ByteReader r2(empty);
  CHECK(decode_request_body(99, 0, r2).code() == StatusCode::kUnsupported);
  ByteReader r3(empty);
  CHECK(decode_request_body(FetchRequest::kApiKey, 3, r3).code() == StatusCode::kUnsupported);
  ByteReader r4(empty);
  CHECK(decode_request_body(ProduceRequest::kApiKey, 3, r4).code() == StatusCode::kCorruption);
}
