// Record batch v2 (magic 2): header parsing, validation, record decoding, building and the
// in-place stamping the broker does on append. The byte layout is in record_batch_format.h.
//
// Who calls what:
//   - the Produce handler: validate_for_append(), then set_base_offset()/set_leader_epoch()
//     (and set_log_append_time() for topics with LogAppendTime) on its own copy of the bytes;
//   - storage recovery and fetch: BatchSplitter + validate_batch() to find the valid prefix;
//   - our own producer: RecordBatchBuilder; our own consumer: decode_records().
//
// Everything that reads bytes treats them as untrusted and returns a Status; the stamping
// functions take batches that were validated before and assert on programmer errors only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "engine/base/bytes.h"
#include "engine/base/ids.h"
#include "engine/base/limits.h"
#include "engine/base/status.h"
#include "engine/protocol/compression.h"
#include "engine/protocol/record_batch_format.h"

namespace strata {

// The fixed 61-byte header, field by field, exactly as on the wire.
struct BatchHeader {
  int64_t base_offset = 0;
  int32_t batch_length = 0;  // bytes after this field: whole batch = batch_length + 12
  int32_t leader_epoch = -1;  // partitionLeaderEpoch
  int8_t magic = batch_format::kMagicV2;
  uint32_t crc = 0;
  int16_t attributes = 0;
  int32_t last_offset_delta = 0;
  int64_t base_timestamp = 0;
  int64_t max_timestamp = 0;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t base_sequence = -1;
  int32_t records_count = 0;

  uint64_t size_bytes() const { return uint64_t(batch_length) + batch_format::kLogOverhead; }
  int codec_id() const { return attributes & batch_format::kCodecMask; }
  std::optional<Codec> codec() const { return codec_from_id(codec_id()); }
  bool compressed() const { return codec_id() != 0; }
  bool log_append_time() const { return attributes & batch_format::kTimestampTypeBit; }
  bool transactional() const { return attributes & batch_format::kTransactionalBit; }
  bool control() const { return attributes & batch_format::kControlBit; }
  bool has_delete_horizon() const { return attributes & batch_format::kDeleteHorizonBit; }
  Offset base() const { return Offset(base_offset); }
  Offset last() const { return Offset(base_offset + last_offset_delta); }
};

// Parses the header at the start of `data`, which may hold just the header or more (a whole
// batch, or a buffer of batches). Fails if fewer than 61 bytes are present, if the magic is
// not 2 (magic 0/1 message sets use another layout: Status::unsupported), or if batchLength
// is too small to hold the header or above limits::kFrameBytesMax. Does not check the CRC.
Result<BatchHeader> parse_batch_header(ByteSpan data);

// Checks that `one_batch` is exactly one whole batch: header parses, batchLength + 12 equals
// the span's size, and the CRC-32C over [attributes, end) matches. Status::corruption names
// the field at fault (Status::unsupported for a magic other than 2).
Status validate_batch(ByteSpan one_batch);

// Walks a buffer of concatenated batches by their length fields (no CRC check). A fetch
// response may end with a partial batch and a crashed segment with a torn one, so the
// splitter reports where the whole batches end and why it stopped:
//
//   BatchSplitter s(buf);
//   while (auto b = s.next()) use(*b);
//   if (s.tail() != BatchSplitter::Tail::kClean) ... s.valid_prefix_bytes() ...
//
// The splitter borrows `data`; it must outlive the splitter and the spans it returns.
class BatchSplitter {
 public:
  enum class Tail : uint8_t {
    kClean,      // the buffer ended exactly after a whole batch (or was empty)
    kPartial,    // the last batch is cut short: fewer bytes than its length field announces
    kMalformed,  // a length field is impossible (smaller than a header, or above the limit)
  };

  explicit BatchSplitter(ByteSpan data) : data_(data) {}

  // The next whole batch, or nullopt once none remains (then tail() says why).
  std::optional<ByteSpan> next();

  // Bytes covered by the whole batches returned so far.
  size_t valid_prefix_bytes() const { return pos_; }
  // Bytes after the last whole batch returned so far.
  ByteSpan remainder() const { return data_.subspan(pos_); }
  // Meaningful once next() has returned nullopt.
  Tail tail() const { return tail_; }
  // Status::corruption describing a kMalformed or kPartial tail; ok for kClean.
  Status tail_status() const;

 private:
  ByteSpan data_;
  size_t pos_ = 0;
  Tail tail_ = Tail::kClean;
};

// A record header. Keys are strings (Kafka requires non-null UTF-8 keys; not checked).
struct RecordHeader {
  std::string key;
  std::optional<Bytes> value;
  bool operator==(const RecordHeader&) const = default;
};

struct Record {
  using Header = RecordHeader;
  int64_t offset_delta = 0;
  int64_t timestamp_delta = 0;
  std::optional<Bytes> key, value;
  std::vector<Header> headers;
  bool operator==(const Record&) const = default;
};

// Validates `batch` (validate_batch), decompresses its records (at most max_decompressed
// bytes) and decodes them. Checks each record's length, that exactly recordsCount records
// are present and that no bytes follow the last one.
Result<std::vector<Record>> decode_records(
    ByteSpan batch, size_t max_decompressed = limits::kDecompressedBatchBytesMax);

// A record decoded in place: its key and value view the batch, or the decompressed records
// of a compressed batch. Headers are copied (they are few and small).
struct RecordView {
  int64_t offset_delta = 0;
  int64_t timestamp_delta = 0;
  std::optional<ByteSpan> key, value;
  std::vector<RecordHeader> headers;
};

// decode_records() without copying keys and values: fills `out` (cleared first; its capacity
// serves the next batch) with views into `batch`, or into `decompressed`, which receives the
// records of a compressed batch. On error `out` is left empty.
Status decode_record_views(ByteSpan batch, std::vector<RecordView>& out, Bytes& decompressed,
                           size_t max_decompressed = limits::kDecompressedBatchBytesMax);

// Builds one batch (base offset 0), the way a producer does. Records are encoded as they are
// added, so estimated_size() is exact for an uncompressed batch and an upper bound (give or
// take the codec's framing) for a compressed one.
struct BatchBuilderOptions {
  Codec codec = Codec::kNone;
  int64_t producer_id = -1;  // -1: not idempotent
  int16_t producer_epoch = -1;
  int32_t base_sequence = -1;
  bool transactional = false;
  bool control = false;  // the caller supplies control-record keys and values
  int32_t partition_leader_epoch = -1;
  // The log cleaner rewrites a stored batch with some of its records (add_at). It keeps the
  // batch's timestamp type, offset range and max timestamp, and may stamp a delete horizon
  // (KIP-534: the hasDeleteHorizonMs bit; baseTimestamp then holds the horizon and record
  // timestamp deltas are relative to it). An empty batch is allowed then: it keeps an
  // idempotent producer's last sequence in the log.
  bool log_append_time = false;
  std::optional<int64_t> delete_horizon_ms;
  std::optional<int32_t> last_offset_delta;
  std::optional<int64_t> max_timestamp_ms;
  bool allow_empty = false;
};

class RecordBatchBuilder {
 public:
  explicit RecordBatchBuilder(BatchBuilderOptions options = {});

  // Appends a record; nullopt key/value encode as null (length -1).
  void add(int64_t timestamp_ms, std::optional<ByteSpan> key, std::optional<ByteSpan> value,
           std::span<const RecordHeader> headers = {}) {
    add_at(count_ == 0 ? 0 : last_delta_ + 1, timestamp_ms, key, value, headers);
  }
  // Appends a record at `offset_delta` from the batch's base offset, which must be above the
  // previous record's (the cleaner leaves gaps where it removed records).
  void add_at(int64_t offset_delta, int64_t timestamp_ms, std::optional<ByteSpan> key,
              std::optional<ByteSpan> value, std::span<const RecordHeader> headers = {});

  // An idempotent producer stamps its id, epoch and first sequence when the batch is drained.
  void set_producer(int64_t producer_id, int16_t producer_epoch, int32_t base_sequence) {
    options_.producer_id = producer_id;
    options_.producer_epoch = producer_epoch;
    options_.base_sequence = base_sequence;
  }

  // Room for `bytes` of encoded records, so that adding them does not reallocate.
  void reserve(size_t bytes) { records_.reserve(bytes); }

  int32_t record_count() const { return count_; }
  bool empty() const { return count_ == 0; }
  size_t records_bytes() const { return records_.size(); }
  size_t estimated_size() const { return batch_format::kHeaderSize + records_.size(); }

  // Fails with invalid_argument when empty (Kafka has no empty batches on the wire), or if
  // the compressor fails. May be called more than once.
  Result<Bytes> build() const;

 private:
  BatchBuilderOptions options_;
  Bytes records_;  // encoded, uncompressed records
  int32_t count_ = 0;
  int64_t last_delta_ = -1;
  int64_t base_timestamp_ = 0;
  int64_t max_timestamp_ = 0;
};

// In-place stamping of a batch that passed validation. base offset and leader epoch lie
// outside the CRC's range, so the CRC stays valid; LogAppendTime changes attributes and
// maxTimestamp, which it covers, so set_log_append_time() recomputes it.
void set_base_offset(std::span<uint8_t> batch, Offset base_offset);
void set_leader_epoch(std::span<uint8_t> batch, LeaderEpoch epoch);
void set_log_append_time(std::span<uint8_t> batch, int64_t timestamp_ms);
// Idempotent producers' sequence numbers wrap from INT32_MAX to 0: the sequence after `seq`,
// and the last sequence of a batch of `count` records starting at `first`.
int32_t next_sequence(int32_t seq);
int32_t last_sequence(int32_t first, int32_t count);
// Restamps a built batch with another producer id, epoch and first sequence (an idempotent
// producer that had to take a new id); recomputes the CRC, which covers them.
void set_producer_state(std::span<uint8_t> batch, int64_t producer_id, int16_t producer_epoch,
                        int32_t base_sequence);

// Produce-path validation ------------------------------------------------------------------

// Why a produce records blob was refused; each maps to one Kafka error code.
enum class BatchFault : uint8_t {
  kNone,
  kCorruptMessage,          // CORRUPT_MESSAGE (2): framing, CRC, undecompressible payload
  kInvalidRecord,           // INVALID_RECORD (87): CRC-valid batch with bad contents
  kUnsupportedCompression,  // UNSUPPORTED_COMPRESSION_TYPE (76): codec id 5-7
};

inline constexpr int16_t kafka_error_code(BatchFault fault) {
  switch (fault) {
    case BatchFault::kNone: return 0;
    case BatchFault::kCorruptMessage: return 2;
    case BatchFault::kInvalidRecord: return 87;
    case BatchFault::kUnsupportedCompression: return 76;
  }
  return -1;  // UNKNOWN_SERVER_ERROR; unreachable for valid enum values
}

struct AppendValidationOptions {
  size_t max_decompressed_bytes = limits::kDecompressedBatchBytesMax;
  // Kafka refuses client batches whose baseOffset is not 0 (the broker assigns offsets).
  bool require_zero_base_offset = true;
  // Produce v3+ in Kafka allows exactly one batch per partition; real clients comply.
  bool require_single_batch = false;
  // A compacted topic refuses records without a key (Kafka: INVALID_RECORD): compaction
  // keeps the latest record per key, and a keyless record has none.
  bool require_keys = false;
};

// What the broker needs about each accepted batch.
struct BatchInfo {
  size_t position = 0;  // byte offset of the batch within the produce blob
  size_t size_bytes = 0;
  Codec codec = Codec::kNone;
  int32_t records_count = 0;
  int32_t first_offset_delta = 0;
  int32_t last_offset_delta = 0;
  int64_t base_timestamp = 0;
  int64_t max_timestamp = 0;  // as the header states it
  // base_timestamp + the largest timestampDelta: what Kafka indexes. Real clients make the
  // header agree; a broker may restamp or refuse a batch where it does not.
  int64_t records_max_timestamp = 0;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t base_sequence = -1;
  bool transactional = false;
  bool control = false;
  bool log_append_time = false;
};

struct AppendValidation {
  BatchFault fault = BatchFault::kNone;
  Status status;  // ok iff fault == kNone; otherwise names the batch and the field at fault
  std::vector<BatchInfo> batches;  // filled on success, in order

  bool ok() const { return fault == BatchFault::kNone; }
  int16_t error_code() const { return kafka_error_code(fault); }
};

// Splits a Produce request's records blob into batches and checks each: whole batches only
// (at least one, no trailing bytes), magic 2, CRC, codec, count == lastOffsetDelta + 1, and
// (decompressing if needed) record framing with offset deltas 0, 1, 2, ...
AppendValidation validate_for_append(ByteSpan produce_records,
                                     const AppendValidationOptions& options = {});

}  // namespace strata
