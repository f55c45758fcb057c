// The fields of a record batch v2 header that storage needs, decoded from bytes that may be
// garbage (a torn or corrupt segment): decoding returns Status and never asserts.
#pragma once

#include <cstdint>

#include "engine/base/bytes.h"
#include "engine/base/ids.h"
#include "engine/base/status.h"
#include "engine/protocol/record_batch_format.h"

namespace strata {

struct StoredBatchHeader {
  int64_t base_offset = 0;
  int32_t batch_length = 0;  // bytes after the batchLength field
  int32_t leader_epoch = -1;
  int8_t magic = 0;
  uint32_t crc = 0;
  int16_t attributes = 0;
  int32_t last_offset_delta = 0;
  int64_t base_timestamp = -1;
  int64_t max_timestamp = -1;
  int32_t records_count = 0;
  int64_t producer_id = -1;  // -1: not from an idempotent producer
  int16_t producer_epoch = -1;
  int32_t base_sequence = -1;

  uint64_t size_bytes() const { return uint64_t(batch_length) + batch_format::kLogOverhead; }
  Offset base() const { return Offset{base_offset}; }
  Offset last() const { return Offset{base_offset + last_offset_delta}; }
  bool compressed() const { return (attributes & batch_format::kCodecMask) != 0; }
  bool log_append_time() const { return (attributes & batch_format::kTimestampTypeBit) != 0; }
  bool control() const { return (attributes & batch_format::kControlBit) != 0; }
};

// Decodes and structurally checks the first kHeaderSize bytes of `bytes`: magic 2, a length
// that covers the header and is at most kBatchBytesMax, lastOffsetDelta and recordsCount not
// negative, a base offset that is not negative and leaves room for lastOffsetDelta.
// kCorruption with the reason otherwise. Does not look at the CRC.
Result<StoredBatchHeader> parse_stored_batch_header(ByteSpan bytes);

// True if the CRC-32C stored in a complete batch matches bytes [attributes, end).
bool batch_crc_matches(ByteSpan batch);

}  // namespace strata
