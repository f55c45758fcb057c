#include "engine/base/crc32c.h"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

namespace strata::crc32c {
namespace {

constexpr uint32_t kPoly = 0x82F63B78u;  // reflected Castagnoli polynomial

using Table = std::array<std::array<uint32_t, 256>, 8>;

constexpr Table make_table() {
  Table t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ kPoly : c >> 1;
    t[0][i] = c;
  }
  for (uint32_t i = 0; i < 256; ++i) {
    for (size_t s = 1; s < 8; ++s) t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xff];
  }
  return t;
}

constexpr Table kTable = make_table();

bool detect_hardware() {
#if defined(__x86_64__)
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid(1, &eax, &ebx, &ecx, &edx) == 0) return false;
  return (ecx & bit_SSE4_2) != 0;
#else
  return false;
#endif
}

const bool kHasHardware = detect_hardware();

// Shifting a CRC register over zero bytes, for combining the CRCs of adjacent blocks.
// The register is a polynomial over GF(2) in reflected bit order: bit 31 holds x^0. Feeding
// n zero bytes multiplies it by x^(8n) modulo the polynomial, and the CRC of A followed by B
// is shift(crc(A), |B|) xor (B's CRC from a zero register).
constexpr uint32_t kOne = 0x80000000u;  // x^0

constexpr uint32_t multiply_mod(uint32_t a, uint32_t b) {
  uint32_t product = 0;
  for (uint32_t bit = kOne; bit != 0; bit >>= 1) {
    if (a & bit) product ^= b;
    b = (b & 1) ? (b >> 1) ^ kPoly : b >> 1;  // b *= x
  }
  return product;
}

constexpr uint32_t x_to_8n(size_t n) {  // x^(8n) mod P, by squaring
  uint32_t result = kOne;
  uint32_t square = kOne >> 8;  // x^8
  for (; n != 0; n >>= 1) {
    if (n & 1) result = multiply_mod(result, square);
    square = multiply_mod(square, square);
  }
  return result;
}

// shift(c) = c * x^(8 * kBytes), one table lookup per byte of c.
template <size_t kBytes>
struct ShiftTable {
  std::array<std::array<uint32_t, 256>, 4> t{};
  constexpr ShiftTable() {
    const uint32_t k = x_to_8n(kBytes);
    for (uint32_t b = 0; b < 256; ++b) {
      for (size_t j = 0; j < 4; ++j) t[j][b] = multiply_mod(k, b << (8 * j));
    }
  }
  uint32_t shift(uint32_t c) const {
    return t[0][c & 0xff] ^ t[1][(c >> 8) & 0xff] ^ t[2][(c >> 16) & 0xff] ^ t[3][c >> 24];
  }
};

}  // namespace

uint32_t extend_portable(uint32_t crc, const uint8_t* p, size_t n) {
  uint32_t c = ~crc;
  while (n >= 8) {
    uint32_t lo, hi;
    std::memcpy(&lo, p, 4);  // little-endian hosts only (x86-64, aarch64)
    std::memcpy(&hi, p + 4, 4);
    lo ^= c;
    c = kTable[7][lo & 0xff] ^ kTable[6][(lo >> 8) & 0xff] ^ kTable[5][(lo >> 16) & 0xff] ^
        kTable[4][lo >> 24] ^ kTable[3][hi & 0xff] ^ kTable[2][(hi >> 8) & 0xff] ^
        kTable[1][(hi >> 16) & 0xff] ^ kTable[0][hi >> 24];
    p += 8;
    n -= 8;
  }
  while (n-- > 0) c = kTable[0][(c ^ *p++) & 0xff] ^ (c >> 8);
  return ~c;
}

#if defined(__x86_64__)
// One crc32 instruction takes 3 cycles but a new one can start every cycle, so a single
// dependent chain runs at a third of the unit's speed. Long inputs are cut into rounds of
// three adjacent blocks whose CRCs run interleaved and are then combined by shifting.
constexpr size_t kLongBlock = 2048;
constexpr size_t kShortBlock = 128;
constexpr ShiftTable<kLongBlock> kShiftLong;
constexpr ShiftTable<kShortBlock> kShiftShort;

template <size_t kBlock>
__attribute__((target("sse4.2"))) inline uint64_t crc_rounds(uint64_t c, const uint8_t*& p,
                                                             size_t& n,
                                                             const ShiftTable<kBlock>& shift) {
  while (n >= 3 * kBlock) {
    uint64_t c1 = 0, c2 = 0;
    for (size_t i = 0; i < kBlock; i += 8) {
      uint64_t w0, w1, w2;
      std::memcpy(&w0, p + i, 8);
      std::memcpy(&w1, p + kBlock + i, 8);
      std::memcpy(&w2, p + 2 * kBlock + i, 8);
      c = __builtin_ia32_crc32di(c, w0);
      c1 = __builtin_ia32_crc32di(c1, w1);
      c2 = __builtin_ia32_crc32di(c2, w2);
    }
    c = shift.shift(uint32_t(c)) ^ uint32_t(c1);
    c = shift.shift(uint32_t(c)) ^ uint32_t(c2);
    p += 3 * kBlock;
    n -= 3 * kBlock;
  }
  return c;
}

__attribute__((target("sse4.2"))) uint32_t extend_hardware(uint32_t crc, const uint8_t* p,
                                                           size_t n) {
  STRATA_ASSERT(kHasHardware, "hardware CRC-32C used on a CPU without SSE4.2");
  uint64_t c = ~crc;
  c = crc_rounds(c, p, n, kShiftLong);
  c = crc_rounds(c, p, n, kShiftShort);
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    c = __builtin_ia32_crc32di(c, w);
    p += 8;
    n -= 8;
  }
  uint32_t c32 = static_cast<uint32_t>(c);
  while (n-- > 0) c32 = __builtin_ia32_crc32qi(c32, *p++);
  return ~c32;
}
#else
uint32_t extend_hardware(uint32_t crc, const uint8_t* p, size_t n) {
  return extend_portable(crc, p, n);
}
#endif

bool has_hardware() { return kHasHardware; }

uint32_t extend(uint32_t crc, const uint8_t* data, size_t n) {
  return kHasHardware ? extend_hardware(crc, data, n) : extend_portable(crc, data, n);
}

}  // namespace strata::crc32c
