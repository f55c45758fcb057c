// One segment of a partition log: a .log file of record batches and its two sparse indexes.
//
// Ownership: the PartitionLog owns its Segments; a Segment owns its three open files. A
// Segment never decides policy (rolling, retention, flushing): it appends, reads, loads,
// recovers and truncates, and reports its state. Bytes read from its files are untrusted:
// every decode returns Status, never asserts.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "engine/base/bytes.h"
#include "engine/base/ids.h"
#include "engine/base/status.h"
#include "engine/runtime/runtime.h"
#include "engine/storage/batch_header.h"
#include "engine/storage/index.h"

namespace strata {

// A ListOffsets answer: the first record at or after a timestamp.
struct TimestampOffset {
  int64_t timestamp_ms = -1;
  Offset offset;
};

// The byte range of whole batches selected by Segment::read.
struct SegmentRead {
  Bytes bytes;
  Offset first_offset;  // base offset of the first batch returned (may be < the fetch offset)
  Offset next_offset;   // last offset returned + 1
  int32_t batch_count = 0;
};

// What recovery cut from the end of a segment's .log.
struct RecoveryCut {
  uint64_t position = 0;  // new file size
  uint64_t dropped_bytes = 0;
  std::string reason;
};

class Segment {
 public:
  struct Options {
    size_t offset_index_entries_max = 1;
    size_t time_index_entries_max = 1;
    int32_t index_interval_bytes = 4096;
  };

  // A new empty segment; its files are created (or emptied). The caller syncs the directory.
  static Result<std::unique_ptr<Segment>> create(FileSystem& fs, const std::string& dir,
                                                 Offset base, const Options& options,
                                                 int64_t now_ms);
  // The files of a segment found on disk (missing index files are created empty). The state
  // is unknown until load() or recover() succeeds.
  static Result<std::unique_ptr<Segment>> open(FileSystem& fs, const std::string& dir, Offset base,
                                               const Options& options, int64_t now_ms);

  // Whether offsets may jump between batches. Only the log cleaner makes such gaps, and only
  // in segments it synced below the recovery point; anywhere else a jump means a corrupt
  // baseOffset (it is outside the CRC), so recovery cuts there.
  enum class Gaps : uint8_t { kRefused, kAllowed };

  // Fast path for a segment that was synced before the recovery point: loads both indexes and
  // reads the batch headers after the last offset index entry. kCorruption if an index file
  // was missing or anything is inconsistent; the caller then falls back to recover().
  Status load(Gaps gaps);
  // Full scan: checks every batch (structure, offset order, CRC-32C), cuts the .log at the
  // first bad one and rebuilds both indexes. Returns the cut, if any.
  Result<std::optional<RecoveryCut>> recover(Gaps gaps);

  // Appends back-to-back batches whose offsets were already assigned (base ≥ next_offset()).
  Status append(ByteSpan batches);
  // Whole batches from the one containing `from`, up to `max_bytes` but at least one (KIP-74),
  // stopping before any batch whose last offset is ≥ `bound`.
  Result<SegmentRead> read(Offset from, int32_t max_bytes, Offset bound);
  // The first record with timestamp ≥ target_ms and offset ≥ min_offset, if this segment has
  // one (exact for uncompressed CreateTime batches, else the batch's first eligible offset).
  Result<std::optional<TimestampOffset>> find_timestamp(int64_t target_ms, Offset min_offset);
  // Removes every batch whose last offset is ≥ end (a batch straddling `end` goes entirely).
  Status truncate_to(Offset end);
  // Calls `fn` with the header of every batch, in order, reading nothing but headers (the
  // broker rebuilds its idempotent producers' state this way). Stops at fn's first error.
  Status for_each_header(const std::function<Status(const StoredBatchHeader&)>& fn);
  // The segment stops being the active one: record its final max timestamp (as Kafka does).
  Status on_roll();
  // Syncs the .log and both indexes if anything was written since the last sync.
  Status sync();
  // Removes the three files (the caller syncs the directory).
  Status remove_files(FileSystem& fs);

  Offset base_offset() const { return base_; }
  Offset next_offset() const { return next_offset_; }
  uint64_t size_bytes() const { return size_; }
  bool empty() const { return size_ == 0; }
  // Largest batch maxTimestamp, -1 if none.
  int64_t max_timestamp_ms() const { return max_timestamp_ms_; }
  // The first batch's maxTimestamp, -1 if none (max.compaction.lag.ms measures from it, as
  // Kafka does).
  int64_t first_batch_timestamp_ms() const { return first_batch_timestamp_ms_; }
  // Runtime wall-clock time this segment was created or (for one found on disk) opened.
  int64_t created_ms() const { return created_ms_; }
  bool indexes_full() const { return offset_index_->full() || time_index_->full(); }
  bool dirty() const { return dirty_; }
  const std::string& log_path() const { return log_->path(); }

 private:
  Segment(Offset base, const Options& options, int64_t now_ms)
      : base_(base), options_(options), next_offset_(base), created_ms_(now_ms) {}

  static Result<std::unique_ptr<Segment>> open_files(FileSystem& fs, const std::string& dir,
                                                     Offset base, const Options& options,
                                                     int64_t now_ms, OpenMode log_mode);
  Result<StoredBatchHeader> read_header(uint64_t pos, uint64_t file_size);
  // Position of the first batch whose last offset is ≥ target (size_ if none).
  Result<uint64_t> position_of(Offset target);
  // Updates indexes and derived state for a batch at `pos` (append and recovery share it).
  Status index_batch(const StoredBatchHeader& h, uint64_t pos);
  // After the offset index is loaded or cut: scans headers after its last entry to derive
  // next offset, max timestamp and bytes since the last entry; then folds in the time index.
  Status derive_tail_state();
  Status fold_time_index();
  Status reset_state();

  Offset base_;
  Options options_;
  std::unique_ptr<File> log_;
  std::unique_ptr<OffsetIndex> offset_index_;
  std::unique_ptr<TimeIndex> time_index_;
  uint64_t size_ = 0;
  Offset next_offset_;
  int64_t max_timestamp_ms_ = -1;
  int64_t first_batch_timestamp_ms_ = -1;
  Offset offset_of_max_timestamp_;
  uint64_t bytes_since_index_entry_ = 0;
  int64_t created_ms_ = 0;
  bool dirty_ = false;
  bool index_files_missing_ = false;  // found on disk without them: load() refuses
  Gaps gaps_ = Gaps::kRefused;        // as given to the last load() or recover()
  // Where the last read() stopped: the batch boundary at byte `pos`, where offset `next`
  // begins. A consumer's next fetch starts there, so position_of() answers it without
  // scanning headers from an index entry. Forgotten whenever the log is cut or reloaded.
  struct ReadHint {
    Offset next{-1};
    uint64_t pos = 0;
  };
  ReadHint read_hint_;
};

}  // namespace strata
