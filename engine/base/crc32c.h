// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as used by Kafka record batch v2.
// Uses the SSE4.2 crc32 instruction when the CPU has it, a slicing-by-8 table otherwise.
#pragma once

#include <cstddef>
#include <cstdint>

#include "engine/base/bytes.h"

namespace strata::crc32c {

// Continue a CRC: `crc` is a previous result (0 to start).
uint32_t extend(uint32_t crc, const uint8_t* data, size_t n);
inline uint32_t value(ByteSpan b) { return extend(0, b.data(), b.size()); }

// Both implementations, exposed so tests can check that they agree.
uint32_t extend_portable(uint32_t crc, const uint8_t* data, size_t n);
uint32_t extend_hardware(uint32_t crc, const uint8_t* data, size_t n);  // requires has_hardware()
bool has_hardware();

}  // namespace strata::crc32c
