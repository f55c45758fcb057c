// libFuzzer target: the records blob of a Produce request (one or more record batches v2),
// as the broker validates it before appending, and the same bytes as a fetch or a recovering
// segment would present them. Exercises validate_for_append() (framing, CRC-32C, codecs,
// record framing), BatchSplitter, parse_batch_header(), validate_batch() and decode_records()
// including decompression of gzip/snappy/lz4/zstd payloads.
//
// Real inputs rarely pass the CRC, so when the input starts with the byte 0xC5 the target
// recomputes every batch's CRC first (the "fix the checksum" trick) to reach the code behind
// it: codec handling and record decoding.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "engine/base/bytes.h"
#include "engine/base/crc32c.h"
#include "engine/protocol/record_batch.h"

using namespace strata;

namespace {

// Small enough that a zip bomb costs the fuzzer milliseconds, large enough for real batches.
constexpr size_t kFuzzDecompressedMax = 4 * 1024 * 1024;

// Rewrites the CRC field of every whole batch in `buf` to match its contents.
void fix_crcs(Bytes& buf) {
  size_t pos = 0;
  while (buf.size() - pos >= batch_format::kHeaderSize) {
    namespace bf = batch_format;
    const uint8_t* l = buf.data() + pos + bf::kBatchLengthAt;
    uint32_t len = (uint32_t(l[0]) << 24) | (uint32_t(l[1]) << 16) | (uint32_t(l[2]) << 8) | l[3];
    uint64_t whole = uint64_t(len) + batch_format::kLogOverhead;
    if (len > INT32_MAX || whole < batch_format::kHeaderSize || whole > buf.size() - pos) break;
    // CRC-32C covers attributes to the end of the batch.
    uint32_t crc = crc32c::value(
        ByteSpan(buf.data() + pos + bf::kAttributesAt, whole - bf::kAttributesAt));
    for (int i = 0; i < 4; ++i) buf[pos + bf::kCrcAt + i] = uint8_t(crc >> (24 - 8 * i));
    pos += whole;
  }
}

void exercise(ByteSpan records) {
  AppendValidationOptions opts;
  opts.max_decompressed_bytes = kFuzzDecompressedMax;
  AppendValidation v = validate_for_append(records, opts);
  if (v.ok()) {
    // What was accepted must be consistent with what the splitter sees.
    size_t end = 0;
    for (const BatchInfo& b : v.batches) end = b.position + b.size_bytes;
    if (end != records.size()) __builtin_trap();
  }
  BatchSplitter splitter(records);
  while (auto batch = splitter.next()) {
    (void)parse_batch_header(*batch);
    if (validate_batch(*batch)) (void)decode_records(*batch, kFuzzDecompressedMax);
  }
  (void)splitter.tail_status();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size >= 1 && data[0] == 0xC5) {
    Bytes buf(data + 1, data + size);
    fix_crcs(buf);
    exercise(ByteSpan(buf));
    return 0;
  }
  exercise(ByteSpan(data, size));
  return 0;
}
