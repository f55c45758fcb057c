#include "engine/base/bytes.h"

#include <bit>

namespace strata {

double ByteReader::f64() { return std::bit_cast<double>(static_cast<uint64_t>(i64())); }

namespace {

// Decodes an unsigned LEB128 of at most `max_bytes` bytes from p[0, available). Returns the
// bytes it used, or 0 when the buffer ends inside it or it runs longer (malformed).
template <class T>
size_t decode_uvarint(const uint8_t* p, size_t available, size_t max_bytes, T& v) {
  v = 0;
  for (size_t i = 0; i < max_bytes && i < available; ++i) {
    v |= T(p[i] & 0x7f) << (7 * i);
    if ((p[i] & 0x80) == 0) return i + 1;
  }
  return 0;
}

}  // namespace

// The multi-byte varints: read straight from the buffer, failing without advancing.
uint64_t ByteReader::uvarlong_long() {
  uint64_t v = 0;
  size_t used = ok_ ? decode_uvarint(data_.data() + pos_, data_.size() - pos_, 10, v) : 0;
  if (used == 0) {
    ok_ = false;
    return 0;
  }
  pos_ += used;
  return v;
}

uint32_t ByteReader::uvarint_long() {
  uint32_t v = 0;
  size_t used = ok_ ? decode_uvarint(data_.data() + pos_, data_.size() - pos_, 5, v) : 0;
  if (used == 0) {
    ok_ = false;
    return 0;
  }
  pos_ += used;
  return v;
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
