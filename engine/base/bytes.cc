#include "engine/base/bytes.h"

#include <bit>

namespace strata {

double ByteReader::f64() { return std::bit_cast<double>(static_cast<uint64_t>(i64())); }

uint64_t ByteReader::uvarlong_long() {
  uint64_t v = 0;
  for (int shift = 0; shift < 70; shift += 7) {
    uint8_t b = u8();
    if (!ok_) return 0;
    v |= uint64_t(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return v;
  }
  ok_ = false;  // more than 10 bytes: malformed
  return 0;
}

uint32_t ByteReader::uvarint_long() {
  uint32_t v = 0;
  for (int shift = 0; shift < 35; shift += 7) {
    uint8_t b = u8();
    if (!ok_) return 0;
    v |= uint32_t(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return v;
  }
  ok_ = false;  // more than 5 bytes: malformed
  return 0;
}

void ByteWriter::f64(double v) { i64(static_cast<int64_t>(std::bit_cast<uint64_t>(v))); }

void ByteWriter::uvarint_long(uint64_t v) {
  while (v >= 0x80) {
    out_.push_back(static_cast<uint8_t>(v | 0x80));
    v >>= 7;
  }
  out_.push_back(static_cast<uint8_t>(v));
}

void ByteWriter::patch_i32(size_t at, int32_t v) {
  STRATA_ASSERT(at + 4 <= out_.size(), "patch outside the buffer");
  store_be32(out_.data() + at, static_cast<uint32_t>(v));
}

}  // namespace strata
