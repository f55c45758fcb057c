#include "engine/protocol/framing.h"

#include <string>

#include "engine/base/limits.h"
#include "engine/protocol/api_keys.h"

namespace strata::proto {

Status check_frame_size(int32_t size_bytes) {
  // The smallest legal frame is a response header (4 bytes) with an empty body.
  if (size_bytes < 4) {
    return Status::corruption("frame size " + std::to_string(size_bytes) + " too small");
  }
  if (size_bytes > limits::kFrameBytesMax) {
    return Status::resource_exhausted("frame size " + std::to_string(size_bytes) +
                                      " over the limit");
  }
  return ok_status();
}

Status parse_request_frame(ByteSpan frame, ParsedRequest& out) {
  out = ParsedRequest{};
  if (frame.size() < kRequestHeaderFixedBytes) {
    return Status::corruption("request frame shorter than a request header");
  }
  ByteReader r(frame);
  const int16_t key = static_cast<int16_t>(load_be16(frame.data()));
  const int16_t version = static_cast<int16_t>(load_be16(frame.data() + 2));
  if (!is_supported(key, version)) {
    // The fixed part is all the broker needs to answer; the client id (read as in header v1,
    // which every later version shares) only helps logging, so its failure is ignored.
    (void)decode_request_header(r, 1, out.header);
    return Status::unsupported(std::string(api_name(key)) + " (key " + std::to_string(key) +
                               ") v" + std::to_string(version));
  }
  STRATA_RETURN_IF_ERROR(decode_request_header(r, request_header_version(key, version),
                                               out.header));
  out.body = frame.subspan(r.position());
  return ok_status();
}

Status parse_response_frame(ByteSpan frame, int16_t api_key, int16_t api_version,
                            ResponseHeader& header, ByteSpan& body) {
  ByteReader r(frame);
  STRATA_RETURN_IF_ERROR(
      decode_response_header(r, response_header_version(api_key, api_version), header));
  body = frame.subspan(r.position());
  return ok_status();
}

size_t begin_frame(ByteWriter& w) { return w.reserve(kFrameSizePrefixBytes); }

void finish_frame(ByteWriter& w, size_t at) {
  STRATA_ASSERT(at + kFrameSizePrefixBytes <= w.size(), "finish_frame before begin_frame");
  const size_t body_bytes = w.size() - at - kFrameSizePrefixBytes;
  STRATA_ASSERT(body_bytes <= static_cast<size_t>(limits::kFrameBytesMax),
                "encoded frame larger than the frame limit");
  w.patch_i32(at, static_cast<int32_t>(body_bytes));
}

}  // namespace strata::proto
