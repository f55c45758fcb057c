// The log cleaner: compaction of a partition log (cleanup.policy=compact), Kafka's LogCleaner.
//
// A compacted log keeps, for every key, at least its latest record. The cleaner point (the
// first dirty offset, kept in the log checkpoint) splits the log: below it every record was
// cleaned at least once. The cleanable range ends at the active segment, or earlier at the
// first segment holding a record younger than min.compaction.lag.ms. A pass
//   1. maps each key of the dirty section [cleaner point, end) to its last offset there;
//   2. flushes the log and checkpoints a recovery point at or above `end`, so that recovery
//      accepts the holes cleaning leaves between segments (recovery.cc);
//   3. rewrites the segments below `end`, one group of consecutive segments at a time (at most
//      segment.bytes of input), keeping a record unless a later record has its key, and
//      dropping a tombstone (null value) once its batch's delete horizon has passed;
//   4. moves the cleaner point to `end`.
// Offsets never change: a rewritten batch keeps its base offset, last offset delta, producer
// id, epoch and base sequence, so consumers' positions and idempotent producers' sequences
// stay valid. Tombstones get a delete horizon (KIP-534) the first time a clean keeps them:
// now + delete.retention.ms, so a consumer reading from the start has that long to see them.
//
// Who calls it: the broker's cleaner timer picks the partition with the highest dirty ratio
// (cleanable_range) and calls PartitionLog::clean_step until the pass is done. The broker has
// one event loop, so a step does a bounded amount of work (CleanOptions::step_bytes_max of
// input read) and a pass resumes where the previous step stopped: requests are served
// between steps. Appends and rolls between steps do not disturb a pass (it only touches
// segments below its end); a deletion or truncation abandons it (and its cleaned segment).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/base/ids.h"
#include "engine/base/bytes.h"
#include "engine/storage/segment.h"

namespace strata {

// What a pass over a partition would clean now.
struct CleanableRange {
  Offset first_dirty;        // the cleaner point, clamped to the log start
  Offset end;                // first offset the pass may not touch
  uint64_t clean_bytes = 0;  // segments below first_dirty
  uint64_t dirty_bytes = 0;  // segments in [first_dirty, end)
  bool overdue = false;      // a dirty segment's first batch passed max.compaction.lag.ms

  double dirty_ratio() const {
    uint64_t total = clean_bytes + dirty_bytes;
    return total == 0 ? 0.0 : double(dirty_bytes) / double(total);
  }
};

struct CleanOptions {
  // log.cleaner.dedupe.buffer.size: the key map's budget (KeyMap::bytes: key bytes plus 32
  // to 64 bytes of table per key). A pass whose dirty keys exceed it ends its dirty section
  // after the segment that crossed the budget; the next pass goes on from there.
  uint64_t key_map_bytes_max = 128ull << 20;
  // Whether a batch all of whose records were removed stays as an empty batch: the broker
  // keeps the last batch of every idempotent producer it still tracks, as Kafka does, so the
  // producer's sequence survives a restart that replays the log.
  std::function<bool(int64_t producer_id, Offset last_offset)> keep_empty_batch;
  // Input one clean_step reads at most (a batch larger than what is left is read whole).
  uint64_t step_bytes_max = 4ull << 20;
};

// What one clean_step did (summed over a pass in the broker's log line).
struct CleanStats {
  bool pass_done = false;  // the cleaner point moved (or there was nothing to clean)
  int32_t segments_in = 0;
  int32_t segments_out = 0;
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
  int64_t records_in = 0;
  int64_t records_removed = 0;
  int64_t tombstones_removed = 0;
  int64_t keys_mapped = 0;

  void add(const CleanStats& o) {
    segments_in += o.segments_in;
    segments_out += o.segments_out;
    bytes_in += o.bytes_in;
    bytes_out += o.bytes_out;
    records_in += o.records_in;
    records_removed += o.records_removed;
    tombstones_removed += o.tombstones_removed;
    keys_mapped += o.keys_mapped;
  }
};

// The key map of a pass: each key of the dirty section and the last offset it has there.
// Keys are kept exactly (no hash-only matching: a collision would drop a key's latest record)
// in one byte arena, indexed by an open-addressing table, so that a map of millions of keys
// costs a few large allocations, not one per key, and frees in constant time.
class KeyMap {
 public:
  // Records that `key` occurs at `offset`; the map keeps each key's largest offset.
  void put(ByteSpan key, int64_t offset);
  // The last offset recorded for `key`, -1 if none.
  int64_t last_offset(ByteSpan key) const;
  size_t size() const { return size_; }
  // Memory held: the arena plus the table.
  uint64_t bytes() const { return arena_.capacity() + slots_.capacity() * sizeof(Slot); }

 private:
  struct Slot {
    uint64_t hash = 0;
    uint64_t key_pos = 0;  // in arena_
    int64_t offset = -1;   // -1: empty slot
    uint32_t key_len = 0;
  };
  static uint64_t hash_of(ByteSpan key);
  // The slot holding `key`, or the empty slot where it would go.
  size_t find(ByteSpan key, uint64_t hash) const;
  void grow();

  std::vector<Slot> slots_;  // a power of two, at most half full
  std::vector<uint8_t> arena_;
  size_t size_ = 0;
};

// One pass over a partition, kept by the PartitionLog between clean_step calls.
struct CleanPass {
  Offset first_dirty;
  Offset end;
  uint64_t generation = 0;  // PartitionLog::layout_generation_ when the pass began
  // Phase 1: the key map of the dirty section [first_dirty, end), read from map_next on.
  Offset map_next;
  bool mapped = false;
  KeyMap keys;
  // Phase 2: the groups of segments to rewrite (bases, in order) and the group in hand: the
  // segment being copied (index in its group), the next offset of it to copy, and the
  // cleaned segment being written in the cleaning directory (log_format.h).
  std::vector<std::vector<Offset>> groups;
  size_t next_group = 0;
  size_t group_segment = 0;
  Offset copy_next;
  std::unique_ptr<Segment> out;
};

}  // namespace strata
