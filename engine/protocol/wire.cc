#include "engine/protocol/wire.h"

#include <algorithm>

#include "engine/base/limits.h"

namespace strata::proto::wire {
namespace {

Status bad(const char* field, const char* why) {
  std::string m(field);
  m += ": ";
  m += why;
  return Status::corruption(std::move(m));
}

// Reads a length prefix for a string/bytes/array. Classic prefixes are signed (`wide` picks
// int32 over int16); compact ones are uvarint length+1. Sets `len` to -1 for null.
Status read_length(ByteReader& r, bool flex, bool wide, bool nullable, int64_t max, int64_t& len,
                   const char* field) {
  if (flex) {
    len = static_cast<int64_t>(r.uvarint()) - 1;
  } else {
    len = wide ? r.i32() : r.i16();
  }
  if (!r.ok()) return truncated(field);
  if (len == -1) return nullable ? ok_status() : bad(field, "null in a non-nullable version");
  if (len < -1) return bad(field, "negative length");
  if (len > max) return bad(field, "length over the limit");
  if (static_cast<uint64_t>(len) > r.remaining()) return truncated(field);
  return ok_status();
}

Status read_span(ByteReader& r, bool flex, bool wide, bool nullable, int64_t max,
                 std::optional<ByteSpan>& out, const char* field) {
  int64_t len = 0;
  STRATA_RETURN_IF_ERROR(read_length(r, flex, wide, nullable, max, len, field));
  if (len < 0) {
    out.reset();
    return ok_status();
  }
  out = r.take(static_cast<size_t>(len));
  return r.ok() ? ok_status() : truncated(field);
}

}  // namespace

Status truncated(const char* field) { return bad(field, "truncated"); }

Status read_string(ByteReader& r, bool flex, std::string& out, const char* field) {
  std::optional<ByteSpan> s;
  STRATA_RETURN_IF_ERROR(read_span(r, flex, false, false, limits::kStringBytesMax, s, field));
  out.assign(as_chars(*s));
  return ok_status();
}

Status read_nullable_string(ByteReader& r, bool flex, bool nullable,
                            std::optional<std::string>& out, const char* field) {
  std::optional<ByteSpan> s;
  STRATA_RETURN_IF_ERROR(read_span(r, flex, false, nullable, limits::kStringBytesMax, s, field));
  if (s) {
    out.emplace(as_chars(*s));
  } else {
    out.reset();
  }
  return ok_status();
}

Status read_bytes(ByteReader& r, bool flex, Bytes& out, const char* field) {
  std::optional<ByteSpan> s;
  STRATA_RETURN_IF_ERROR(read_span(r, flex, true, false, limits::kBytesFieldMax, s, field));
  out.assign(s->begin(), s->end());
  return ok_status();
}

Status read_nullable_bytes(ByteReader& r, bool flex, bool nullable, std::optional<Bytes>& out,
                           const char* field) {
  std::optional<ByteSpan> s;
  STRATA_RETURN_IF_ERROR(read_span(r, flex, true, nullable, limits::kBytesFieldMax, s, field));
  if (s) {
    out.emplace(s->begin(), s->end());
  } else {
    out.reset();
  }
  return ok_status();
}

Status read_records(ByteReader& r, bool flex, bool nullable, std::optional<ByteSpan>& out,
                    const char* field) {
  return read_span(r, flex, true, nullable, limits::kBytesFieldMax, out, field);
}

Status read_uuid(ByteReader& r, Uuid& out, const char* field) {
  ByteSpan s = r.take(out.size());
  if (!r.ok()) return truncated(field);
  std::copy(s.begin(), s.end(), out.begin());
  return ok_status();
}

Status read_array_length(ByteReader& r, bool flex, bool nullable, int32_t& count,
                         const char* field) {
  int64_t len = 0;
  STRATA_RETURN_IF_ERROR(
      read_length(r, flex, true, nullable, limits::kArrayElementsMax, len, field));
  count = static_cast<int32_t>(len);
  return ok_status();
}

Status read_tagged_count(ByteReader& r, uint32_t& count, const char* where) {
  count = r.uvarint();
  if (!r.ok()) return truncated(where);
  if (count > static_cast<uint32_t>(limits::kTaggedFieldsMax)) {
    return bad(where, "too many tagged fields");
  }
  return ok_status();
}

Status read_tagged_field(ByteReader& r, uint32_t& tag, ByteSpan& payload, const char* where) {
  tag = r.uvarint();
  uint32_t size = r.uvarint();
  if (!r.ok()) return truncated(where);
  if (size > r.remaining()) return truncated(where);
  payload = r.take(size);
  return r.ok() ? ok_status() : truncated(where);
}

Status skip_tagged_fields(ByteReader& r, const char* where) {
  uint32_t count = 0;
  STRATA_RETURN_IF_ERROR(read_tagged_count(r, count, where));
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t tag = 0;
    ByteSpan payload;
    STRATA_RETURN_IF_ERROR(read_tagged_field(r, tag, payload, where));
  }
  return ok_status();
}

namespace {

// Encoding null where the version forbids it is a bug in the caller (a handler that forgot to
// fill a field), so it asserts; the field name makes the failure easy to find.
void require_value(bool ok, const char* field) {
  if (!ok) [[unlikely]] {
    detail::assert_fail("value present or nullable", __FILE__, __LINE__, field);
  }
}

void write_length(ByteWriter& w, bool flex, bool wide, int64_t len) {
  if (flex) {
    w.uvarint(static_cast<uint64_t>(len + 1));
  } else if (wide) {
    STRATA_ASSERT(len <= INT32_MAX, "length does not fit an int32 prefix");
    w.i32(static_cast<int32_t>(len));
  } else {
    STRATA_ASSERT(len <= INT16_MAX, "string longer than an int16 prefix allows");
    w.i16(static_cast<int16_t>(len));
  }
}

}  // namespace

void write_string(ByteWriter& w, bool flex, std::string_view s) {
  write_length(w, flex, false, static_cast<int64_t>(s.size()));
  w.raw(s);
}

void write_nullable_string(ByteWriter& w, bool flex, bool nullable,
                           const std::optional<std::string>& s, const char* field) {
  require_value(s.has_value() || nullable, field);
  if (!s) {
    write_length(w, flex, false, -1);
    return;
  }
  write_string(w, flex, *s);
}

void write_bytes(ByteWriter& w, bool flex, ByteSpan b) {
  write_length(w, flex, true, static_cast<int64_t>(b.size()));
  w.raw(b);
}

void write_nullable_bytes(ByteWriter& w, bool flex, bool nullable, const std::optional<Bytes>& b,
                          const char* field) {
  require_value(b.has_value() || nullable, field);
  if (!b) {
    write_length(w, flex, true, -1);
    return;
  }
  write_bytes(w, flex, *b);
}

void write_records(ByteWriter& w, bool flex, bool nullable, const std::optional<ByteSpan>& b,
                   const char* field) {
  require_value(b.has_value() || nullable, field);
  if (!b) {
    write_length(w, flex, true, -1);
    return;
  }
  write_bytes(w, flex, *b);
}

void write_uuid(ByteWriter& w, const Uuid& u) { w.raw(ByteSpan(u.data(), u.size())); }

void write_array_length(ByteWriter& w, bool flex, int64_t count) {
  STRATA_ASSERT(count >= -1, "array count below the null marker");
  write_length(w, flex, true, count);
}

void write_tagged_field(ByteWriter& w, uint32_t tag, ByteSpan payload) {
  w.uvarint(tag);
  w.uvarint(payload.size());
  w.raw(payload);
}

}  // namespace strata::proto::wire
