#include "engine/group/offsets_codec.h"

#include <cstdint>

#include "engine/protocol/wire.h"

namespace strata::group {
namespace {

constexpr int16_t kOffsetKeyVersion = 1;
constexpr int16_t kGroupKeyVersion = 2;
constexpr int16_t kOffsetValueVersion = 3;
constexpr int16_t kGroupValueVersion = 3;

using proto::wire::read_bytes;
using proto::wire::read_nullable_string;
using proto::wire::read_string;
using proto::wire::write_bytes;
using proto::wire::write_nullable_string;
using proto::wire::write_string;

Status need(const ByteReader& r, const char* field) {
  if (!r.ok()) {
    return Status::corruption(std::string("__consumer_offsets record: truncated ") + field);
  }
  return ok_status();
}

Status expect_end(const ByteReader& r, const char* what) {
  if (!r.at_end()) {
    return Status::corruption(std::string("__consumer_offsets record: trailing bytes after ") +
                              what);
  }
  return ok_status();
}

}  // namespace

Bytes encode_offset_key(std::string_view group, std::string_view topic, int32_t partition) {
  Bytes out;
  ByteWriter w(out);
  w.i16(kOffsetKeyVersion);
  write_string(w, false, group);
  write_string(w, false, topic);
  w.i32(partition);
  return out;
}

Bytes encode_offset_value(const CommittedOffset& v) {
  Bytes out;
  ByteWriter w(out);
  w.i16(kOffsetValueVersion);
  w.i64(v.offset);
  w.i32(v.leader_epoch);
  write_string(w, false, v.metadata);
  w.i64(v.commit_timestamp_ms);
  return out;
}

Bytes encode_group_key(std::string_view group) {
  Bytes out;
  ByteWriter w(out);
  w.i16(kGroupKeyVersion);
  write_string(w, false, group);
  return out;
}

Bytes encode_group_value(const GroupRecord& v) {
  Bytes out;
  ByteWriter w(out);
  w.i16(kGroupValueVersion);
  write_string(w, false, v.protocol_type);
  w.i32(v.generation);
  write_nullable_string(w, false, true, v.protocol, "protocol");
  write_nullable_string(w, false, true, v.leader, "leader");
  w.i64(v.current_state_timestamp_ms);
  w.i32(static_cast<int32_t>(v.members.size()));
  for (const MemberRecord& m : v.members) {
    write_string(w, false, m.member_id);
    write_nullable_string(w, false, true, m.group_instance_id, "group_instance_id");
    write_string(w, false, m.client_id);
    write_string(w, false, m.client_host);
    w.i32(m.rebalance_timeout_ms);
    w.i32(m.session_timeout_ms);
    write_bytes(w, false, m.subscription);
    write_bytes(w, false, m.assignment);
  }
  return out;
}

Result<OffsetsKey> decode_offsets_key(ByteSpan key) {
  ByteReader r(key);
  int16_t version = r.i16();
  STRATA_RETURN_IF_ERROR(need(r, "key version"));
  OffsetsKey out;
  STRATA_RETURN_IF_ERROR(read_string(r, false, out.group, "group"));
  if (version == 0 || version == 1) {
    out.kind = OffsetsKey::Kind::kOffset;
    STRATA_RETURN_IF_ERROR(read_string(r, false, out.topic, "topic"));
    out.partition = r.i32();
    STRATA_RETURN_IF_ERROR(need(r, "partition"));
  } else if (version == 2) {
    out.kind = OffsetsKey::Kind::kGroup;
  } else {
    return Status::corruption("__consumer_offsets record: unknown key version " +
                              std::to_string(version));
  }
  STRATA_RETURN_IF_ERROR(expect_end(r, "key"));
  return out;
}

Result<CommittedOffset> decode_offset_value(ByteSpan value) {
  ByteReader r(value);
  int16_t version = r.i16();
  STRATA_RETURN_IF_ERROR(need(r, "offset value version"));
  if (version < 0 || version > 3) {
    return Status::corruption("__consumer_offsets record: unknown offset value version " +
                              std::to_string(version));
  }
  CommittedOffset out;
  out.offset = r.i64();
  if (version >= 3) out.leader_epoch = r.i32();
  STRATA_RETURN_IF_ERROR(need(r, "offset"));
  STRATA_RETURN_IF_ERROR(read_string(r, false, out.metadata, "metadata"));
  out.commit_timestamp_ms = r.i64();
  if (version == 1) (void)r.i64();  // expire timestamp: retention is the broker's now
  STRATA_RETURN_IF_ERROR(need(r, "commit timestamp"));
  STRATA_RETURN_IF_ERROR(expect_end(r, "offset value"));
  return out;
}

Result<GroupRecord> decode_group_value(ByteSpan value) {
  ByteReader r(value);
  int16_t version = r.i16();
  STRATA_RETURN_IF_ERROR(need(r, "group value version"));
  if (version < 0 || version > 3) {
    return Status::corruption("__consumer_offsets record: unknown group value version " +
                              std::to_string(version));
  }
  GroupRecord out;
  STRATA_RETURN_IF_ERROR(read_string(r, false, out.protocol_type, "protocol_type"));
  out.generation = r.i32();
  STRATA_RETURN_IF_ERROR(need(r, "generation"));
  STRATA_RETURN_IF_ERROR(read_nullable_string(r, false, true, out.protocol, "protocol"));
  STRATA_RETURN_IF_ERROR(read_nullable_string(r, false, true, out.leader, "leader"));
  if (version >= 2) out.current_state_timestamp_ms = r.i64();
  int32_t count = 0;
  STRATA_RETURN_IF_ERROR(proto::wire::read_array_length(r, false, false, count, "members"));
  out.members.reserve(static_cast<size_t>(count));
  for (int32_t i = 0; i < count; ++i) {
    MemberRecord m;
    STRATA_RETURN_IF_ERROR(read_string(r, false, m.member_id, "member_id"));
    if (version >= 3) {
      STRATA_RETURN_IF_ERROR(
          read_nullable_string(r, false, true, m.group_instance_id, "group_instance_id"));
    }
    STRATA_RETURN_IF_ERROR(read_string(r, false, m.client_id, "client_id"));
    STRATA_RETURN_IF_ERROR(read_string(r, false, m.client_host, "client_host"));
    if (version >= 1) m.rebalance_timeout_ms = r.i32();
    m.session_timeout_ms = r.i32();
    if (version == 0) m.rebalance_timeout_ms = m.session_timeout_ms;
    STRATA_RETURN_IF_ERROR(need(r, "session_timeout"));
    STRATA_RETURN_IF_ERROR(read_bytes(r, false, m.subscription, "subscription"));
    STRATA_RETURN_IF_ERROR(read_bytes(r, false, m.assignment, "assignment"));
    out.members.push_back(std::move(m));
  }
  STRATA_RETURN_IF_ERROR(expect_end(r, "group value"));
  return out;
}

int32_t partition_for_group(std::string_view group, int32_t partitions) {
  // Java's String.hashCode: h = 31*h + c over UTF-16 code units, in int32 arithmetic.
  uint32_t h = 0;
  auto add = [&h](uint32_t unit) { h = h * 31 + unit; };
  for (size_t i = 0; i < group.size();) {
    auto c = static_cast<uint8_t>(group[i]);
    uint32_t cp = c;
    size_t len = 1;
    if (c >= 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else if (c >= 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if (c >= 0xC0) {
      len = 2;
      cp = c & 0x1F;
    }
    if (i + len > group.size()) {  // truncated UTF-8: take the byte as it is
      len = 1;
      cp = c;
    }
    for (size_t k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<uint8_t>(group[i + k]) & 0x3F);
    if (cp >= 0x10000) {
      cp -= 0x10000;
      add(0xD800 + (cp >> 10));
      add(0xDC00 + (cp & 0x3FF));
    } else {
      add(cp);
    }
    i += len;
  }
  // Kafka's Utils.abs: Math.abs, except that Integer.MIN_VALUE maps to 0. Not a sign-bit
  // mask: for a negative hash the two differ (-5 -> 5, but -5 & 0x7fffffff -> 2147483643).
  auto hash = static_cast<int32_t>(h);
  int32_t positive = hash == INT32_MIN ? 0 : (hash < 0 ? -hash : hash);
  return partitions > 0 ? positive % partitions : 0;
}

}  // namespace strata::group
