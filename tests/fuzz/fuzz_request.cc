// libFuzzer target: one request frame (without its size prefix), as the broker receives it
// from a socket. Exercises parse_request_frame() (header v0-v2, client id, tagged fields) and
// the generated decoder of every API and version we serve, through decode_request_body().
//
// Every input is hostile; the only acceptable outcomes are a Status or success. A crash, an
// assertion (STRATA_ASSERT aborts), a sanitizer report or a leak is a bug in the decoder.
//
// The first input byte also selects a second route: when it is 0xFF, the rest is decoded as
// the body of (api_key, version) taken from the next four bytes, so the fuzzer can reach
// every decoder without first building a valid header.
#include <cstddef>
#include <cstdint>

#include "engine/base/bytes.h"
#include "engine/protocol/framing.h"
#include "engine/protocol/messages.h"

using namespace strata;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteSpan input(data, size);
  if (size >= 5 && data[0] == 0xFF) {
    auto key = static_cast<int16_t>((data[1] << 8) | data[2]);
    auto version = static_cast<int16_t>((data[3] << 8) | data[4]);
    ByteReader body(input.subspan(5));
    (void)proto::decode_request_body(key, version, body);
    return 0;
  }
  proto::ParsedRequest req;
  Status s = proto::parse_request_frame(input, req);
  if (!s) return 0;
  ByteReader body = req.body_reader();
  (void)proto::decode_request_body(req.header.api_key, req.header.api_version, body);
  return 0;
}
