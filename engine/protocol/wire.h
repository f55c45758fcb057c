// Kafka wire primitives shared by the generated message codecs (messages.cc) and the
// hand-written headers. Every reader here treats its input as untrusted: a short buffer, a
// negative length that is not the null marker, or a length over engine/base/limits.h turns
// into Status::corruption naming the field, never an assertion. Writers assert only on
// programmer errors (a null value in a version where the field is not nullable, a string
// longer than the wire can express).
//
// Encodings (the "flex" flag selects the compact form used by flexible versions, KIP-482):
//   string   classic: int16 length (-1 = null) + bytes;  compact: uvarint length+1 (0 = null)
//   bytes    classic: int32 length (-1 = null) + bytes;  compact: uvarint length+1 (0 = null)
//   array    classic: int32 count (-1 = null);           compact: uvarint count+1 (0 = null)
//   tagged fields (flexible only): uvarint count, then per field uvarint tag, uvarint size,
//   `size` bytes of payload.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "engine/base/bytes.h"
#include "engine/base/status.h"

namespace strata::proto {

// Marks a message with no flexible version inside the range we support.
inline constexpr int16_t kNoFlexibleVersion = INT16_MAX;

using Uuid = std::array<uint8_t, 16>;

namespace wire {

// A reader ran out of bytes while reading `field`.
Status truncated(const char* field);

Status read_string(ByteReader& r, bool flex, std::string& out, const char* field);
// `nullable` says whether the null marker is legal in the version being decoded.
Status read_nullable_string(ByteReader& r, bool flex, bool nullable,
                            std::optional<std::string>& out, const char* field);
Status read_bytes(ByteReader& r, bool flex, Bytes& out, const char* field);
Status read_nullable_bytes(ByteReader& r, bool flex, bool nullable, std::optional<Bytes>& out,
                           const char* field);
// Records stay in the frame: `out` views the reader's buffer, which the caller keeps alive.
Status read_records(ByteReader& r, bool flex, bool nullable, std::optional<ByteSpan>& out,
                    const char* field);
Status read_uuid(ByteReader& r, Uuid& out, const char* field);
// Sets `count` to the element count, or -1 for a null array (only when `nullable`). A count
// larger than the bytes left is rejected up front: every element takes at least one byte,
// so it cannot be honest, and rejecting it bounds what a hostile count can make us allocate.
Status read_array_length(ByteReader& r, bool flex, bool nullable, int32_t& count,
                         const char* field);

// Tagged-field buffers. read_tagged_field returns the payload as a view to decode or skip.
Status read_tagged_count(ByteReader& r, uint32_t& count, const char* where);
Status read_tagged_field(ByteReader& r, uint32_t& tag, ByteSpan& payload, const char* where);
// Reads and discards a whole tagged-field buffer (a struct with no known tags).
Status skip_tagged_fields(ByteReader& r, const char* where);

void write_string(ByteWriter& w, bool flex, std::string_view s);
void write_nullable_string(ByteWriter& w, bool flex, bool nullable,
                           const std::optional<std::string>& s, const char* field);
void write_bytes(ByteWriter& w, bool flex, ByteSpan b);
void write_nullable_bytes(ByteWriter& w, bool flex, bool nullable, const std::optional<Bytes>& b,
                          const char* field);
void write_records(ByteWriter& w, bool flex, bool nullable, const std::optional<ByteSpan>& b,
                   const char* field);
void write_uuid(ByteWriter& w, const Uuid& u);
// `count` -1 writes the null marker.
void write_array_length(ByteWriter& w, bool flex, int64_t count);
// One tagged field: tag, payload size, payload.
void write_tagged_field(ByteWriter& w, uint32_t tag, ByteSpan payload);

}  // namespace wire
}  // namespace strata::proto
