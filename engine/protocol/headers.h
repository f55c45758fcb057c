// Request and response headers, the part of every Kafka frame between the size prefix and the
// message body.
//
//   request header v0: api_key int16 | api_version int16 | correlation_id int32
//   request header v1: v0 | client_id nullable string (int16 length, -1 = null)
//   request header v2: v1 | tagged fields          (client_id stays a classic string)
//   response header v0: correlation_id int32
//   response header v1: v0 | tagged fields
//
// A request uses header v2 exactly when its version is flexible, v1 otherwise (v0 exists only
// for ControlledShutdown v0, which we do not serve). Responses use v1 when flexible, except
// ApiVersions, whose response header is always v0 so that a client that does not know the
// broker's versions yet can still read it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "engine/base/bytes.h"
#include "engine/base/status.h"

namespace strata::proto {

struct RequestHeader {
  int16_t api_key = 0;
  int16_t api_version = 0;
  int32_t correlation_id = 0;
  std::optional<std::string> client_id;  // v1+
};

struct ResponseHeader {
  int32_t correlation_id = 0;
};

// Header versions for a (key, version) pair; for keys we do not serve, the non-flexible form.
int16_t request_header_version(int16_t api_key, int16_t api_version);
int16_t response_header_version(int16_t api_key, int16_t api_version);

// Decoders take untrusted bytes: truncation or a bad client_id length is kCorruption.
Status decode_request_header(ByteReader& r, int16_t header_version, RequestHeader& out);
void encode_request_header(ByteWriter& w, int16_t header_version, const RequestHeader& h);
Status decode_response_header(ByteReader& r, int16_t header_version, ResponseHeader& out);
void encode_response_header(ByteWriter& w, int16_t header_version, const ResponseHeader& h);

}  // namespace strata::proto
