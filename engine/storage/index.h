// The sparse offset index and time index of one segment (formats in log_format.h).
//
// Entries are kept in memory as well as in the file: lookups never touch the file system, and
// the file is append-only except when the log is truncated. Each index owns its open file;
// its Segment owns the index. Loading checks the file's structure and returns kCorruption on
// any doubt, and the caller then rebuilds the index from the log (recovery never trusts an
// index it cannot check).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "engine/base/ids.h"
#include "engine/base/status.h"
#include "engine/runtime/runtime.h"

namespace strata {

struct OffsetIndexEntry {
  Offset offset;  // last offset of the indexed batch
  uint32_t position = 0;
};

struct TimeIndexEntry {
  int64_t timestamp_ms = -1;
  Offset offset;  // last offset of the batch that carried timestamp_ms
};

class OffsetIndex {
 public:
  OffsetIndex(std::unique_ptr<File> file, Offset base, size_t max_entries);

  // Reads the file: whole entries, strictly increasing, positions below `log_size`.
  Status load(uint64_t log_size);
  Status append(Offset last_offset, uint32_t position);
  // Position from which to scan batch headers for `target`: the position of the last entry
  // whose offset is ≤ target, else 0.
  uint32_t lookup(Offset target) const;
  // Drops entries at or beyond `position` (the log is being cut there).
  Status truncate_to_position(uint64_t position);
  Status clear() { return truncate_entries(0); }
  Status sync() { return file_->sync(); }

  bool full() const { return entries_.size() >= max_entries_; }
  size_t entry_count() const { return entries_.size(); }
  std::optional<OffsetIndexEntry> last() const;
  const std::string& path() const { return file_->path(); }

 private:
  Status truncate_entries(size_t n);

  std::unique_ptr<File> file_;
  Offset base_;
  size_t max_entries_;
  std::vector<OffsetIndexEntry> entries_;
};

class TimeIndex {
 public:
  TimeIndex(std::unique_ptr<File> file, Offset base, size_t max_entries);

  // Reads the file: whole entries, timestamps strictly increasing, offsets not decreasing and
  // below `next_offset`.
  Status load(Offset next_offset);
  // Appends (timestamp, offset) if timestamp is larger than the last entry's. `force` ignores
  // the size limit (the final entry written when a segment is rolled, as Kafka does).
  Status maybe_append(int64_t timestamp_ms, Offset offset, bool force = false);
  // The offset of the last entry with timestamp < target: every batch up to it is older than
  // target, so a search can start there. nullopt: search from the segment start.
  std::optional<Offset> lookup(int64_t target_ms) const;
  // Drops entries whose offset is ≥ next_offset.
  Status truncate_to_offset(Offset next_offset);
  Status clear() { return truncate_entries(0); }
  Status sync() { return file_->sync(); }

  bool full() const { return entries_.size() >= max_entries_; }
  size_t entry_count() const { return entries_.size(); }
  std::optional<TimeIndexEntry> last() const;
  const std::string& path() const { return file_->path(); }

 private:
  Status truncate_entries(size_t n);

  std::unique_ptr<File> file_;
  Offset base_;
  size_t max_entries_;
  std::vector<TimeIndexEntry> entries_;
};

}  // namespace strata
