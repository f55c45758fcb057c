// PartitionLog: the segmented, append-only log of one partition replica (Kafka's Log).
//
// Ownership and lifetime: one PartitionLog per partition directory; it owns its Segments and
// every file in the directory, from open() until close() or destroy(). Destroying the object
// without close() performs no I/O — it is what a crash looks like, and the next open()
// recovers. Single-threaded: every call comes from the runtime's loop.
//
// Errors: disk bytes never assert; they become kCorruption or a recovery cut with a warning.
// A failed write or sync leaves the in-memory state unknown relative to the files, so the log
// stops accepting calls (every later call returns that first error), like Kafka taking a log
// dir offline; the broker reopens it, which runs recovery.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/bytes.h"
#include "engine/base/ids.h"
#include "engine/base/status.h"
#include "engine/runtime/runtime.h"
#include "engine/storage/checkpoint.h"
#include "engine/storage/log_cleaner.h"
#include "engine/storage/log_config.h"
#include "engine/storage/segment.h"

namespace strata {

struct AppendResult {
  Offset first_offset;
  Offset last_offset;
  // Produce response's log_append_time_ms: the append time if the batches use LogAppendTime,
  // -1 for CreateTime.
  int64_t log_append_time_ms = -1;
  Offset log_start_offset;
};

struct ReadResult {
  Bytes records;        // whole batches, exactly as stored; empty if nothing to return
  Offset first_offset;  // base offset of the first returned batch (may be < from)
  Offset next_offset;   // offset to fetch next: last returned + 1, or `from` if empty
  int32_t batch_count = 0;
  Offset log_start_offset;
  Offset log_end_offset;
};

// A read-only view of one segment, for tests, tools and the visualizer.
struct SegmentInfo {
  Offset base_offset;
  Offset next_offset;
  uint64_t size_bytes = 0;
  int64_t max_timestamp_ms = -1;
};

class PartitionLog {
 public:
  // Opens (creating if missing) the partition directory `dir` and recovers it; see README.md.
  static Result<std::unique_ptr<PartitionLog>> open(Runtime& runtime, std::string dir,
                                                    LogConfig config);
  ~PartitionLog();
  PartitionLog(const PartitionLog&) = delete;
  PartitionLog& operator=(const PartitionLog&) = delete;

  // Appends one or more back-to-back, already validated v2 batches: rewrites each baseOffset
  // (from the log end offset on) and partitionLeaderEpoch in place, rolls if needed, writes.
  Result<AppendResult> append(std::span<uint8_t> batches, LeaderEpoch epoch, int64_t now_ms);
  // Whole batches from the one containing `from`: at most `max_bytes` but always at least one
  // (KIP-74), only batches entirely below `max_offset_exclusive` (the high watermark for
  // consumers, the log end offset for followers). kOutOfRange if `from` is outside
  // [log start, log end] (the broker answers OFFSET_OUT_OF_RANGE).
  Result<ReadResult> read(Offset from, int32_t max_bytes, Offset max_offset_exclusive);
  // ListOffsets by time: the first record with timestamp ≥ timestamp_ms, nullopt if none.
  Result<std::optional<TimestampOffset>> offset_for_timestamp(int64_t timestamp_ms);

  // Calls `fn` with the header of every stored batch whose last offset is >= `from`, oldest
  // first, reading only headers (see Segment::for_each_header).
  Status for_each_batch_header(Offset from,
                               const std::function<Status(const StoredBatchHeader&)>& fn);
  // `fn(base)` runs after each roll, with the new active segment's base (the log end then):
  // the broker snapshots its producer state there, as Kafka does.
  void set_roll_listener(std::function<void(Offset)> fn) { roll_listener_ = std::move(fn); }

  // Syncs every unsynced segment and the directory; the recovery point becomes the log end.
  Status flush();
  // Periodic work: time-based roll, retention by time and size, time-based flush, and
  // checkpointing an advanced recovery point (the broker's log.retention.check.interval.ms
  // timer). roll_and_flush() is the same without retention, for the finer flush tick.
  Status maintain(int64_t now_ms);
  Status roll_and_flush(int64_t now_ms);
  // Removes every batch whose last offset is ≥ end (replication truncation; a batch straddling
  // `end` goes entirely). The result is durable when this returns.
  Status truncate_to(Offset end);
  // Deletes everything and restarts the log empty at `start` (a follower far behind).
  Status truncate_fully_and_start_at(Offset start);
  // Advances the log start offset to `new_start` (≤ log end; retention and DeleteRecords) and
  // deletes segments wholly below it. No-op if new_start ≤ log start.
  Status delete_records_before(Offset new_start);
  // Takes a changed topic config (AlterConfigs): retention and flush settings apply from the
  // next check, segment and index settings from the next new segment, as in Kafka.
  // `config` must be valid (LogConfig::validate).
  void reconfigure(const LogConfig& config);
  // Compaction (log_cleaner.h). cleanable_range: nullopt unless the log is compacted and has
  // dirty bytes below its cleanable end. clean_step: one bounded unit of a pass (part of the
  // key map, or part of a group of segments rewritten, swapped in once complete); call again
  // until pass_done.
  std::optional<CleanableRange> cleanable_range(int64_t now_ms) const;
  Result<CleanStats> clean_step(int64_t now_ms, const CleanOptions& options);
  Offset cleaner_point() const { return cleaner_point_; }

  // Flushes and records a clean shutdown; the object is unusable afterwards.
  Status close();
  // Removes the partition directory; the object is unusable afterwards.
  // `last`, when given, names a file of the directory removed only after all the others, so
  // that a crash part-way leaves it there (the broker's partition.metadata).
  Status destroy(std::string_view last = {});

  Offset log_start_offset() const { return log_start_; }
  Offset log_end_offset() const;
  Offset recovery_point() const { return recovery_point_; }
  uint64_t size_bytes() const;
  std::vector<SegmentInfo> segments() const;
  const std::string& dir() const { return dir_; }
  const LogConfig& config() const { return config_; }

 private:
  PartitionLog(Runtime& runtime, std::string dir, LogConfig config);

  // recovery.cc
  Status recover(int64_t now_ms);
  Result<std::optional<LogCheckpoint>> read_checkpoint();
  Result<std::vector<Offset>> scan_dir();
  Status load_segments(const std::vector<Offset>& bases,
                       const std::optional<LogCheckpoint>& checkpoint, int64_t now_ms);
  Status remove_segment_files(Offset base);
  Status drop_segments_after(Offset base, const std::string& why);
  Result<bool> finish_interrupted_cleans(const std::vector<std::string>& names);
  Status finish_swap(const std::string& swap_name, Offset base,
                     const std::vector<std::string>& names);
  // log_cleaner.cc
  Result<CleanStats> clean_step_inner(int64_t now_ms, const CleanOptions& options);
  void abandon_clean_pass();  // drops pass_ and removes its cleaning directory
  std::string cleaning_dir() const;
  Status map_keys(const CleanOptions& options, uint64_t& budget, CleanStats& stats);
  Status plan_groups(int64_t now_ms);
  Status copy_group(int64_t now_ms, const CleanOptions& options, uint64_t& budget,
                    CleanStats& stats);
  Status write_cleaned(Segment& seg, Segment& out, Offset& next, int64_t now_ms,
                       const CleanOptions& options, uint64_t& budget, CleanStats& stats);
  Status swap_in_cleaned(const std::vector<Offset>& bases, int64_t now_ms);
  // retention.cc
  Status roll(int64_t now_ms);
  Status delete_oldest_segment(const std::string& reason);
  Status delete_segments_below_log_start(bool* deleted);
  Status delete_retained_segments(int64_t now_ms);
  Status write_checkpoint(bool clean);
  // partition_log.cc
  Status usable() const;
  Status flush_at(int64_t now_ms);
  Status fail(Status s);
  Segment& active() { return *segments_.rbegin()->second; }
  Segment::Options segment_options() const;
  bool should_roll(uint64_t append_bytes, Offset last_offset, int64_t now_ms);

  Runtime& rt_;
  std::string dir_;
  LogConfig config_;
  std::map<Offset, std::unique_ptr<Segment>> segments_;  // by base offset; last is active
  Offset log_start_;
  Offset recovery_point_;               // everything below was synced
  Offset checkpointed_recovery_point_;  // recovery point in the checkpoint file
  Offset cleaner_point_{0};             // first dirty offset (log_cleaner.h)
  // Goes up whenever segments are deleted or truncated other than by the cleaner: a clean
  // pass started before is abandoned (its key map and groups no longer describe the log).
  uint64_t layout_generation_ = 0;
  std::unique_ptr<CleanPass> pass_;
  int64_t last_flush_ms_ = 0;
  std::function<void(Offset)> roll_listener_;
  bool dir_dirty_ = false;  // directory entries changed since the last sync_dir
  bool closed_ = false;
  Status failed_;  // first write/sync failure; sticky
};

}  // namespace strata
