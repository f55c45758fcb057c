// Byte-exact frames as real clients send them. The ApiVersions v3 frame was captured from
// kcat 1.7.1 / librdkafka 2.0.2 on this machine; the v0 and Metadata v1 frames follow
// kafka-python 2.0.2 (client id "kafka-python-2.0.2").
#include <catch2/catch.hpp>

#include <initializer_list>
#include <string>
#include <string_view>

#include "engine/protocol/framing.h"
#include "engine/protocol/messages.h"

using namespace strata;
using namespace strata::proto;

namespace {

Bytes from_hex(std::string_view hex) {
  Bytes out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<uint8_t>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

// Concatenates hex pieces (avoids std::string operator+, which trips a GCC 12 false
// -Wrestrict warning).
std::string join(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (std::string_view p : parts) out.append(p);
  return out;
}

// Strips the size prefix after checking it.
ByteSpan frame_body(const Bytes& frame) {
  REQUIRE(frame.size() >= 4);
  CHECK(load_be32(frame.data()) == frame.size() - 4);
  return ByteSpan(frame).subspan(4);
}

}  // namespace

TEST_CASE("ApiVersions v3 request from librdkafka 2.0.2 (kcat -L)") {
  const Bytes frame = from_hex(
      "00000024"              // size 36
      "0012" "0003"           // ApiVersions v3
      "00000001"              // correlation id 1
      "0007" "72646b61666b61" // client_id "rdkafka" (classic string even in header v2)
      "00"                    // header tags
      "0b" "6c696272646b61666b61"  // compact "librdkafka"
      "06" "322e302e32"       // compact "2.0.2"
      "00");                  // body tags
  ParsedRequest req;
  REQUIRE(parse_request_frame(frame_body(frame), req).is_ok());
  CHECK(req.header.api_key == 18);
  CHECK(req.header.api_version == 3);
  CHECK(req.header.correlation_id == 1);
  CHECK(req.header.client_id == "rdkafka");
  ApiVersionsRequest body;
  ByteReader r = req.body_reader();
  REQUIRE(body.decode(r, 3).is_ok());
  CHECK(r.at_end());
  CHECK(body.client_software_name == "librdkafka");
  CHECK(body.client_software_version == "2.0.2");

  Bytes again;
  append_request_frame(again, req.header, body);
  CHECK(again == frame);
}

TEST_CASE("ApiVersions v0 request from kafka-python 2.0.2") {
  const Bytes frame = from_hex(
      "0000001c"              // size 28
      "0012" "0000"           // ApiVersions v0
      "00000001"              // correlation id
      "0012" "6b61666b612d707974686f6e2d322e302e32");  // "kafka-python-2.0.2"; empty body
  ParsedRequest req;
  REQUIRE(parse_request_frame(frame_body(frame), req).is_ok());
  CHECK(req.header.client_id == "kafka-python-2.0.2");
  CHECK(req.body.empty());
  ApiVersionsRequest body;
  ByteReader r = req.body_reader();
  REQUIRE(body.decode(r, 0).is_ok());

  Bytes again;
  append_request_frame(again, req.header, body);
  CHECK(again == frame);
}

TEST_CASE("Metadata v1 request: all topics (null array) and one named topic") {
  RequestHeader h{3, 1, 2, std::string("kafka-python-2.0.2")};
  const std::string_view header_hex = "0003" "0001" "00000002" "0012"
                                      "6b61666b612d707974686f6e2d322e302e32";
  SECTION("null topics") {
    const Bytes frame = from_hex(join({"00000020", header_hex, "ffffffff"}));
    MetadataRequest m;
    m.topics.reset();  // the default is an empty list, which v0 can also express
    Bytes encoded;
    append_request_frame(encoded, h, m);
    CHECK(encoded == frame);
    ParsedRequest req;
    REQUIRE(parse_request_frame(frame_body(frame), req).is_ok());
    MetadataRequest back;
    ByteReader r = req.body_reader();
    REQUIRE(back.decode(r, 1).is_ok());
    CHECK_FALSE(back.topics.has_value());
  }
  SECTION("topic \"test\"") {
    const Bytes frame = from_hex(join({"00000026", header_hex, "00000001" "0004" "74657374"}));
    MetadataRequest m;
    m.topics.emplace().push_back({"test"});
    Bytes encoded;
    append_request_frame(encoded, h, m);
    CHECK(encoded == frame);
  }
}

TEST_CASE("ApiVersions v3 response uses response header v0 and a compact array") {
  ApiVersionsResponse resp;
  resp.api_keys.push_back({18, 0, 3});
  Bytes frame;
  append_response_frame(frame, 7, 3, resp);
  const Bytes expected = from_hex(
      "00000013"        // size 19
      "00000007"        // correlation id, no header tag buffer
      "0000"            // error_code
      "02"              // compact array: 1 element
      "0012" "0000" "0003" "00"  // ApiVersions 0-3, element tags
      "00000000"        // throttle_time_ms
      "00");            // body tags
  CHECK(frame == expected);
}

TEST_CASE("Produce v3 request layout") {
  ProduceRequest req;
  req.acks = 1;
  req.timeout_ms = 1500;
  const uint8_t batch[] = {0xaa, 0xbb};
  ProduceRequest::PartitionData part;
  part.index = 0;
  part.records = ByteSpan(batch, 2);
  req.topic_data.push_back({std::string("t"), {part}});
  Bytes out;
  ByteWriter w(out);
  req.encode(w, 3);
  const Bytes expected = from_hex(
      "ffff"            // transactional_id null
      "0001" "000005dc" // acks 1, timeout 1500
      "00000001" "0001" "74"  // 1 topic, "t"
      "00000001" "00000000"   // 1 partition, index 0
      "00000002" "aabb");     // records
  CHECK(out == expected);
}
