#include "engine/protocol/headers.h"

#include "engine/protocol/api_keys.h"
#include "engine/protocol/wire.h"

namespace strata::proto {

int16_t request_header_version(int16_t api_key, int16_t api_version) {
  return is_flexible(api_key, api_version) ? 2 : 1;
}

int16_t response_header_version(int16_t api_key, int16_t api_version) {
  if (api_key == to_int(ApiKey::kApiVersions)) return 0;
  return is_flexible(api_key, api_version) ? 1 : 0;
}

Status decode_request_header(ByteReader& r, int16_t header_version, RequestHeader& out) {
  STRATA_ASSERT(header_version >= 0 && header_version <= 2, "request header v0-v2 only");
  out = RequestHeader{};
  out.api_key = r.i16();
  out.api_version = r.i16();
  out.correlation_id = r.i32();
  if (!r.ok()) return wire::truncated("RequestHeader");
  if (header_version >= 1) {
    // Never compact, even in v2: Kafka kept the client id readable by any broker version.
    STRATA_RETURN_IF_ERROR(
        wire::read_nullable_string(r, false, true, out.client_id, "RequestHeader.client_id"));
  }
  if (header_version >= 2) {
    STRATA_RETURN_IF_ERROR(wire::skip_tagged_fields(r, "RequestHeader"));
  }
  return ok_status();
}

void encode_request_header(ByteWriter& w, int16_t header_version, const RequestHeader& h) {
  STRATA_ASSERT(header_version >= 0 && header_version <= 2, "request header v0-v2 only");
  w.i16(h.api_key);
  w.i16(h.api_version);
  w.i32(h.correlation_id);
  if (header_version >= 1) {
    wire::write_nullable_string(w, false, true, h.client_id, "RequestHeader.client_id");
  }
  if (header_version >= 2) w.uvarint(0);  // no tagged fields
}

Status decode_response_header(ByteReader& r, int16_t header_version, ResponseHeader& out) {
  STRATA_ASSERT(header_version == 0 || header_version == 1, "response header v0-v1 only");
  out.correlation_id = r.i32();
  if (!r.ok()) return wire::truncated("ResponseHeader");
  if (header_version >= 1) {
    STRATA_RETURN_IF_ERROR(wire::skip_tagged_fields(r, "ResponseHeader"));
  }
  return ok_status();
}

void encode_response_header(ByteWriter& w, int16_t header_version, const ResponseHeader& h) {
  STRATA_ASSERT(header_version == 0 || header_version == 1, "response header v0-v1 only");
  w.i32(h.correlation_id);
  if (header_version >= 1) w.uvarint(0);  // no tagged fields
}

}  // namespace strata::proto
