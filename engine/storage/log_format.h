// On-disk layout of one partition log (Kafka's layout), shared by the writer and recovery.
//
// <log.dirs>/<topic>-<partition>/            one directory per partition
//   00000000000000000000.log                 segment: record batches v2 exactly as on the wire
//   00000000000000000000.index               sparse offset index of that segment
//   00000000000000000000.timeindex           sparse time index of that segment
//   strata-log.checkpoint                    log start offset + recovery point (below)
//   strata-log.checkpoint.tmp                transient: written, synced, then renamed over
// A segment is named by its base offset in 20 decimal digits, zero padded.
//
// .log: batches back to back, offsets strictly increasing (see record_batch_format.h). No
// file header, no trailer: the file size is the end of the last batch.
//
// .index entry (8 bytes, big-endian), one per `index_interval_bytes` of log:
//   0  4  relativeOffset  u32  last offset of the indexed batch − segment base offset
//   4  4  position        u32  byte position of that batch's first byte in the .log
// Entries strictly increase in both fields. Lookup(target): the last entry whose offset is
// ≤ target gives a position from which a forward scan of batch headers finds the target.
// Unlike Kafka, the file is not preallocated: its size is entries × 8.
//
// .timeindex entry (12 bytes, big-endian), written with an offset index entry (and when the
// segment is rolled) only if the segment's max timestamp grew since the previous entry:
//   0  8  timestamp       i64  largest batch maxTimestamp in the segment up to this entry
//   8  4  relativeOffset  u32  last offset of the batch that carried that timestamp
// Timestamps strictly increase; offsets never decrease.
//
// strata-log.checkpoint (35 bytes, big-endian):
//   0  4  magic           u32  0x53544C43 ("STLC")
//   4  2  version         u16  2
//   6  1  flags           u8   bit 0: clean shutdown (every byte below recoveryPoint synced
//                              and nothing written since)
//   7  8  logStartOffset  i64
//  15  8  recoveryPoint   i64  every batch below this offset was synced (log and indexes)
//  23  8  cleanerPoint    i64  the log cleaner's first dirty offset (log_cleaner.h)
//  31  4  crc             u32  CRC-32C of bytes [0, 31)
// Version 1 (27 bytes) had no cleanerPoint: its crc is at 23. It is read as cleanerPoint 0.
//
// Transient files of the log cleaner, named after the first segment they replace:
//   cleaning/            a subdirectory holding the cleaned segment being written, with its
//                        indexes (<base>.log, .index, .timeindex); recovery removes it
//   <base>.log.swap      complete and synced; recovery finishes the swap: it removes the
//                        segments whose base lies in [base, the swap's next offset) and
//                        renames it to <base>.log (its indexes are then rebuilt)
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "engine/base/ids.h"
#include "engine/base/limits.h"
#include "engine/protocol/record_batch_format.h"

namespace strata::log_format {

inline constexpr size_t kOffsetDigits = 20;
inline constexpr std::string_view kLogSuffix = ".log";
inline constexpr std::string_view kIndexSuffix = ".index";
inline constexpr std::string_view kTimeIndexSuffix = ".timeindex";
inline constexpr std::string_view kProducerSnapshotSuffix = ".snapshot";

inline constexpr size_t kOffsetEntrySize = 8;
inline constexpr size_t kTimeEntrySize = 12;

inline constexpr std::string_view kCheckpointName = "strata-log.checkpoint";
inline constexpr std::string_view kCheckpointTmpName = "strata-log.checkpoint.tmp";
// The broker's record of the topic id a partition directory belongs to (KIP-516's file).
inline constexpr std::string_view kPartitionMetadataName = "partition.metadata";
inline constexpr std::string_view kPartitionMetadataTmpName = "partition.metadata.tmp";
inline constexpr uint32_t kCheckpointMagic = 0x53544C43;
inline constexpr uint16_t kCheckpointVersion = 2;
inline constexpr uint16_t kCheckpointVersionV1 = 1;
inline constexpr size_t kCheckpointV1CrcAt = 23;
inline constexpr size_t kCheckpointV1Size = 27;
inline constexpr uint8_t kCheckpointCleanFlag = 0x01;
inline constexpr size_t kCheckpointMagicAt = 0;
inline constexpr size_t kCheckpointVersionAt = 4;
inline constexpr size_t kCheckpointFlagsAt = 6;
inline constexpr size_t kCheckpointLogStartAt = 7;
inline constexpr size_t kCheckpointRecoveryPointAt = 15;
inline constexpr size_t kCheckpointCleanerPointAt = 23;
inline constexpr size_t kCheckpointCrcAt = 31;
inline constexpr size_t kCheckpointSize = 35;
inline constexpr std::string_view kCleaningDir = "cleaning";
inline constexpr std::string_view kSwapSuffix = ".swap";
static_assert(kCheckpointCrcAt + 4 == kCheckpointSize);

// A batch larger than one request frame cannot have been appended: anything bigger on disk is
// garbage, and refusing it bounds the buffer recovery allocates.
inline constexpr int64_t kBatchBytesMax = limits::kFrameBytesMax;
// Relative offsets are u32 in the indexes; like Kafka, keep them within i32.
inline constexpr int64_t kRelativeOffsetMax = INT32_MAX;
// Positions are u32 in the offset index.
inline constexpr uint64_t kSegmentPositionMax = UINT32_MAX;
static_assert(batch_format::kHeaderSize > batch_format::kLogOverhead);

// kProducerSnapshot: idempotent producers' state as of the offset in the name
// (producer_state.h); written by the broker, ignored by segment loading.
enum class FileKind { kLog, kIndex, kTimeIndex, kProducerSnapshot };

struct SegmentFileName {
  Offset base;
  FileKind kind;
};

// "00000000000000000042.log" for (42, kLog).
std::string segment_file_name(Offset base, FileKind kind);
// Parses a directory entry name; nullopt if it is not a segment file.
std::optional<SegmentFileName> parse_segment_file_name(std::string_view name);
// "<topic>-<partition>", the partition's directory name under a log dir.
std::string partition_dir_name(std::string_view topic, PartitionId partition);

}  // namespace strata::log_format
