// Byte buffers with bounds-checked big-endian and varint codecs.
//
// ByteReader is for untrusted input: reading past the end, or a malformed varint, sets a
// sticky failure flag and returns zeros; the caller checks ok() once at the end and turns a
// failure into a Status or a Kafka error code. It never asserts on input bytes.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/assert.h"

namespace strata {

using Bytes = std::vector<uint8_t>;
using ByteSpan = std::span<const uint8_t>;

inline ByteSpan as_bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
inline std::string_view as_chars(ByteSpan b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

// Zigzag mapping used by record-level varints (protobuf sint32/sint64).
inline constexpr uint64_t zigzag_encode(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
inline constexpr int64_t zigzag_decode(uint64_t v) {
  return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
}

// Big-endian loads/stores on raw memory whose bounds the caller already checked.
inline uint32_t load_be32(const uint8_t* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | p[3];
}
inline uint64_t load_be64(const uint8_t* p) {
  return (uint64_t(load_be32(p)) << 32) | load_be32(p + 4);
}
inline uint16_t load_be16(const uint8_t* p) { return uint16_t((p[0] << 8) | p[1]); }
inline void store_be32(uint8_t* p, uint32_t v) {
  p[0] = uint8_t(v >> 24);
  p[1] = uint8_t(v >> 16);
  p[2] = uint8_t(v >> 8);
  p[3] = uint8_t(v);
}
inline void store_be64(uint8_t* p, uint64_t v) {
  store_be32(p, uint32_t(v >> 32));
  store_be32(p + 4, uint32_t(v));
}
inline void store_be16(uint8_t* p, uint16_t v) {
  p[0] = uint8_t(v >> 8);
  p[1] = uint8_t(v);
}

// Decodes an unsigned LEB128 varint of one or two bytes (values below 16384) at `p`, which
// must stay below `end`, and advances `p`. False, with `p` unmoved, for a longer varint or
// one cut short by `end`: the caller then uses a general decoder (ByteReader), which also
// words the error.
inline bool decode_short_uvarint(const uint8_t*& p, const uint8_t* end, uint32_t& v) {
  if (p < end && p[0] < 0x80) {
    v = p[0];
    p += 1;
    return true;
  }
  if (end - p >= 2 && p[1] < 0x80) {
    v = uint32_t(p[0] & 0x7f) | (uint32_t(p[1]) << 7);
    p += 2;
    return true;
  }
  return false;
}

class ByteReader {
 public:
  explicit ByteReader(ByteSpan data) : data_(data) {}

  bool ok() const { return ok_; }
  size_t remaining() const { return ok_ ? data_.size() - pos_ : 0; }
  size_t position() const { return pos_; }
  bool at_end() const { return remaining() == 0; }
  void fail() { ok_ = false; }

  uint8_t u8() { return static_cast<uint8_t>(read_be(1)); }
  int8_t i8() { return static_cast<int8_t>(read_be(1)); }
  int16_t i16() { return static_cast<int16_t>(read_be(2)); }
  uint16_t u16() { return static_cast<uint16_t>(read_be(2)); }
  int32_t i32() { return static_cast<int32_t>(read_be(4)); }
  uint32_t u32() { return static_cast<uint32_t>(read_be(4)); }
  int64_t i64() { return static_cast<int64_t>(read_be(8)); }
  double f64();
  bool boolean() { return u8() != 0; }

  // Unsigned LEB128 (flexible-version lengths and tags). At most 5 bytes for 32-bit values.
  // The one- and two-byte cases, by far the commonest in record fields (a record of 64 to
  // 8191 bytes has a two-byte zigzag length), are decoded inline.
  uint32_t uvarint() {
    if (ok_) {
      const uint8_t* p = data_.data() + pos_;
      uint32_t v;
      if (decode_short_uvarint(p, data_.data() + data_.size(), v)) {
        pos_ = size_t(p - data_.data());
        return v;
      }
    }
    return uvarint_long();
  }
  uint64_t uvarlong() {
    if (ok_ && pos_ < data_.size() && data_[pos_] < 0x80) return data_[pos_++];
    return uvarlong_long();
  }
  // Zigzag varints (record fields).
  int32_t varint() {
    uint32_t raw = uvarint();
    return static_cast<int32_t>((raw >> 1) ^ -(raw & 1));
  }
  int64_t varlong() { return zigzag_decode(uvarlong()); }

  // Returns a view into the underlying buffer; empty span and failure if too short.
  ByteSpan take(size_t n) {
    if (!ok_ || data_.size() - pos_ < n) {
      ok_ = false;
      return {};
    }
    ByteSpan out = data_.subspan(pos_, n);
    pos_ += n;
    return out;
  }
  void skip(size_t n) { (void)take(n); }

 private:
  uint64_t read_be(size_t n) {
    if (!ok_ || data_.size() - pos_ < n) {
      ok_ = false;
      return 0;
    }
    const uint8_t* p = data_.data() + pos_;
    pos_ += n;
    switch (n) {
      case 1: return p[0];
      case 2: return load_be16(p);
      case 4: return load_be32(p);
      case 8: return load_be64(p);
      default: break;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v = (v << 8) | p[i];
    return v;
  }
  uint32_t uvarint_long();
  uint64_t uvarlong_long();

  ByteSpan data_;
  size_t pos_ = 0;
  bool ok_ = true;
};

class ByteWriter {
 public:
  explicit ByteWriter(Bytes& out) : out_(out) {}

  size_t size() const { return out_.size(); }
  Bytes& buffer() { return out_; }

  void u8(uint8_t v) { out_.push_back(v); }
  void i8(int8_t v) { u8(static_cast<uint8_t>(v)); }
  void i16(int16_t v) { write_be(static_cast<uint16_t>(v), 2); }
  void u16(uint16_t v) { write_be(v, 2); }
  void i32(int32_t v) { write_be(static_cast<uint32_t>(v), 4); }
  void u32(uint32_t v) { write_be(v, 4); }
  void i64(int64_t v) { write_be(static_cast<uint64_t>(v), 8); }
  void f64(double v);
  void boolean(bool v) { u8(v ? 1 : 0); }
  void uvarint(uint64_t v) {
    if (v < 0x80) {
      out_.push_back(static_cast<uint8_t>(v));
      return;
    }
    uvarint_long(v);
  }
  void varint(int32_t v) { uvarint(zigzag_encode(v)); }
  void varlong(int64_t v) { uvarint(zigzag_encode(v)); }
  void raw(ByteSpan b) { out_.insert(out_.end(), b.begin(), b.end()); }
  void raw(std::string_view s) { raw(as_bytes(s)); }

  // Reserve `n` bytes to be patched later (e.g. a length prefix); returns their position.
  size_t reserve(size_t n) {
    size_t at = out_.size();
    out_.resize(at + n);
    return at;
  }
  void patch_i32(size_t at, int32_t v);
  void patch_u32(size_t at, uint32_t v) { patch_i32(at, static_cast<int32_t>(v)); }

 private:
  void write_be(uint64_t v, size_t n) {
    size_t at = out_.size();
    out_.resize(at + n);
    uint8_t* p = out_.data() + at;
    for (size_t i = 0; i < n; ++i) p[i] = static_cast<uint8_t>(v >> (8 * (n - 1 - i)));
  }
  void uvarint_long(uint64_t v);
  Bytes& out_;
};

// Size of an unsigned varint encoding of v.
inline constexpr size_t uvarint_size(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

// Writes the unsigned varint encoding of v at p, which has room for uvarint_size(v) bytes;
// returns the byte after it.
inline uint8_t* encode_uvarint(uint8_t* p, uint64_t v) {
  while (v >= 0x80) {
    *p++ = static_cast<uint8_t>(v | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<uint8_t>(v);
  return p;
}

}  // namespace strata
