#include "engine/storage/log_config.h"

#include "engine/storage/log_format.h"

namespace strata {

Status LogConfig::validate() const {
  if (segment_bytes < 1) return Status::invalid_argument("segment.bytes must be positive");
  if (segment_ms < 1) return Status::invalid_argument("segment.ms must be positive");
  if (retention_ms < -1) return Status::invalid_argument("retention.ms must be >= -1");
  if (retention_bytes < -1) return Status::invalid_argument("retention.bytes must be >= -1");
  if (flush_interval_messages < 1) {
    return Status::invalid_argument("flush.messages must be positive");
  }
  if (flush_interval_ms < 0) return Status::invalid_argument("flush.ms must be >= 0");
  if (index_interval_bytes < 0) {
    return Status::invalid_argument("index.interval.bytes must be >= 0");
  }
  if (segment_index_bytes < static_cast<int32_t>(log_format::kTimeEntrySize)) {
    return Status::invalid_argument("segment.index.bytes must hold at least one entry");
  }
  if (file_delete_delay_ms < 0) {
    return Status::invalid_argument("file.delete.delay.ms must be >= 0");
  }
  if (!(min_cleanable_dirty_ratio >= 0.0 && min_cleanable_dirty_ratio <= 1.0)) {
    return Status::invalid_argument("min.cleanable.dirty.ratio must be in [0, 1]");
  }
  if (min_compaction_lag_ms < 0) {
    return Status::invalid_argument("min.compaction.lag.ms must be >= 0");
  }
  if (max_compaction_lag_ms < 1) {
    return Status::invalid_argument("max.compaction.lag.ms must be positive");
  }
  if (delete_retention_ms < 0) {
    return Status::invalid_argument("delete.retention.ms must be >= 0");
  }
  return ok_status();
}

}  // namespace strata
