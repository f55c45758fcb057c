// PartitionLog: rolling, retention, log-start advancement, truncation and checkpoints.
#include <string>

#include "engine/storage/log_format.h"
#include "engine/storage/partition_log.h"

namespace strata {

namespace {
constexpr std::string_view kComponent = "storage";

std::string range(Offset from, Offset to) {
  return "[" + std::to_string(from.value()) + ", " + std::to_string(to.value()) + ")";
}
}  // namespace

Status PartitionLog::roll(int64_t now_ms) {
  STRATA_ASSERT(!active().empty(), "rolling an empty segment");
  Offset base = log_end_offset();
  STRATA_RETURN_IF_ERROR(fail(active().on_roll()));
  Result<std::unique_ptr<Segment>> seg =
      Segment::create(rt_.fs(), dir_, base, segment_options(), now_ms);
  if (!seg.is_ok()) return fail(seg.status());
  segments_[base] = std::move(seg).value();
  dir_dirty_ = true;
  rt_.debug(kComponent, "rolled " + dir_ + " to a new segment at " + std::to_string(base.value()));
  STRATA_ASSERT(active().base_offset() == base);
  if (roll_listener_) roll_listener_(base);
  return ok_status();
}

Status PartitionLog::write_checkpoint(bool clean) {
  LogCheckpoint cp{log_start_, recovery_point_, clean, cleaner_point_};
  STRATA_RETURN_IF_ERROR(fail(write_log_checkpoint(rt_.fs(), dir_, cp)));
  checkpointed_recovery_point_ = recovery_point_;
  dir_dirty_ = false;  // the checkpoint's sync_dir made every entry durable
  return ok_status();
}

Status PartitionLog::delete_oldest_segment(const std::string& reason) {
  STRATA_ASSERT(segments_.size() > 1, "never delete the active segment");
  auto it = segments_.begin();
  Segment& s = *it->second;
  Offset next_base = std::next(it)->first;
  rt_.info(kComponent, "deleting segment " + s.log_path() + " with offsets " +
                           range(s.base_offset(), s.next_offset()) + ": " + reason);
  STRATA_RETURN_IF_ERROR(fail(s.remove_files(rt_.fs())));
  segments_.erase(it);
  dir_dirty_ = true;
  ++layout_generation_;
  if (log_start_ < next_base) log_start_ = next_base;
  return ok_status();
}

Status PartitionLog::delete_segments_below_log_start(bool* deleted) {
  while (segments_.size() > 1 && std::next(segments_.begin())->first <= log_start_) {
    STRATA_RETURN_IF_ERROR(delete_oldest_segment("wholly below the log start offset " +
                                                 std::to_string(log_start_.value())));
    *deleted = true;
  }
  return ok_status();
}

// Kafka's three retention rules, oldest segment first, never the active segment. Time and
// size apply only with cleanup.policy "delete": a compact-only topic keeps every key's latest
// record however old (the log cleaner removes the rest).
Status PartitionLog::delete_retained_segments(int64_t now_ms) {
  bool deleted = false;
  STRATA_RETURN_IF_ERROR(delete_segments_below_log_start(&deleted));
  while (config_.cleanup_delete && config_.retention_ms >= 0 && segments_.size() > 1) {
    const Segment& s = *segments_.begin()->second;
    int64_t newest_ms = s.max_timestamp_ms() >= 0 ? s.max_timestamp_ms() : s.created_ms();
    if (now_ms - newest_ms <= config_.retention_ms) break;
    STRATA_RETURN_IF_ERROR(delete_oldest_segment(
        "retention.ms " + std::to_string(config_.retention_ms) + " exceeded (newest record at " +
        std::to_string(newest_ms) + ", now " + std::to_string(now_ms) + ")"));
    deleted = true;
  }
  if (config_.cleanup_delete && config_.retention_bytes >= 0) {
    uint64_t total = size_bytes();
    uint64_t limit = uint64_t(config_.retention_bytes);
    while (segments_.size() > 1 && total - segments_.begin()->second->size_bytes() >= limit) {
      uint64_t seg_bytes = segments_.begin()->second->size_bytes();
      STRATA_RETURN_IF_ERROR(delete_oldest_segment("retention.bytes " + std::to_string(limit) +
                                                   " exceeded (log is " + std::to_string(total) +
                                                   " bytes)"));
      total -= seg_bytes;
      deleted = true;
    }
  }
  if (deleted) STRATA_RETURN_IF_ERROR(write_checkpoint(false));
  return ok_status();
}

Status PartitionLog::maintain(int64_t now_ms) {
  STRATA_RETURN_IF_ERROR(roll_and_flush(now_ms));
  STRATA_RETURN_IF_ERROR(delete_retained_segments(now_ms));
  STRATA_ASSERT(log_start_ <= log_end_offset());
  return ok_status();
}

Status PartitionLog::roll_and_flush(int64_t now_ms) {
  STRATA_RETURN_IF_ERROR(usable());
  if (!active().empty() && now_ms - active().created_ms() >= config_.roll_ms()) {
    STRATA_RETURN_IF_ERROR(roll(now_ms));
  }
  if (now_ms - last_flush_ms_ >= config_.flush_interval_ms) {
    STRATA_RETURN_IF_ERROR(flush_at(now_ms));
  }
  // Like Kafka's recovery-point checkpoint thread: bounds how much the next open must scan.
  if (recovery_point_ > checkpointed_recovery_point_) {
    STRATA_RETURN_IF_ERROR(write_checkpoint(false));
  }
  STRATA_ASSERT(log_start_ <= log_end_offset());
  return ok_status();
}

Status PartitionLog::delete_records_before(Offset new_start) {
  STRATA_RETURN_IF_ERROR(usable());
  if (new_start > log_end_offset()) {
    return Status::out_of_range("delete records before " + std::to_string(new_start.value()) +
                                " beyond the log end offset of " + dir_);
  }
  if (new_start <= log_start_) return ok_status();
  rt_.info(kComponent, "log start offset of " + dir_ + " advances from " +
                           std::to_string(log_start_.value()) + " to " +
                           std::to_string(new_start.value()));
  log_start_ = new_start;
  bool deleted = false;
  STRATA_RETURN_IF_ERROR(delete_segments_below_log_start(&deleted));
  return write_checkpoint(false);
}

void PartitionLog::reconfigure(const LogConfig& config) {
  STRATA_ASSERT(config.validate().is_ok(), "reconfigure with an invalid config");
  config_ = config;
}

Status PartitionLog::drop_segments_after(Offset base, const std::string& why) {
  while (segments_.rbegin()->first > base) {
    auto last = std::prev(segments_.end());
    rt_.info(kComponent, "deleting segment " + last->second->log_path() + ": " + why);
    STRATA_RETURN_IF_ERROR(fail(last->second->remove_files(rt_.fs())));
    segments_.erase(last);
    dir_dirty_ = true;
    ++layout_generation_;
  }
  return ok_status();
}

Status PartitionLog::truncate_to(Offset end) {
  STRATA_RETURN_IF_ERROR(usable());
  if (end >= log_end_offset()) return ok_status();
  if (end < log_start_) return truncate_fully_and_start_at(end);
  rt_.info(kComponent, "truncating " + dir_ + " to offset " + std::to_string(end.value()) +
                           " (log end was " + std::to_string(log_end_offset().value()) + ")");
  // The first segment is kept even if it starts at `end`: it becomes empty.
  auto keep = std::prev(segments_.upper_bound(std::max(end - 1, segments_.begin()->first)));
  STRATA_RETURN_IF_ERROR(drop_segments_after(keep->first, "truncation"));
  STRATA_RETURN_IF_ERROR(fail(active().truncate_to(end)));
  ++layout_generation_;
  if (log_start_ > log_end_offset()) log_start_ = log_end_offset();  // a batch straddled it
  if (cleaner_point_ > log_end_offset()) cleaner_point_ = log_end_offset();
  if (recovery_point_ > log_end_offset()) recovery_point_ = log_end_offset();
  STRATA_RETURN_IF_ERROR(flush());
  STRATA_RETURN_IF_ERROR(write_checkpoint(false));
  STRATA_ASSERT(log_end_offset() <= end);
  return ok_status();
}

Status PartitionLog::truncate_fully_and_start_at(Offset start) {
  STRATA_ASSERT(start.value() >= 0);
  STRATA_RETURN_IF_ERROR(usable());
  rt_.info(kComponent,
           "emptying " + dir_ + " to restart at offset " + std::to_string(start.value()));
  while (!segments_.empty()) {
    STRATA_RETURN_IF_ERROR(fail(segments_.begin()->second->remove_files(rt_.fs())));
    segments_.erase(segments_.begin());
  }
  dir_dirty_ = true;
  int64_t now_ms = rt_.wall_clock_ms();
  Result<std::unique_ptr<Segment>> seg =
      Segment::create(rt_.fs(), dir_, start, segment_options(), now_ms);
  if (!seg.is_ok()) return fail(seg.status());
  segments_[start] = std::move(seg).value();
  ++layout_generation_;
  log_start_ = start;
  recovery_point_ = start;
  cleaner_point_ = start;
  STRATA_RETURN_IF_ERROR(flush());
  return write_checkpoint(false);
}

}  // namespace strata
