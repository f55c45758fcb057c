// Record batch v2 (magic 2) header layout, shared by the protocol codec and storage.
// Batches are stored on disk exactly as on the wire; a fetch is a byte-range read.
//
//  offset size field
//   0      8   baseOffset            rewritten by the broker (not covered by the CRC)
//   8      4   batchLength           bytes after this field: batch size = batchLength + 12
//  12      4   partitionLeaderEpoch  stamped by the broker (not covered by the CRC)
//  16      1   magic                 = 2
//  17      4   crc                   CRC-32C of bytes [21, end)
//  21      2   attributes            bits 0-2 codec, 3 timestampType, 4 transactional,
//                                    5 control, 6 hasDeleteHorizonMs
//  23      4   lastOffsetDelta
//  27      8   baseTimestamp
//  35      8   maxTimestamp
//  43      8   producerId
//  51      2   producerEpoch
//  53      4   baseSequence
//  57      4   recordsCount
//  61      -   records (compressed as a whole when codec != 0)
#pragma once

#include <cstddef>
#include <cstdint>

namespace strata::batch_format {

inline constexpr size_t kBaseOffsetAt = 0;
inline constexpr size_t kBatchLengthAt = 8;
inline constexpr size_t kLeaderEpochAt = 12;
inline constexpr size_t kMagicAt = 16;
inline constexpr size_t kCrcAt = 17;
inline constexpr size_t kAttributesAt = 21;
inline constexpr size_t kLastOffsetDeltaAt = 23;
inline constexpr size_t kBaseTimestampAt = 27;
inline constexpr size_t kMaxTimestampAt = 35;
inline constexpr size_t kProducerIdAt = 43;
inline constexpr size_t kProducerEpochAt = 51;
inline constexpr size_t kBaseSequenceAt = 53;
inline constexpr size_t kRecordsCountAt = 57;
inline constexpr size_t kHeaderSize = 61;
// baseOffset + batchLength precede the length-counted part.
inline constexpr size_t kLogOverhead = 12;
inline constexpr int8_t kMagicV2 = 2;

inline constexpr int16_t kCodecMask = 0x07;
inline constexpr int16_t kTimestampTypeBit = 0x08;
inline constexpr int16_t kTransactionalBit = 0x10;
inline constexpr int16_t kControlBit = 0x20;
inline constexpr int16_t kDeleteHorizonBit = 0x40;

static_assert(kRecordsCountAt + 4 == kHeaderSize);
static_assert(kCrcAt + 4 == kAttributesAt);

}  // namespace strata::batch_format
