// Test helpers for storage tests: minimal valid record batches v2 (uncompressed, CreateTime),
// built by hand so these tests do not depend on the protocol module's batch builder.
#pragma once

#include <cstdint>
#include <string>

#include "engine/base/bytes.h"
#include "engine/base/crc32c.h"
#include "engine/protocol/record_batch_format.h"
#include "engine/storage/batch_header.h"
#include "engine/storage/partition_log.h"

namespace strata::testing {

struct BatchSpec {
  int32_t records = 1;
  int64_t first_timestamp_ms = 1'700'000'000'000;
  int64_t timestamp_step_ms = 1;  // record i has first_timestamp_ms + i * step
  size_t value_bytes = 10;
  int16_t attributes = 0;
};

inline Bytes make_batch(const BatchSpec& spec) {
  namespace bf = batch_format;
  Bytes out;
  ByteWriter w(out);
  w.i64(0);                         // baseOffset: assigned by the log
  size_t length_at = w.reserve(4);  // batchLength
  w.i32(-1);                        // partitionLeaderEpoch: stamped by the log
  w.i8(bf::kMagicV2);
  size_t crc_at = w.reserve(4);
  w.i16(spec.attributes);
  w.i32(spec.records - 1);  // lastOffsetDelta
  w.i64(spec.first_timestamp_ms);
  w.i64(spec.first_timestamp_ms + (spec.records - 1) * spec.timestamp_step_ms);
  w.i64(-1);  // producerId
  w.i16(-1);  // producerEpoch
  w.i32(-1);  // baseSequence
  w.i32(spec.records);
  for (int32_t i = 0; i < spec.records; ++i) {
    Bytes rec;
    ByteWriter r(rec);
    r.i8(0);
    r.varlong(i * spec.timestamp_step_ms);
    r.varint(i);
    r.varint(-1);  // null key
    r.varint(static_cast<int32_t>(spec.value_bytes));
    for (size_t b = 0; b < spec.value_bytes; ++b) r.u8(static_cast<uint8_t>('a' + (i + b) % 26));
    r.uvarint(0);  // no headers
    w.varint(static_cast<int32_t>(rec.size()));
    w.raw(rec);
  }
  w.patch_i32(length_at, static_cast<int32_t>(out.size() - bf::kLogOverhead));
  w.patch_u32(crc_at, crc32c::value(ByteSpan(out).subspan(bf::kAttributesAt)));
  return out;
}

inline Bytes make_batch(int32_t records, int64_t first_timestamp_ms = 1'700'000'000'000,
                        size_t value_bytes = 10) {
  return make_batch(BatchSpec{records, first_timestamp_ms, 1, value_bytes, 0});
}

// Walks the batches of a read: their headers, checking CRCs and contiguity on the way.
inline std::vector<StoredBatchHeader> batches_in(ByteSpan bytes) {
  std::vector<StoredBatchHeader> out;
  size_t at = 0;
  while (at < bytes.size()) {
    Result<StoredBatchHeader> h = parse_stored_batch_header(bytes.subspan(at));
    STRATA_ASSERT(h.is_ok() && h->size_bytes() <= bytes.size() - at, "bad batch in a read");
    STRATA_ASSERT(batch_crc_matches(bytes.subspan(at, h->size_bytes())), "CRC in a read");
    out.push_back(*h);
    at += h->size_bytes();
  }
  return out;
}

}  // namespace strata::testing
