// Per-partition log settings, with Kafka's names (broker key / topic key) and defaults.
#pragma once

#include <algorithm>
#include <cstdint>

#include "engine/base/status.h"

namespace strata {

struct LogConfig {
  // log.segment.bytes / segment.bytes: roll when the active segment would exceed this.
  int32_t segment_bytes = 1073741824;
  // log.roll.ms / segment.ms: roll when the active segment is older than this.
  int64_t segment_ms = 604800000;
  // log.retention.ms / retention.ms: delete segments whose newest record is older; -1 = never.
  int64_t retention_ms = 604800000;
  // log.retention.bytes / retention.bytes: keep the log below this size; -1 = unlimited.
  int64_t retention_bytes = -1;
  // log.flush.interval.messages / flush.messages: sync after this many appended offsets.
  int64_t flush_interval_messages = INT64_MAX;
  // log.flush.interval.ms / flush.ms: sync when this long since the last sync (INT64_MAX: never).
  int64_t flush_interval_ms = INT64_MAX;
  // log.index.interval.bytes / index.interval.bytes: log bytes between offset index entries.
  int32_t index_interval_bytes = 4096;
  // log.index.size.max.bytes / segment.index.bytes: roll when an index would exceed this.
  int32_t segment_index_bytes = 10485760;
  // log.segment.delete.delay.ms / file.delete.delay.ms. Simplified: strata deletes segment
  // files at once (reads copy bytes out, so no reader can still hold a deleted segment).
  int64_t file_delete_delay_ms = 60000;

  // log.cleanup.policy / cleanup.policy: "delete" runs the two retention rules above,
  // "compact" runs the log cleaner (log_cleaner.h); both may be on.
  bool cleanup_delete = true;
  bool cleanup_compact = false;
  // log.cleaner.min.cleanable.ratio / min.cleanable.dirty.ratio: clean once this share of the
  // cleanable bytes has not been cleaned yet.
  double min_cleanable_dirty_ratio = 0.5;
  // log.cleaner.min.compaction.lag.ms / min.compaction.lag.ms: a record stays uncompacted at
  // least this long (by its batch's max timestamp).
  int64_t min_compaction_lag_ms = 0;
  // log.cleaner.max.compaction.lag.ms / max.compaction.lag.ms: a log whose oldest dirty
  // segment's first batch is this old is cleaned whatever the dirty ratio; the active segment
  // of a compacted log rolls at this age too (KIP-354), so that it becomes cleanable.
  int64_t max_compaction_lag_ms = INT64_MAX;
  // log.cleaner.delete.retention.ms / delete.retention.ms: how long a tombstone outlives the
  // clean that first saw it (so that consumers reading from the start see the delete).
  int64_t delete_retention_ms = 86400000;

  // The age at which the active segment rolls: segment.ms, or less on a compacted log.
  int64_t roll_ms() const {
    return cleanup_compact ? std::min(segment_ms, max_compaction_lag_ms) : segment_ms;
  }

  // kInvalidArgument naming the first bad field.
  Status validate() const;
};

}  // namespace strata
