#include "engine/storage/batch_header.h"

#include <string>

#include "engine/base/crc32c.h"
#include "engine/storage/log_format.h"

namespace strata {

namespace bf = batch_format;

Result<StoredBatchHeader> parse_stored_batch_header(ByteSpan bytes) {
  if (bytes.size() < bf::kHeaderSize) {
    return Status::corruption("short batch header (" + std::to_string(bytes.size()) + " bytes)");
  }
  const uint8_t* p = bytes.data();
  StoredBatchHeader h;
  h.base_offset = static_cast<int64_t>(load_be64(p + bf::kBaseOffsetAt));
  h.batch_length = static_cast<int32_t>(load_be32(p + bf::kBatchLengthAt));
  h.leader_epoch = static_cast<int32_t>(load_be32(p + bf::kLeaderEpochAt));
  h.magic = static_cast<int8_t>(p[bf::kMagicAt]);
  h.crc = load_be32(p + bf::kCrcAt);
  h.attributes = static_cast<int16_t>(load_be16(p + bf::kAttributesAt));
  h.last_offset_delta = static_cast<int32_t>(load_be32(p + bf::kLastOffsetDeltaAt));
  h.base_timestamp = static_cast<int64_t>(load_be64(p + bf::kBaseTimestampAt));
  h.max_timestamp = static_cast<int64_t>(load_be64(p + bf::kMaxTimestampAt));
  h.records_count = static_cast<int32_t>(load_be32(p + bf::kRecordsCountAt));
  h.producer_id = static_cast<int64_t>(load_be64(p + bf::kProducerIdAt));
  h.producer_epoch = static_cast<int16_t>(load_be16(p + bf::kProducerEpochAt));
  h.base_sequence = static_cast<int32_t>(load_be32(p + bf::kBaseSequenceAt));
  if (h.magic != bf::kMagicV2) {
    return Status::corruption("bad magic " + std::to_string(h.magic));
  }
  int64_t min_length = int64_t(bf::kHeaderSize - bf::kLogOverhead);
  if (h.batch_length < min_length || h.batch_length > log_format::kBatchBytesMax) {
    return Status::corruption("bad batch length " + std::to_string(h.batch_length));
  }
  if (h.last_offset_delta < 0 || h.records_count < 0) {
    return Status::corruption("negative lastOffsetDelta or recordsCount");
  }
  if (h.base_offset < 0 || h.base_offset > INT64_MAX - h.last_offset_delta) {
    return Status::corruption("bad base offset " + std::to_string(h.base_offset));
  }
  return h;
}

bool batch_crc_matches(ByteSpan batch) {
  STRATA_ASSERT(batch.size() >= bf::kHeaderSize);
  uint32_t stored = load_be32(batch.data() + bf::kCrcAt);
  return crc32c::value(batch.subspan(bf::kAttributesAt)) == stored;
}

}  // namespace strata
