// Segment: the parts that scan the .log from disk — load, recovery, and timestamp search.
#include <string>

#include "engine/protocol/record_batch.h"
#include "engine/storage/log_format.h"
#include "engine/storage/segment.h"

namespace strata {

namespace lf = log_format;
namespace bf = batch_format;

namespace {

// Checks that a batch found on disk may follow `next` inside a segment based at `base`.
// Offsets are contiguous, or (Gaps::kAllowed) strictly increase: they jump where the log
// cleaner removed whole batches. baseOffset is not covered by the CRC, so this is the only
// check of it.
Status check_batch_order(const StoredBatchHeader& h, Offset base, Offset next, Segment::Gaps gaps) {
  if (h.base() < next || (h.base() != next && gaps == Segment::Gaps::kRefused)) {
    return Status::corruption("batch base offset " + std::to_string(h.base_offset) + " where " +
                              std::to_string(next.value()) + " was expected");
  }
  if (h.last() - base > lf::kRelativeOffsetMax) {
    return Status::corruption("batch last offset " + std::to_string(h.last().value()) +
                              " too far from the segment base");
  }
  return ok_status();
}

}  // namespace

Status Segment::reset_state() {
  next_offset_ = base_;
  max_timestamp_ms_ = -1;
  first_batch_timestamp_ms_ = -1;
  offset_of_max_timestamp_ = base_;
  bytes_since_index_entry_ = 0;
  return ok_status();
}

Status Segment::derive_tail_state() {
  STRATA_RETURN_IF_ERROR(reset_state());
  if (size_ > 0) {
    STRATA_ASSIGN_OR_RETURN(StoredBatchHeader first, read_header(0, size_));
    first_batch_timestamp_ms_ = first.max_timestamp;
  }
  std::optional<OffsetIndexEntry> last = offset_index_->last();
  uint64_t pos = last ? last->position : 0;
  while (pos < size_) {
    STRATA_ASSIGN_OR_RETURN(StoredBatchHeader h, read_header(pos, size_));
    if (last && pos == last->position) {
      // Batches before the entry are not re-read: the entry vouches for this one's place.
      if (h.last() != last->offset || h.base() < base_) {
        return Status::corruption("index entry does not match the batch at its position");
      }
      next_offset_ = h.base();
    }
    STRATA_RETURN_IF_ERROR(check_batch_order(h, base_, next_offset_, gaps_));
    if (h.max_timestamp > max_timestamp_ms_) {
      max_timestamp_ms_ = h.max_timestamp;
      offset_of_max_timestamp_ = h.last();
    }
    next_offset_ = h.last() + 1;
    pos += h.size_bytes();
  }
  if (last && next_offset_ <= last->offset) {
    return Status::corruption("index entry beyond the last batch");
  }
  bytes_since_index_entry_ = last ? size_ - last->position : size_;
  return ok_status();
}

Status Segment::for_each_header(const std::function<Status(const StoredBatchHeader&)>& fn) {
  uint64_t pos = 0;
  while (pos < size_) {
    STRATA_ASSIGN_OR_RETURN(StoredBatchHeader h, read_header(pos, size_));
    STRATA_RETURN_IF_ERROR(fn(h));
    pos += h.size_bytes();
  }
  return ok_status();
}

Status Segment::fold_time_index() {
  std::optional<TimeIndexEntry> t = time_index_->last();
  if (t && t->timestamp_ms > max_timestamp_ms_) {
    max_timestamp_ms_ = t->timestamp_ms;
    offset_of_max_timestamp_ = t->offset;
  }
  return ok_status();
}

Status Segment::load(Gaps gaps) {
  gaps_ = gaps;
  if (index_files_missing_) return Status::corruption("index file missing");
  size_ = log_->size();
  read_hint_ = {};
  if (size_ > lf::kSegmentPositionMax) return Status::corruption("segment larger than 4 GiB");
  STRATA_RETURN_IF_ERROR(offset_index_->load(size_));
  STRATA_RETURN_IF_ERROR(derive_tail_state());
  STRATA_RETURN_IF_ERROR(time_index_->load(next_offset_));
  STRATA_RETURN_IF_ERROR(fold_time_index());
  dirty_ = false;
  return ok_status();
}

Result<std::optional<RecoveryCut>> Segment::recover(Gaps gaps) {
  gaps_ = gaps;
  STRATA_RETURN_IF_ERROR(offset_index_->clear());
  STRATA_RETURN_IF_ERROR(time_index_->clear());
  STRATA_RETURN_IF_ERROR(reset_state());
  dirty_ = true;  // rebuilt indexes (and maybe a cut log) must be synced
  index_files_missing_ = false;
  uint64_t file_size = log_->size();
  uint64_t pos = 0;
  std::string why;
  Bytes batch;
  while (pos < file_size) {
    if (pos > lf::kSegmentPositionMax) {
      why = "segment larger than 4 GiB";
      break;
    }
    Result<StoredBatchHeader> h = read_header(pos, file_size);
    if (!h.is_ok()) {
      why = h.status().message();
      break;
    }
    if (Status order = check_batch_order(*h, base_, next_offset_, gaps_); !order.is_ok()) {
      why = order.message();
      break;
    }
    batch.resize(h->size_bytes());
    STRATA_ASSIGN_OR_RETURN(size_t n, log_->read_at(pos, batch));
    if (n != batch.size() || !batch_crc_matches(batch)) {
      why = "CRC-32C mismatch in batch at offset " + std::to_string(h->base_offset);
      break;
    }
    STRATA_RETURN_IF_ERROR(index_batch(*h, pos));
    pos += h->size_bytes();
  }
  size_ = pos;
  read_hint_ = {};
  if (why.empty()) return std::optional<RecoveryCut>();
  STRATA_RETURN_IF_ERROR(log_->truncate(pos));
  return std::optional<RecoveryCut>(RecoveryCut{pos, file_size - pos, why});
}

namespace {

// baseTimestamp + timestampDelta, wrapping as Kafka's Java does: both come from the client,
// and a hostile pair must not be signed-overflow UB.
int64_t record_timestamp(const StoredBatchHeader& h, int64_t delta) {
  return int64_t(uint64_t(h.base_timestamp) + uint64_t(delta));
}

// The first record of an uncompressed CreateTime batch with timestamp ≥ target and offset ≥
// min_offset. Record layout: length varint, attributes i8, timestampDelta varlong,
// offsetDelta varint, then the rest of the record (length counts the bytes after itself).
Result<std::optional<TimestampOffset>> search_records(ByteSpan batch, const StoredBatchHeader& h,
                                                      int64_t target_ms, Offset min_offset) {
  ByteReader in(batch.subspan(bf::kHeaderSize));
  for (int32_t i = 0; i < h.records_count; ++i) {
    int32_t length = in.varint();
    size_t start = in.position();
    (void)in.i8();
    int64_t ts = record_timestamp(h, in.varlong());
    Offset offset = h.base() + in.varint();
    size_t used = in.position() - start;
    if (!in.ok() || length < 0 || size_t(length) < used) {
      return Status::corruption("malformed record in batch at offset " +
                                std::to_string(h.base_offset));
    }
    in.skip(size_t(length) - used);
    if (ts >= target_ms && offset >= min_offset) {
      return std::optional<TimestampOffset>(TimestampOffset{ts, offset});
    }
  }
  if (!in.ok()) return Status::corruption("truncated records in batch");
  return std::optional<TimestampOffset>();
}

Result<std::optional<TimestampOffset>> search_compressed(ByteSpan batch, const StoredBatchHeader& h,
                                                         int64_t target_ms, Offset min_offset) {
  STRATA_ASSIGN_OR_RETURN(std::vector<Record> records, decode_records(batch));
  for (const Record& r : records) {
    int64_t ts = record_timestamp(h, r.timestamp_delta);
    Offset offset = h.base() + r.offset_delta;
    if (ts >= target_ms && offset >= min_offset) {
      return std::optional<TimestampOffset>(TimestampOffset{ts, offset});
    }
  }
  return std::optional<TimestampOffset>();
}

}  // namespace

Result<std::optional<TimestampOffset>> Segment::find_timestamp(int64_t target_ms,
                                                               Offset min_offset) {
  std::optional<Offset> older = time_index_->lookup(target_ms);
  uint64_t pos = older ? offset_index_->lookup(*older) : 0;
  Bytes batch;
  while (pos < size_) {
    STRATA_ASSIGN_OR_RETURN(StoredBatchHeader h, read_header(pos, size_));
    uint64_t at = pos;
    pos += h.size_bytes();
    if (h.max_timestamp < target_ms || h.last() < min_offset) continue;
    if (h.log_append_time()) {
      // Every record of a LogAppendTime batch carries the batch's timestamp.
      Offset first = h.base() < min_offset ? min_offset : h.base();
      return std::optional<TimestampOffset>(TimestampOffset{h.max_timestamp, first});
    }
    batch.resize(h.size_bytes());
    STRATA_ASSIGN_OR_RETURN(size_t n, log_->read_at(at, batch));
    if (n != batch.size()) return Status::corruption("short read in " + log_path());
    std::optional<TimestampOffset> found;
    if (h.compressed()) {
      // As Kafka does, look inside: the answer is a record, not the batch's first offset.
      STRATA_ASSIGN_OR_RETURN(found, search_compressed(batch, h, target_ms, min_offset));
    } else {
      STRATA_ASSIGN_OR_RETURN(found, search_records(batch, h, target_ms, min_offset));
    }
    if (found) return found;
  }
  return std::optional<TimestampOffset>();
}

}  // namespace strata
