#include "engine/protocol/record_batch.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <string>

#include "engine/base/crc32c.h"

namespace strata {
namespace bf = batch_format;

namespace {

// The smallest legal batchLength: a header with no records.
constexpr int32_t kMinBatchLength = int32_t(bf::kHeaderSize - bf::kLogOverhead);
// The smallest encoded record: length, attributes, timestampDelta, offsetDelta, keyLength,
// valueLength and headerCount, one byte each. Bounds reserve() by what the bytes can hold.
constexpr size_t kMinRecordBytes = 7;
// A header needs at least its key length and value length.
constexpr size_t kMinHeaderBytes = 2;

std::string hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "0x%08" PRIx32, v);
  return buf;
}

std::string at_record(int32_t index) { return "record " + std::to_string(index) + ": "; }

// Reads a varint length that may be -1 for null, then that many bytes.
// Returns false (leaving `out` unset) on a malformed length; the reader's ok() covers
// running past the end.
[[gnu::always_inline]] inline bool read_nullable(ByteReader& r,
                                                 std::optional<ByteSpan>& out) {
  int32_t len = r.varint();
  if (!r.ok() || len < -1) return false;
  if (len == -1) {
    out.reset();
    return true;
  }
  out = r.take(size_t(len));
  return r.ok();
}

std::optional<Bytes> to_bytes(const std::optional<ByteSpan>& s) {
  if (!s) return std::nullopt;
  return Bytes(s->begin(), s->end());
}

Status read_headers(ByteReader& body, int32_t index, std::vector<RecordHeader>* out) {
  int32_t count = body.varint();
  if (!body.ok() || count < 0 || size_t(count) > body.remaining() / kMinHeaderBytes) {
    return Status::corruption(at_record(index) + "invalid header count " +
                              std::to_string(count));
  }
  if (out) out->reserve(size_t(count));
  for (int32_t h = 0; h < count; ++h) {
    int32_t key_len = body.varint();
    // Kafka requires a non-null header key.
    if (!body.ok() || key_len < 0) {
      return Status::corruption(at_record(index) + "header " + std::to_string(h) +
                                " has an invalid key length");
    }
    ByteSpan key = body.take(size_t(key_len));
    std::optional<ByteSpan> value;
    if (!read_nullable(body, value)) {
      return Status::corruption(at_record(index) + "header " + std::to_string(h) +
                                " runs past the end of the record");
    }
    if (out) out->push_back({std::string(as_chars(key)), to_bytes(value)});
  }
  return ok_status();
}

// One decoded record's fields that the append path needs without copying anything.
struct RecordFields {
  int64_t timestamp_delta = 0;
  int32_t offset_delta = 0;
  bool null_key = false;
};

// Decodes the record at the reader's position. Fills `out` (views into the reader's bytes)
// when non-null.
Status read_record(ByteReader& r, int32_t index, RecordFields& fields, RecordView* out) {
  int32_t len = r.varint();
  if (!r.ok() || len < 0 || size_t(len) > r.remaining()) {
    return Status::corruption(at_record(index) + "length " + std::to_string(len) +
                              " runs past the end of the records");
  }
  ByteReader body(r.take(size_t(len)));
  (void)body.i8();  // record attributes: unused in magic 2
  fields.timestamp_delta = body.varlong();
  fields.offset_delta = body.varint();
  std::optional<ByteSpan> key, value;
  if (!read_nullable(body, key) || !read_nullable(body, value)) {
    return Status::corruption(at_record(index) + "key or value runs past the record's length");
  }
  fields.null_key = !key;
  if (out) {
    out->timestamp_delta = fields.timestamp_delta;
    out->offset_delta = fields.offset_delta;
    out->key = key;
    out->value = value;
  }
  STRATA_RETURN_IF_ERROR(read_headers(body, index, out ? &out->headers : nullptr));
  if (!body.ok()) return Status::corruption(at_record(index) + "fields run past its length");
  if (!body.at_end()) {
    return Status::corruption(at_record(index) + std::to_string(body.remaining()) +
                              " bytes left over after its fields");
  }
  return ok_status();
}

// What walking a batch's records learned, for the append path.
struct RecordsSummary {
  int32_t first_offset_delta = 0;
  int32_t last_offset_delta = 0;
  int64_t max_timestamp_delta = INT64_MIN;
  bool sequential = true;  // offset deltas are exactly 0, 1, 2, ...
  bool null_key = false;   // some record has no key
};

// One zigzag varint of one or two bytes (values -8192..8191), the form nearly every record
// field takes. False, with `p` unmoved, for anything else.
[[gnu::always_inline]] inline bool short_varint(const uint8_t*& p, const uint8_t* end,
                                                int32_t& v) {
  uint32_t u;
  if (!decode_short_uvarint(p, end, u)) return false;
  v = int32_t(zigzag_decode(u));
  return true;
}

// A nullable key or value of a record ending at `end`: a short varint length (-1 for null),
// then the bytes.
[[gnu::always_inline]] inline bool short_nullable(const uint8_t*& p, const uint8_t* end,
                                                  std::optional<ByteSpan>& out) {
  int32_t len;
  if (!short_varint(p, end, len) || len < -1 || len > end - p) return false;
  if (len == -1) {
    out.reset();
  } else {
    out = ByteSpan(p, size_t(len));
    p += len;
  }
  return true;
}

// The fast path of read_record() for the common record: every varint one or two bytes and
// no headers. Returns the position after the record, or nullptr, having written nothing,
// for any other record, well-formed or not; read_record() then decodes it, accepting every
// valid record and naming what is wrong with an invalid one. It accepts nothing that
// read_record() would reject.
const uint8_t* read_plain_record(const uint8_t* p, const uint8_t* end, RecordFields& fields,
                                 RecordView* out) {
  int32_t len;
  if (!short_varint(p, end, len) || len < 1 || len > end - p) return nullptr;
  const uint8_t* record_end = p + len;
  ++p;  // attributes: unused in magic 2
  int32_t timestamp_delta, offset_delta;
  std::optional<ByteSpan> key, value;
  if (!short_varint(p, record_end, timestamp_delta) ||
      !short_varint(p, record_end, offset_delta) || !short_nullable(p, record_end, key) ||
      !short_nullable(p, record_end, value)) {
    return nullptr;
  }
  if (record_end - p != 1 || *p != 0) return nullptr;  // a header count of 0 ends the record
  fields.timestamp_delta = timestamp_delta;
  fields.offset_delta = offset_delta;
  fields.null_key = !key;
  if (out) {
    out->timestamp_delta = timestamp_delta;
    out->offset_delta = offset_delta;
    out->key = key;
    out->value = value;
  }
  return record_end;
}

// Walks exactly `count` records that must fill `payload`; appends views to `out` if given.
Status walk_records(ByteSpan payload, int32_t count, RecordsSummary& summary,
                    std::vector<RecordView>* out) {
  if (count < 0 || count > limits::kRecordsPerBatchMax) {
    return Status::corruption("invalid recordsCount " + std::to_string(count));
  }
  if (out) out->reserve(std::min(size_t(count), payload.size() / kMinRecordBytes));
  const uint8_t* p = payload.data();
  const uint8_t* const end = p + payload.size();
  for (int32_t i = 0; i < count; ++i) {
    RecordFields fields;
    // The append path only validates. Building an empty record per record here cost a
    // 104-byte zero fill (rep stos) each time, a third of this walk's time in a profile of
    // 100-byte records (results/perf-produce-consume.md).
    RecordView* view = out ? &out->emplace_back() : nullptr;
    const uint8_t* next = read_plain_record(p, end, fields, view);
    if (next == nullptr) {
      ByteReader r(ByteSpan(p, size_t(end - p)));
      STRATA_RETURN_IF_ERROR(read_record(r, i, fields, view));
      next = p + r.position();
    }
    p = next;
    if (i == 0) summary.first_offset_delta = fields.offset_delta;
    summary.last_offset_delta = fields.offset_delta;
    summary.max_timestamp_delta = std::max(summary.max_timestamp_delta, fields.timestamp_delta);
    if (fields.offset_delta != i) summary.sequential = false;
    summary.null_key = summary.null_key || fields.null_key;
  }
  if (p != end) {
    return Status::corruption(std::to_string(end - p) + " bytes follow the last of " +
                              std::to_string(count) + " records");
  }
  return ok_status();
}

// The uncompressed records of a batch: a view into `batch` when uncompressed, otherwise
// decompressed into `storage`.
Result<ByteSpan> records_payload(const BatchHeader& h, ByteSpan batch, size_t max_bytes,
                                 Bytes& storage) {
  std::optional<Codec> codec = h.codec();
  if (!codec) {
    return Status::unsupported("compression codec id " + std::to_string(h.codec_id()) +
                               " is not supported");
  }
  ByteSpan raw = batch.subspan(bf::kHeaderSize);
  if (*codec == Codec::kNone) {
    if (raw.size() > max_bytes) {
      return Status::corruption("records exceed the limit of " + std::to_string(max_bytes) +
                                " bytes");
    }
    return raw;
  }
  STRATA_ASSIGN_OR_RETURN(storage, decompress(*codec, raw, max_bytes));
  return ByteSpan(storage);
}

}  // namespace

// ---- header, validation, splitting --------------------------------------------------------

Result<BatchHeader> parse_batch_header(ByteSpan data) {
  if (data.size() <= bf::kMagicAt) {
    return Status::corruption("record batch truncated: " + std::to_string(data.size()) +
                              " bytes, too short to hold its magic byte");
  }
  int8_t magic = static_cast<int8_t>(data[bf::kMagicAt]);
  if (magic != bf::kMagicV2) {
    return Status::unsupported("record batch magic " + std::to_string(magic) +
                               " is not supported (only magic 2)");
  }
  if (data.size() < bf::kHeaderSize) {
    return Status::corruption("record batch header truncated: " + std::to_string(data.size()) +
                              " of " + std::to_string(bf::kHeaderSize) + " bytes");
  }
  const uint8_t* p = data.data();
  BatchHeader h;
  h.base_offset = int64_t(load_be64(p + bf::kBaseOffsetAt));
  h.batch_length = int32_t(load_be32(p + bf::kBatchLengthAt));
  h.leader_epoch = int32_t(load_be32(p + bf::kLeaderEpochAt));
  h.magic = magic;
  h.crc = load_be32(p + bf::kCrcAt);
  h.attributes = int16_t(load_be16(p + bf::kAttributesAt));
  h.last_offset_delta = int32_t(load_be32(p + bf::kLastOffsetDeltaAt));
  h.base_timestamp = int64_t(load_be64(p + bf::kBaseTimestampAt));
  h.max_timestamp = int64_t(load_be64(p + bf::kMaxTimestampAt));
  h.producer_id = int64_t(load_be64(p + bf::kProducerIdAt));
  h.producer_epoch = int16_t(load_be16(p + bf::kProducerEpochAt));
  h.base_sequence = int32_t(load_be32(p + bf::kBaseSequenceAt));
  h.records_count = int32_t(load_be32(p + bf::kRecordsCountAt));
  if (h.batch_length < kMinBatchLength) {
    return Status::corruption("record batch length " + std::to_string(h.batch_length) +
                              " is smaller than its header (" +
                              std::to_string(kMinBatchLength) + ")");
  }
  // No batch can be larger than the request frame that carried it.
  if (h.batch_length > limits::kFrameBytesMax) {
    return Status::corruption("record batch length " + std::to_string(h.batch_length) +
                              " exceeds the frame limit");
  }
  return h;
}

Status validate_batch(ByteSpan one_batch) {
  STRATA_ASSIGN_OR_RETURN(BatchHeader h, parse_batch_header(one_batch));
  if (h.size_bytes() != one_batch.size()) {
    return Status::corruption("record batch length " + std::to_string(h.batch_length) +
                              " implies " + std::to_string(h.size_bytes()) + " bytes but " +
                              std::to_string(one_batch.size()) + " are present");
  }
  uint32_t computed = crc32c::value(one_batch.subspan(bf::kAttributesAt));
  if (computed != h.crc) {
    return Status::corruption("record batch CRC mismatch: stored " + hex32(h.crc) +
                              ", computed " + hex32(computed));
  }
  return ok_status();
}

std::optional<ByteSpan> BatchSplitter::next() {
  size_t left = data_.size() - pos_;
  if (left == 0) {
    tail_ = Tail::kClean;
    return std::nullopt;
  }
  if (left < bf::kLogOverhead) {
    tail_ = Tail::kPartial;
    return std::nullopt;
  }
  int32_t len = int32_t(load_be32(data_.data() + pos_ + bf::kBatchLengthAt));
  if (len < kMinBatchLength || len > limits::kFrameBytesMax) {
    tail_ = Tail::kMalformed;
    return std::nullopt;
  }
  size_t size = size_t(len) + bf::kLogOverhead;
  if (size > left) {
    tail_ = Tail::kPartial;
    return std::nullopt;
  }
  ByteSpan batch = data_.subspan(pos_, size);
  pos_ += size;
  return batch;
}

Status BatchSplitter::tail_status() const {
  size_t left = data_.size() - pos_;
  switch (tail_) {
    case Tail::kClean: return ok_status();
    case Tail::kPartial:
      return Status::corruption("partial record batch: " + std::to_string(left) +
                                " trailing bytes at byte " + std::to_string(pos_));
    case Tail::kMalformed:
      return Status::corruption(
          "record batch at byte " + std::to_string(pos_) + " has an impossible length " +
          std::to_string(int32_t(load_be32(data_.data() + pos_ + bf::kBatchLengthAt))));
  }
  STRATA_UNREACHABLE("splitter tail outside the enum");
}

// ---- records ------------------------------------------------------------------------------

Status decode_record_views(ByteSpan batch, std::vector<RecordView>& out, Bytes& decompressed,
                           size_t max_decompressed) {
  out.clear();
  decompressed.clear();
  STRATA_RETURN_IF_ERROR(validate_batch(batch));
  BatchHeader h = parse_batch_header(batch).value();
  STRATA_ASSIGN_OR_RETURN(ByteSpan payload,
                          records_payload(h, batch, max_decompressed, decompressed));
  RecordsSummary summary;
  Status st = walk_records(payload, h.records_count, summary, &out);
  if (!st) out.clear();
  return st;
}

Result<std::vector<Record>> decode_records(ByteSpan batch, size_t max_decompressed) {
  std::vector<RecordView> views;
  Bytes decompressed;
  STRATA_RETURN_IF_ERROR(decode_record_views(batch, views, decompressed, max_decompressed));
  std::vector<Record> records;
  records.reserve(views.size());
  for (RecordView& v : views) {
    records.push_back(Record{v.offset_delta, v.timestamp_delta, to_bytes(v.key),
                             to_bytes(v.value), std::move(v.headers)});
  }
  return records;
}

// ---- building -----------------------------------------------------------------------------

RecordBatchBuilder::RecordBatchBuilder(BatchBuilderOptions options) : options_(options) {
  if (options_.delete_horizon_ms) base_timestamp_ = *options_.delete_horizon_ms;
}

namespace {
// Bytes that put_nullable() writes for `b`.
size_t nullable_size(const std::optional<ByteSpan>& b) {
  if (!b) return 1;  // varint -1
  return uvarint_size(zigzag_encode(int64_t(b->size()))) + b->size();
}

// A varint length (-1 for null) and the bytes, at p; returns the byte after them.
uint8_t* put_nullable(uint8_t* p, const std::optional<ByteSpan>& b) {
  if (!b) return encode_uvarint(p, zigzag_encode(-1));
  p = encode_uvarint(p, zigzag_encode(int64_t(b->size())));
  if (!b->empty()) std::memcpy(p, b->data(), b->size());
  return p + b->size();
}

std::optional<ByteSpan> header_value(const RecordHeader& h) {
  if (!h.value) return std::nullopt;
  return ByteSpan(*h.value);
}

}  // namespace

void RecordBatchBuilder::add_at(int64_t offset_delta, int64_t timestamp_ms,
                                std::optional<ByteSpan> key, std::optional<ByteSpan> value,
                                std::span<const RecordHeader> headers) {
  STRATA_ASSERT(count_ < limits::kRecordsPerBatchMax, "batch holds too many records");
  STRATA_ASSERT(offset_delta > last_delta_ && offset_delta <= INT32_MAX, "offset delta order");
  if (count_ == 0) {
    if (!options_.delete_horizon_ms) base_timestamp_ = timestamp_ms;
    max_timestamp_ = timestamp_ms;
  }
  max_timestamp_ = std::max(max_timestamp_, timestamp_ms);
  // The body's length comes first, so it is summed from the fields' sizes; then the length
  // and the fields are written once, straight into the batch.
  // Wrapping subtraction: the delta of any two int64 timestamps round-trips through zigzag.
  uint64_t timestamp_delta =
      zigzag_encode(int64_t(uint64_t(timestamp_ms) - uint64_t(base_timestamp_)));
  STRATA_ASSERT(headers.size() <= size_t(INT32_MAX));
  size_t body = 1 + uvarint_size(timestamp_delta) + uvarint_size(zigzag_encode(offset_delta)) +
                nullable_size(key) + nullable_size(value) +
                uvarint_size(zigzag_encode(int64_t(headers.size())));
  for (const RecordHeader& h : headers) {
    body += nullable_size(as_bytes(h.key)) + nullable_size(header_value(h));
  }
  STRATA_ASSERT(body <= size_t(INT32_MAX), "record over 2 GiB");
  size_t at = records_.size();
  records_.resize(at + uvarint_size(zigzag_encode(int64_t(body))) + body);
  uint8_t* p = encode_uvarint(records_.data() + at, zigzag_encode(int64_t(body)));
  *p++ = 0;  // record attributes: unused in magic 2
  p = encode_uvarint(p, timestamp_delta);
  p = encode_uvarint(p, zigzag_encode(offset_delta));
  p = put_nullable(p, key);
  p = put_nullable(p, value);
  p = encode_uvarint(p, zigzag_encode(int64_t(headers.size())));
  for (const RecordHeader& h : headers) {
    p = put_nullable(p, as_bytes(h.key));
    p = put_nullable(p, header_value(h));
  }
  STRATA_ASSERT(p == records_.data() + records_.size(), "record length miscounted");
  ++count_;
  last_delta_ = offset_delta;
}

Result<Bytes> RecordBatchBuilder::build() const {
  if (count_ == 0 && !options_.allow_empty) {
    return Status::invalid_argument("a record batch needs at least one record");
  }
  Bytes compressed;
  ByteSpan payload = records_;
  if (options_.codec != Codec::kNone) {
    STRATA_ASSIGN_OR_RETURN(compressed, compress(options_.codec, records_));
    payload = compressed;
  }
  if (payload.size() > size_t(INT32_MAX) - bf::kHeaderSize) {
    return Status::invalid_argument("record batch over 2 GiB");
  }
  int16_t attributes = int16_t(options_.codec);
  if (options_.transactional) attributes |= bf::kTransactionalBit;
  if (options_.control) attributes |= bf::kControlBit;
  if (options_.log_append_time) attributes |= bf::kTimestampTypeBit;
  if (options_.delete_horizon_ms) attributes |= bf::kDeleteHorizonBit;
  int32_t last_offset_delta = options_.last_offset_delta.value_or(int32_t(last_delta_));
  STRATA_ASSERT(last_offset_delta >= last_delta_ && last_offset_delta >= 0, "offset range");
  int64_t max_timestamp = options_.max_timestamp_ms.value_or(max_timestamp_);
  int64_t base_timestamp = count_ == 0 && !options_.delete_horizon_ms ? max_timestamp
                                                                      : base_timestamp_;

  Bytes out;
  out.reserve(bf::kHeaderSize + payload.size());
  ByteWriter w(out);
  w.i64(0);  // baseOffset: the broker assigns it
  size_t length_at = w.reserve(4);
  w.i32(options_.partition_leader_epoch);
  w.i8(bf::kMagicV2);
  size_t crc_at = w.reserve(4);
  w.i16(attributes);
  w.i32(last_offset_delta);
  w.i64(base_timestamp);
  w.i64(max_timestamp);
  w.i64(options_.producer_id);
  w.i16(options_.producer_epoch);
  w.i32(options_.base_sequence);
  w.i32(count_);
  STRATA_ASSERT(w.size() == bf::kHeaderSize && length_at == bf::kBatchLengthAt &&
                crc_at == bf::kCrcAt);
  w.raw(payload);
  w.patch_i32(length_at, int32_t(out.size() - bf::kLogOverhead));
  w.patch_u32(crc_at, crc32c::value(ByteSpan(out).subspan(bf::kAttributesAt)));
  return out;
}

// ---- stamping -----------------------------------------------------------------------------

void set_base_offset(std::span<uint8_t> batch, Offset base_offset) {
  STRATA_ASSERT(batch.size() >= bf::kHeaderSize, "stamping a batch that was not validated");
  STRATA_ASSERT(base_offset.value() >= 0, "offsets are assigned from 0 up");
  store_be64(batch.data() + bf::kBaseOffsetAt, uint64_t(base_offset.value()));
}

void set_leader_epoch(std::span<uint8_t> batch, LeaderEpoch epoch) {
  STRATA_ASSERT(batch.size() >= bf::kHeaderSize, "stamping a batch that was not validated");
  store_be32(batch.data() + bf::kLeaderEpochAt, uint32_t(epoch.value()));
}

void set_log_append_time(std::span<uint8_t> batch, int64_t timestamp_ms) {
  STRATA_ASSERT(batch.size() >= bf::kHeaderSize, "stamping a batch that was not validated");
  uint8_t* p = batch.data();
  uint16_t attributes = load_be16(p + bf::kAttributesAt) | uint16_t(bf::kTimestampTypeBit);
  store_be16(p + bf::kAttributesAt, attributes);
  store_be64(p + bf::kMaxTimestampAt, uint64_t(timestamp_ms));
  ByteSpan covered = ByteSpan(batch).subspan(bf::kAttributesAt);
  store_be32(p + bf::kCrcAt, crc32c::value(covered));
}

int32_t next_sequence(int32_t seq) { return seq == INT32_MAX ? 0 : seq + 1; }

int32_t last_sequence(int32_t first, int32_t count) {
  int64_t last = int64_t(first) + count - 1;
  return int32_t(last > INT32_MAX ? last - int64_t(INT32_MAX) - 1 : last);
}

void set_producer_state(std::span<uint8_t> batch, int64_t producer_id, int16_t producer_epoch,
                        int32_t base_sequence) {
  STRATA_ASSERT(batch.size() >= bf::kHeaderSize, "stamping a batch that was not built");
  uint8_t* p = batch.data();
  store_be64(p + bf::kProducerIdAt, uint64_t(producer_id));
  store_be16(p + bf::kProducerEpochAt, uint16_t(producer_epoch));
  store_be32(p + bf::kBaseSequenceAt, uint32_t(base_sequence));
  ByteSpan covered = ByteSpan(batch).subspan(bf::kAttributesAt);
  store_be32(p + bf::kCrcAt, crc32c::value(covered));
}

// ---- produce validation -------------------------------------------------------------------

namespace {

struct Verdict {
  BatchFault fault = BatchFault::kNone;
  Status status;
};

Verdict refuse(BatchFault fault, Status status) { return {fault, std::move(status)}; }

// Checks the header-level rules Kafka's LogValidator applies to a client's batch.
Verdict check_append_header(const BatchHeader& h, const AppendValidationOptions& options) {
  if (!h.codec()) {
    return refuse(BatchFault::kUnsupportedCompression,
                  Status::unsupported("compression codec id " + std::to_string(h.codec_id()) +
                                      " is not supported"));
  }
  if (options.require_zero_base_offset && h.base_offset != 0) {
    return refuse(BatchFault::kInvalidRecord,
                  Status::invalid_argument("baseOffset is " + std::to_string(h.base_offset) +
                                           ", a client batch must start at 0"));
  }
  if (h.records_count <= 0 || int64_t(h.last_offset_delta) + 1 != h.records_count) {
    return refuse(BatchFault::kInvalidRecord,
                  Status::invalid_argument(
                      "recordsCount " + std::to_string(h.records_count) +
                      " does not match lastOffsetDelta " + std::to_string(h.last_offset_delta)));
  }
  return {};
}

// Validates one whole batch of a produce request and fills `info`.
Verdict check_append_batch(ByteSpan batch, const AppendValidationOptions& options,
                           BatchInfo& info) {
  Result<BatchHeader> parsed = parse_batch_header(batch);
  if (!parsed) {
    // Only magic 2 is accepted from Produce v3+; Kafka calls other magics INVALID_RECORD.
    bool bad_magic = parsed.status().code() == StatusCode::kUnsupported;
    return refuse(bad_magic ? BatchFault::kInvalidRecord : BatchFault::kCorruptMessage,
                  parsed.status());
  }
  const BatchHeader& h = *parsed;
  if (Status st = validate_batch(batch); !st) return refuse(BatchFault::kCorruptMessage, st);
  if (Verdict v = check_append_header(h, options); v.fault != BatchFault::kNone) return v;

  Bytes storage;
  Result<ByteSpan> payload =
      records_payload(h, batch, options.max_decompressed_bytes, storage);
  if (!payload) return refuse(BatchFault::kCorruptMessage, payload.status());
  RecordsSummary summary;
  if (Status st = walk_records(*payload, h.records_count, summary, nullptr); !st) {
    return refuse(BatchFault::kInvalidRecord, st);
  }
  if (!summary.sequential) {
    return refuse(BatchFault::kInvalidRecord,
                  Status::invalid_argument("record offset deltas are not 0, 1, 2, ..."));
  }
  if (options.require_keys && summary.null_key && !h.control()) {
    return refuse(BatchFault::kInvalidRecord,
                  Status::invalid_argument("a compacted topic cannot accept a record without "
                                           "a key"));
  }
  info.size_bytes = batch.size();
  info.codec = *h.codec();
  info.records_count = h.records_count;
  info.first_offset_delta = summary.first_offset_delta;
  info.last_offset_delta = h.last_offset_delta;
  info.base_timestamp = h.base_timestamp;
  info.max_timestamp = h.max_timestamp;
  // Wrapping add: hostile deltas must not be signed-overflow UB.
  info.records_max_timestamp =
      int64_t(uint64_t(h.base_timestamp) + uint64_t(summary.max_timestamp_delta));
  info.producer_id = h.producer_id;
  info.producer_epoch = h.producer_epoch;
  info.base_sequence = h.base_sequence;
  info.transactional = h.transactional();
  info.control = h.control();
  info.log_append_time = h.log_append_time();
  return {};
}

AppendValidation refuse_append(BatchFault fault, size_t index, size_t position,
                               const Status& st) {
  AppendValidation out;
  out.fault = fault;
  std::string where = "batch " + std::to_string(index) + " at byte " + std::to_string(position);
  out.status = Status(st.is_ok() ? StatusCode::kCorruption : st.code(),
                      where + ": " + st.message());
  return out;
}

}  // namespace

AppendValidation validate_for_append(ByteSpan produce_records,
                                     const AppendValidationOptions& options) {
  AppendValidation result;
  BatchSplitter splitter(produce_records);
  size_t index = 0;
  while (std::optional<ByteSpan> batch = splitter.next()) {
    size_t position = splitter.valid_prefix_bytes() - batch->size();
    if (options.require_single_batch && index == 1) {
      return refuse_append(BatchFault::kInvalidRecord, index, position,
                           Status::invalid_argument("only one record batch is allowed"));
    }
    BatchInfo info;
    info.position = position;
    Verdict v = check_append_batch(*batch, options, info);
    if (v.fault != BatchFault::kNone) return refuse_append(v.fault, index, position, v.status);
    result.batches.push_back(info);
    ++index;
  }
  if (splitter.tail() != BatchSplitter::Tail::kClean) {
    return refuse_append(BatchFault::kCorruptMessage, index, splitter.valid_prefix_bytes(),
                         splitter.tail_status());
  }
  if (result.batches.empty()) {
    return refuse_append(BatchFault::kInvalidRecord, 0, 0,
                         Status::invalid_argument("no record batch in the produce request"));
  }
  return result;
}

}  // namespace strata
