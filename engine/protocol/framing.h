// Kafka frames: an int32 size prefix, then a header, then a message body. The connection layer
// cuts the byte stream into frames with check_frame_size(); these helpers turn one frame into
// (header, body) and back.
//
// parse_request_frame separates two failures the broker must treat differently:
//   kUnsupported  the key or version is not one we serve. The header's api_key, api_version
//                 and correlation_id are still filled in (they sit at fixed offsets in every
//                 header version), so the broker can answer UNSUPPORTED_VERSION; for
//                 ApiVersions it answers in v0 format, which every client can read.
//   kCorruption   the frame is malformed; the broker closes the connection.
#pragma once

#include <cstdint>

#include "engine/base/bytes.h"
#include "engine/base/status.h"
#include "engine/protocol/headers.h"

namespace strata::proto {

// Bytes in the size prefix in front of every frame.
inline constexpr size_t kFrameSizePrefixBytes = 4;
// api_key + api_version + correlation_id: present in every request header version.
inline constexpr size_t kRequestHeaderFixedBytes = 8;

// Validates a frame's size prefix: kCorruption if negative or too small to hold a header,
// kResourceExhausted above limits::kFrameBytesMax (socket.request.max.bytes).
Status check_frame_size(int32_t size_bytes);

// A request frame split into its header and a view of its body. `body` points into the
// frame passed to parse_request_frame, which must outlive it.
struct ParsedRequest {
  RequestHeader header;
  ByteSpan body;

  ByteReader body_reader() const { return ByteReader(body); }
};

// `frame` excludes the size prefix. See the comment at the top for the failure kinds.
Status parse_request_frame(ByteSpan frame, ParsedRequest& out);

// Response counterpart, for our own client. The caller knows (key, version) from the request
// with the same correlation id.
Status parse_response_frame(ByteSpan frame, int16_t api_key, int16_t api_version,
                            ResponseHeader& header, ByteSpan& body);

// Reserve the size prefix at the end of `out`; returns its position for finish_frame().
size_t begin_frame(ByteWriter& w);
// Patch the size prefix reserved at `at` to cover everything written since.
void finish_frame(ByteWriter& w, size_t at);

// Append a request's header (its version chosen from the key and version) and body, without
// the size prefix, to `out`: for a transport that writes the prefix itself, as
// append_response_unframed below.
template <class Msg>
void append_request_unframed(Bytes& out, const RequestHeader& h, const Msg& body) {
  static_assert(Msg::kIsRequest, "append_request_unframed needs a request message");
  STRATA_ASSERT(h.api_key == Msg::kApiKey, "header api_key differs from the message");
  ByteWriter w(out);
  encode_request_header(w, request_header_version(h.api_key, h.api_version), h);
  body.encode(w, h.api_version);
}

// Append a complete size-prefixed request frame to `out`.
template <class Msg>
void append_request_frame(Bytes& out, const RequestHeader& h, const Msg& body) {
  ByteWriter w(out);
  size_t at = begin_frame(w);
  append_request_unframed(out, h, body);
  finish_frame(w, at);
}

// Append a response's header and body, without the size prefix, to `out`: for a transport
// that writes the prefix itself (Runtime's send), so that the broker need not strip one by
// moving the whole response, which for a fetch is megabytes.
template <class Msg>
void append_response_unframed(Bytes& out, int32_t correlation_id, int16_t api_version,
                              const Msg& body) {
  static_assert(!Msg::kIsRequest, "append_response_unframed needs a response message");
  ByteWriter w(out);
  encode_response_header(w, response_header_version(Msg::kApiKey, api_version),
                         ResponseHeader{correlation_id});
  body.encode(w, api_version);
}

// Append a complete size-prefixed response frame to `out`.
template <class Msg>
void append_response_frame(Bytes& out, int32_t correlation_id, int16_t api_version,
                           const Msg& body) {
  static_assert(!Msg::kIsRequest, "append_response_frame needs a response message");
  ByteWriter w(out);
  size_t at = begin_frame(w);
  append_response_unframed(out, correlation_id, api_version, body);
  finish_frame(w, at);
}

}  // namespace strata::proto
