// Headers, frames, the ApiVersions table and error names.
#include <catch2/catch.hpp>

#include "engine/base/limits.h"
#include "engine/protocol/api_keys.h"
#include "engine/protocol/errors.h"
#include "engine/protocol/framing.h"
#include "engine/protocol/messages.h"

using namespace strata;
using namespace strata::proto;

namespace {

Bytes request_frame_without_prefix(int16_t key, int16_t version, int32_t correlation_id) {
  Bytes out;
  ByteWriter w(out);
  w.i16(key);
  w.i16(version);
  w.i32(correlation_id);
  w.i16(3);
  w.raw(std::string_view("cli"));
  return out;
}

}  // namespace

TEST_CASE("header versions follow flexibility, except ApiVersions responses") {
  CHECK(request_header_version(to_int(ApiKey::kApiVersions), 3) == 2);
  CHECK(request_header_version(to_int(ApiKey::kApiVersions), 2) == 1);
  CHECK(request_header_version(to_int(ApiKey::kMetadata), 8) == 1);
  CHECK(request_header_version(to_int(ApiKey::kInitProducerId), 2) == 2);
  CHECK(request_header_version(to_int(ApiKey::kInitProducerId), 1) == 1);
  CHECK(response_header_version(to_int(ApiKey::kApiVersions), 3) == 0);
  CHECK(response_header_version(to_int(ApiKey::kInitProducerId), 4) == 1);
  CHECK(response_header_version(to_int(ApiKey::kInitProducerId), 1) == 0);
  CHECK(response_header_version(to_int(ApiKey::kFetch), 11) == 0);
}

TEST_CASE("request headers v0-v2 round-trip, client_id stays a classic string in v2") {
  for (int16_t hv = 0; hv <= 2; ++hv) {
    RequestHeader h{22, 4, 77, std::string("me")};
    Bytes b;
    ByteWriter w(b);
    encode_request_header(w, hv, h);
    CHECK(b.size() == size_t{8} + (hv >= 1 ? 4 : 0) + (hv == 2 ? 1 : 0));
    if (hv >= 1) CHECK(b[8] == 0x00);  // int16 length high byte, not a uvarint
    RequestHeader back;
    ByteReader r(b);
    REQUIRE(decode_request_header(r, hv, back).is_ok());
    CHECK(r.at_end());
    CHECK(back.correlation_id == 77);
    CHECK(back.client_id == (hv >= 1 ? h.client_id : std::nullopt));
  }
  RequestHeader null_client{18, 0, 1, std::nullopt};
  Bytes b;
  ByteWriter w(b);
  encode_request_header(w, 1, null_client);
  RequestHeader back;
  ByteReader r(b);
  REQUIRE(decode_request_header(r, 1, back).is_ok());
  CHECK_FALSE(back.client_id.has_value());
}

TEST_CASE("response headers v0-v1 round-trip and skip unknown tags") {
  Bytes b = {0, 0, 0, 9, 0x01, 0x04, 0x01, 0xee};  // v1 with unknown tag 4
  ResponseHeader h;
  ByteReader r(b);
  REQUIRE(decode_response_header(r, 1, h).is_ok());
  CHECK(h.correlation_id == 9);
  CHECK(r.at_end());
  Bytes out;
  ByteWriter w(out);
  encode_response_header(w, 0, h);
  CHECK(out.size() == 4);
}

TEST_CASE("parse_request_frame: unsupported keys and versions keep the correlation id") {
  SECTION("unknown api key") {
    Bytes f = request_frame_without_prefix(1000, 0, 4242);
    ParsedRequest req;
    Status st = parse_request_frame(f, req);
    CHECK(st.code() == StatusCode::kUnsupported);
    CHECK(req.header.correlation_id == 4242);
    CHECK(req.header.api_key == 1000);
    CHECK(req.header.client_id == "cli");
  }
  SECTION("ApiVersions v4 (newer than we serve)") {
    Bytes f = request_frame_without_prefix(18, 4, 5);
    f.push_back(0);  // header tags as a v4 client would send
    ParsedRequest req;
    Status st = parse_request_frame(f, req);
    CHECK(st.code() == StatusCode::kUnsupported);
    CHECK(req.header.api_version == 4);
    CHECK(req.header.correlation_id == 5);
  }
  SECTION("Fetch v2 (older than we serve)") {
    ParsedRequest req;
    CHECK(parse_request_frame(request_frame_without_prefix(1, 2, 6), req).code() ==
          StatusCode::kUnsupported);
    CHECK(req.header.correlation_id == 6);
  }
  SECTION("unsupported and too short for a client id still yields the correlation id") {
    Bytes f = request_frame_without_prefix(1000, 0, 8);
    f.resize(9);
    ParsedRequest req;
    CHECK(parse_request_frame(f, req).code() == StatusCode::kUnsupported);
    CHECK(req.header.correlation_id == 8);
  }
}

TEST_CASE("parse_request_frame: malformed frames are corruption") {
  ParsedRequest req;
  Bytes short_frame = {0, 3, 0, 1, 0, 0};
  CHECK(parse_request_frame(short_frame, req).code() == StatusCode::kCorruption);
  Bytes f = request_frame_without_prefix(3, 1, 1);
  f[9] = 50;  // client_id length beyond the frame
  CHECK(parse_request_frame(f, req).code() == StatusCode::kCorruption);
  Bytes flex = request_frame_without_prefix(18, 3, 1);  // v2 header missing its tag buffer
  CHECK(parse_request_frame(flex, req).code() == StatusCode::kCorruption);
}

TEST_CASE("frame sizes are bounded") {
  CHECK(check_frame_size(8).is_ok());
  CHECK(check_frame_size(-1).code() == StatusCode::kCorruption);
  CHECK(check_frame_size(2).code() == StatusCode::kCorruption);
  CHECK(check_frame_size(limits::kFrameBytesMax).is_ok());
  CHECK(check_frame_size(limits::kFrameBytesMax + 1).code() == StatusCode::kResourceExhausted);
}

TEST_CASE("response frames round-trip through parse_response_frame") {
  InitProducerIdResponse resp;
  resp.producer_id = 1234;
  resp.producer_epoch = 2;
  Bytes frame;
  append_response_frame(frame, 99, 4, resp);
  ResponseHeader h;
  ByteSpan body;
  ByteSpan after_size = ByteSpan(frame).subspan(4);
  REQUIRE(parse_response_frame(after_size, 22, 4, h, body).is_ok());
  CHECK(h.correlation_id == 99);
  InitProducerIdResponse back;
  ByteReader r(body);
  REQUIRE(back.decode(r, 4).is_ok());
  CHECK(back.producer_id == 1234);
  CHECK(r.at_end());
}

TEST_CASE("the ApiVersions table is the one the clients need") {
  auto apis = supported_apis();
  CHECK(apis.size() == 26);
  const ApiVersionRange* fc = find_api(to_int(ApiKey::kFindCoordinator));
  REQUIRE(fc != nullptr);
  CHECK(fc->min_version == 0);  // librdkafka 2.0.2 needs v0 for consumer groups
  CHECK(is_supported(to_int(ApiKey::kProduce), 3));
  CHECK(is_supported(to_int(ApiKey::kProduce), 7));
  CHECK_FALSE(is_supported(to_int(ApiKey::kProduce), 8));
  CHECK(is_supported(to_int(ApiKey::kFetch), 4));
  CHECK(is_supported(to_int(ApiKey::kFetch), 11));
  CHECK_FALSE(is_supported(17, 0));
  CHECK(is_supported(to_int(ApiKey::kAlterConfigs), 0));  // librdkafka 2.0.2 sends v0 only
  CHECK(is_flexible(to_int(ApiKey::kIncrementalAlterConfigs), 1));
  CHECK(is_supported(to_int(ApiKey::kDeleteRecords), 2));
  CHECK(is_flexible(to_int(ApiKey::kApiVersions), 3));
  CHECK_FALSE(is_flexible(to_int(ApiKey::kMetadata), 8));
  CHECK(api_name(3) == "Metadata");
  CHECK(api_name(-5) == "Unknown");
  for (const auto& a : apis) {
    INFO(a.name);
    CHECK(a.min_version <= a.max_version);
  }
}

TEST_CASE("error codes carry Kafka's numbers and names") {
  CHECK(to_int(ErrorCode::kNone) == 0);
  CHECK(to_int(ErrorCode::kUnknownServerError) == -1);
  CHECK(to_int(ErrorCode::kUnsupportedVersion) == 35);
  CHECK(to_int(ErrorCode::kMemberIdRequired) == 79);
  CHECK(to_int(ErrorCode::kUnknownTopicId) == 100);
  CHECK(error_name(ErrorCode::kUnknownTopicOrPartition) == "UNKNOWN_TOPIC_OR_PARTITION");
  CHECK(error_name(ErrorCode::kNotLeaderOrFollower) == "NOT_LEADER_OR_FOLLOWER");
  CHECK(error_name(int16_t{46}) == "DUPLICATE_SEQUENCE_NUMBER");
  CHECK(error_name(int16_t{99}) == "UNKNOWN_ERROR_CODE");
  CHECK(error_name(int16_t{-2}) == "UNKNOWN_ERROR_CODE");
  CHECK(is_retriable(ErrorCode::kNotLeaderOrFollower));
  CHECK_FALSE(is_retriable(ErrorCode::kTopicAlreadyExists));
}
