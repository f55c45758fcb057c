// PartitionLog: open, append, read, timestamp lookup, flush, close. Recovery is in
// recovery.cc; roll, retention, truncation and checkpoints in retention.cc.
#include "engine/storage/partition_log.h"

#include <algorithm>
#include <string>

#include "engine/storage/log_format.h"

namespace strata {

namespace lf = log_format;

namespace {
constexpr std::string_view kComponent = "storage";
}

PartitionLog::PartitionLog(Runtime& runtime, std::string dir, LogConfig config)
    : rt_(runtime), dir_(std::move(dir)), config_(config) {}

PartitionLog::~PartitionLog() = default;

Result<std::unique_ptr<PartitionLog>> PartitionLog::open(Runtime& runtime, std::string dir,
                                                         LogConfig config) {
  STRATA_ASSERT(!dir.empty());
  STRATA_RETURN_IF_ERROR(config.validate());
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  std::unique_ptr<PartitionLog> log(new PartitionLog(runtime, std::move(dir), config));
  STRATA_RETURN_IF_ERROR(log->recover(runtime.wall_clock_ms()));
  STRATA_ASSERT(!log->segments_.empty());
  return log;
}

Status PartitionLog::usable() const {
  if (closed_) return Status::closed("partition log is closed: " + dir_);
  return failed_;
}

Status PartitionLog::fail(Status s) {
  if (!s.is_ok() && failed_.is_ok()) {
    failed_ = s;
    rt_.error(kComponent,
              "partition log " + dir_ + " stops after a failed write: " + s.to_string());
  }
  return s;
}

Segment::Options PartitionLog::segment_options() const {
  Segment::Options o;
  o.offset_index_entries_max = size_t(config_.segment_index_bytes) / lf::kOffsetEntrySize;
  o.time_index_entries_max = size_t(config_.segment_index_bytes) / lf::kTimeEntrySize;
  o.index_interval_bytes = config_.index_interval_bytes;
  return o;
}

Offset PartitionLog::log_end_offset() const {
  // Empty only after destroy() or a failed truncate_fully_and_start_at().
  if (segments_.empty()) return log_start_;
  return segments_.rbegin()->second->next_offset();
}

uint64_t PartitionLog::size_bytes() const {
  uint64_t total = 0;
  for (const auto& [base, seg] : segments_) total += seg->size_bytes();
  return total;
}

std::vector<SegmentInfo> PartitionLog::segments() const {
  std::vector<SegmentInfo> out;
  out.reserve(segments_.size());
  for (const auto& [base, seg] : segments_) {
    out.push_back({base, seg->next_offset(), seg->size_bytes(), seg->max_timestamp_ms()});
  }
  return out;
}

bool PartitionLog::should_roll(uint64_t append_bytes, Offset last_offset, int64_t now_ms) {
  Segment& a = active();
  if (a.empty()) return false;
  return a.size_bytes() + append_bytes > uint64_t(config_.segment_bytes) ||
         now_ms - a.created_ms() >= config_.roll_ms() || a.indexes_full() ||
         last_offset - a.base_offset() > lf::kRelativeOffsetMax;
}

Result<AppendResult> PartitionLog::append(std::span<uint8_t> batches, LeaderEpoch epoch,
                                          int64_t now_ms) {
  STRATA_ASSERT(!batches.empty(), "append of nothing");
  STRATA_ASSERT(epoch.value() >= 0 || epoch == kNoLeaderEpoch);
  STRATA_RETURN_IF_ERROR(usable());
  AppendResult r;
  r.first_offset = log_end_offset();
  Offset next = r.first_offset;
  bool log_append_time = false;
  for (size_t at = 0; at < batches.size();) {
    Result<StoredBatchHeader> h = parse_stored_batch_header(ByteSpan(batches).subspan(at));
    if (!h.is_ok() || h->size_bytes() > batches.size() - at) {
      return Status::invalid_argument("append: malformed batch at byte " + std::to_string(at));
    }
    // Offsets and epoch are outside the CRC, so stamping them keeps the batch valid.
    store_be64(&batches[at + batch_format::kBaseOffsetAt], uint64_t(next.value()));
    store_be32(&batches[at + batch_format::kLeaderEpochAt], uint32_t(epoch.value()));
    log_append_time = log_append_time || h->log_append_time();
    next = next + h->last_offset_delta + 1;
    at += h->size_bytes();
  }
  r.last_offset = next - 1;
  if (should_roll(batches.size(), r.last_offset, now_ms)) STRATA_RETURN_IF_ERROR(roll(now_ms));
  if (r.last_offset - active().base_offset() > lf::kRelativeOffsetMax ||
      batches.size() > uint64_t(INT32_MAX)) {
    return Status::invalid_argument("append: too many offsets or bytes in one append");
  }
  STRATA_RETURN_IF_ERROR(fail(active().append(batches)));
  STRATA_ASSERT(log_end_offset() == r.last_offset + 1);
  if (log_end_offset() - recovery_point_ >= config_.flush_interval_messages) {
    STRATA_RETURN_IF_ERROR(flush_at(now_ms));
  }
  r.log_append_time_ms = log_append_time ? now_ms : -1;
  r.log_start_offset = log_start_;
  return r;
}

Result<ReadResult> PartitionLog::read(Offset from, int32_t max_bytes, Offset max_offset_exclusive) {
  STRATA_ASSERT(max_bytes >= 0);
  STRATA_RETURN_IF_ERROR(usable());
  ReadResult r;
  r.log_start_offset = log_start_;
  r.log_end_offset = log_end_offset();
  r.first_offset = from;
  r.next_offset = from;
  if (from < log_start_ || from > r.log_end_offset) {
    return Status::out_of_range("offset " + std::to_string(from.value()) + " is outside [" +
                                std::to_string(log_start_.value()) + ", " +
                                std::to_string(r.log_end_offset.value()) + "] of " + dir_);
  }
  if (from == r.log_end_offset || from >= max_offset_exclusive) return r;
  auto it = segments_.upper_bound(from);
  STRATA_ASSERT(it != segments_.begin(), "log start below the first segment");
  for (--it; it != segments_.end(); ++it) {
    Segment& s = *it->second;
    // `from` is in a gap, or the segment was emptied by the cleaner: a later segment has it.
    if (s.next_offset() <= from || s.empty()) continue;
    // Past a gap (compaction), the next segment is read from its start.
    Offset at = std::max(from, s.base_offset());
    STRATA_ASSIGN_OR_RETURN(SegmentRead sr, s.read(at, max_bytes, max_offset_exclusive));
    if (sr.batch_count > 0) {
      r.records = std::move(sr.bytes);
      r.first_offset = sr.first_offset;
      r.next_offset = sr.next_offset;
      r.batch_count = sr.batch_count;
    }
    break;
  }
  return r;
}

Result<std::optional<TimestampOffset>> PartitionLog::offset_for_timestamp(int64_t timestamp_ms) {
  STRATA_RETURN_IF_ERROR(usable());
  for (auto& [base, seg] : segments_) {
    if (seg->max_timestamp_ms() < timestamp_ms || seg->next_offset() <= log_start_) continue;
    STRATA_ASSIGN_OR_RETURN(std::optional<TimestampOffset> found,
                            seg->find_timestamp(timestamp_ms, log_start_));
    if (found) return found;
  }
  return std::optional<TimestampOffset>();
}

Status PartitionLog::for_each_batch_header(
    Offset from, const std::function<Status(const StoredBatchHeader&)>& fn) {
  STRATA_RETURN_IF_ERROR(usable());
  auto it = segments_.upper_bound(from);  // the first segment based above `from`
  if (it != segments_.begin()) --it;
  for (; it != segments_.end(); ++it) {
    STRATA_RETURN_IF_ERROR(it->second->for_each_header([&](const StoredBatchHeader& h) {
      return h.last() >= from ? fn(h) : ok_status();
    }));
  }
  return ok_status();
}

Status PartitionLog::flush() {
  return flush_at(rt_.wall_clock_ms());
}

Status PartitionLog::flush_at(int64_t now_ms) {
  STRATA_RETURN_IF_ERROR(usable());
  for (auto& [base, seg] : segments_) STRATA_RETURN_IF_ERROR(fail(seg->sync()));
  if (dir_dirty_) {
    STRATA_RETURN_IF_ERROR(fail(rt_.fs().sync_dir(dir_)));
    dir_dirty_ = false;
  }
  recovery_point_ = log_end_offset();
  last_flush_ms_ = now_ms;
  return ok_status();
}

Status PartitionLog::close() {
  STRATA_RETURN_IF_ERROR(usable());
  abandon_clean_pass();  // a pass in progress starts over at the next open
  STRATA_RETURN_IF_ERROR(fail(active().on_roll()));
  STRATA_RETURN_IF_ERROR(flush());
  STRATA_RETURN_IF_ERROR(write_checkpoint(true));
  closed_ = true;
  rt_.info(kComponent,
           "closed " + dir_ + " at log end offset " + std::to_string(log_end_offset().value()));
  return ok_status();
}

Status PartitionLog::destroy(std::string_view last) {
  closed_ = true;
  segments_.clear();  // closes the files before their directory goes
  if (!last.empty()) {
    STRATA_ASSIGN_OR_RETURN(std::vector<std::string> names, rt_.fs().list_dir(dir_));
    for (const std::string& name : names) {
      if (name != last) STRATA_RETURN_IF_ERROR(rt_.fs().remove_all(dir_ + "/" + name));
    }
    STRATA_RETURN_IF_ERROR(rt_.fs().sync_dir(dir_));
  }
  STRATA_RETURN_IF_ERROR(rt_.fs().remove_all(dir_));
  rt_.info(kComponent, "deleted partition directory " + dir_);
  size_t slash = dir_.rfind('/');
  if (slash == std::string::npos || slash == 0) return ok_status();
  return rt_.fs().sync_dir(dir_.substr(0, slash));
}

}  // namespace strata
