#include "engine/storage/segment.h"

#include <algorithm>

#include "engine/storage/log_format.h"

namespace strata {

namespace lf = log_format;

namespace {
std::string join(const std::string& dir, const std::string& name) {
  return dir + "/" + name;
}
}  // namespace

Result<std::unique_ptr<Segment>> Segment::open_files(FileSystem& fs, const std::string& dir,
                                                     Offset base, const Options& options,
                                                     int64_t now_ms, OpenMode log_mode) {
  STRATA_ASSERT(base.value() >= 0);
  STRATA_ASSERT(options.offset_index_entries_max > 0 && options.time_index_entries_max > 0);
  // An index is always rebuildable from its log, so creating one that is missing is safe.
  OpenMode index_mode =
      log_mode == OpenMode::kCreateTruncate ? OpenMode::kCreateTruncate : OpenMode::kCreate;
  std::unique_ptr<Segment> s(new Segment(base, options, now_ms));
  std::string index_path = join(dir, lf::segment_file_name(base, lf::FileKind::kIndex));
  std::string time_index_path = join(dir, lf::segment_file_name(base, lf::FileKind::kTimeIndex));
  s->index_files_missing_ = !fs.exists(index_path) || !fs.exists(time_index_path);
  STRATA_ASSIGN_OR_RETURN(
      s->log_, fs.open(join(dir, lf::segment_file_name(base, lf::FileKind::kLog)), log_mode));
  STRATA_ASSIGN_OR_RETURN(std::unique_ptr<File> index, fs.open(index_path, index_mode));
  STRATA_ASSIGN_OR_RETURN(std::unique_ptr<File> time_index, fs.open(time_index_path, index_mode));
  s->offset_index_ =
      std::make_unique<OffsetIndex>(std::move(index), base, options.offset_index_entries_max);
  s->time_index_ =
      std::make_unique<TimeIndex>(std::move(time_index), base, options.time_index_entries_max);
  return s;
}

Result<std::unique_ptr<Segment>> Segment::create(FileSystem& fs, const std::string& dir,
                                                 Offset base, const Options& options,
                                                 int64_t now_ms) {
  STRATA_ASSIGN_OR_RETURN(auto s,
                          open_files(fs, dir, base, options, now_ms, OpenMode::kCreateTruncate));
  s->dirty_ = true;  // new files: their (empty) content and entries need a sync
  return s;
}

Result<std::unique_ptr<Segment>> Segment::open(FileSystem& fs, const std::string& dir, Offset base,
                                               const Options& options, int64_t now_ms) {
  return open_files(fs, dir, base, options, now_ms, OpenMode::kReadWrite);
}

Result<StoredBatchHeader> Segment::read_header(uint64_t pos, uint64_t file_size) {
  STRATA_ASSERT(pos <= file_size);
  if (file_size - pos < batch_format::kHeaderSize) {
    return Status::corruption("partial batch header (" + std::to_string(file_size - pos) +
                              " bytes)");
  }
  uint8_t buf[batch_format::kHeaderSize];
  STRATA_ASSIGN_OR_RETURN(size_t n, log_->read_at(pos, std::span<uint8_t>(buf, sizeof buf)));
  if (n != sizeof buf) return Status::corruption("short read of a batch header");
  STRATA_ASSIGN_OR_RETURN(StoredBatchHeader h,
                          parse_stored_batch_header(ByteSpan(buf, sizeof buf)));
  if (h.size_bytes() > file_size - pos) {
    return Status::corruption("batch of " + std::to_string(h.size_bytes()) +
                              " bytes runs past the end of the file");
  }
  return h;
}

Result<uint64_t> Segment::position_of(Offset target) {
  if (target == read_hint_.next && read_hint_.pos <= size_) return read_hint_.pos;
  uint64_t pos = offset_index_->lookup(target);
  while (pos < size_) {
    STRATA_ASSIGN_OR_RETURN(StoredBatchHeader h, read_header(pos, size_));
    if (h.last() >= target) return pos;
    pos += h.size_bytes();
  }
  return size_;
}

Status Segment::index_batch(const StoredBatchHeader& h, uint64_t pos) {
  STRATA_ASSERT(h.base() >= next_offset_ && h.last() - base_ <= lf::kRelativeOffsetMax);
  STRATA_ASSERT(pos <= lf::kSegmentPositionMax);
  if (pos == 0) first_batch_timestamp_ms_ = h.max_timestamp;
  if (h.max_timestamp > max_timestamp_ms_) {
    max_timestamp_ms_ = h.max_timestamp;
    offset_of_max_timestamp_ = h.last();
  }
  if (bytes_since_index_entry_ > uint64_t(options_.index_interval_bytes)) {
    if (!offset_index_->full()) {
      STRATA_RETURN_IF_ERROR(offset_index_->append(h.last(), static_cast<uint32_t>(pos)));
    }
    if (max_timestamp_ms_ >= 0) {
      STRATA_RETURN_IF_ERROR(
          time_index_->maybe_append(max_timestamp_ms_, offset_of_max_timestamp_));
    }
    bytes_since_index_entry_ = 0;
  }
  bytes_since_index_entry_ += h.size_bytes();
  next_offset_ = h.last() + 1;
  return ok_status();
}

Status Segment::append(ByteSpan batches) {
  STRATA_ASSERT(!batches.empty());
  STRATA_ASSERT(size_ + batches.size() <= lf::kSegmentPositionMax);
  STRATA_RETURN_IF_ERROR(log_->append(batches));
  dirty_ = true;
  uint64_t at = 0;
  while (at < batches.size()) {
    // The caller validated these bytes, so a decode failure is a programmer error.
    Result<StoredBatchHeader> h = parse_stored_batch_header(batches.subspan(at));
    STRATA_ASSERT(h.is_ok() && h->size_bytes() <= batches.size() - at);
    STRATA_RETURN_IF_ERROR(index_batch(*h, size_ + at));
    at += h->size_bytes();
  }
  size_ += batches.size();
  return ok_status();
}

Result<SegmentRead> Segment::read(Offset from, int32_t max_bytes, Offset bound) {
  STRATA_ASSERT(max_bytes >= 0);
  STRATA_ASSIGN_OR_RETURN(uint64_t start, position_of(from));
  SegmentRead r;
  uint64_t end = start;
  while (end < size_) {
    STRATA_ASSIGN_OR_RETURN(StoredBatchHeader h, read_header(end, size_));
    if (h.last() >= bound) break;
    bool first = r.batch_count == 0;
    if (!first && end + h.size_bytes() - start > uint64_t(max_bytes)) break;
    if (first) r.first_offset = h.base();
    r.next_offset = h.last() + 1;
    ++r.batch_count;
    end += h.size_bytes();
  }
  r.bytes.resize(end - start);
  if (!r.bytes.empty()) {
    STRATA_ASSIGN_OR_RETURN(size_t n, log_->read_at(start, r.bytes));
    if (n != r.bytes.size()) return Status::corruption("short read in " + log_path());
    read_hint_ = ReadHint{r.next_offset, end};
  }
  return r;
}

Status Segment::truncate_to(Offset end) {
  STRATA_ASSERT(end >= base_);
  STRATA_ASSIGN_OR_RETURN(uint64_t pos, position_of(end));
  if (pos == size_) return ok_status();
  STRATA_RETURN_IF_ERROR(log_->truncate(pos));
  size_ = pos;
  read_hint_ = {};
  dirty_ = true;
  STRATA_RETURN_IF_ERROR(offset_index_->truncate_to_position(pos));
  STRATA_RETURN_IF_ERROR(derive_tail_state());
  STRATA_RETURN_IF_ERROR(time_index_->truncate_to_offset(next_offset_));
  STRATA_RETURN_IF_ERROR(fold_time_index());
  STRATA_ASSERT(next_offset_ <= end);
  return ok_status();
}

Status Segment::on_roll() {
  if (max_timestamp_ms_ < 0) return ok_status();
  dirty_ = true;
  return time_index_->maybe_append(max_timestamp_ms_, offset_of_max_timestamp_, true);
}

Status Segment::sync() {
  if (!dirty_) return ok_status();
  STRATA_RETURN_IF_ERROR(log_->sync());
  STRATA_RETURN_IF_ERROR(offset_index_->sync());
  STRATA_RETURN_IF_ERROR(time_index_->sync());
  dirty_ = false;
  return ok_status();
}

Status Segment::remove_files(FileSystem& fs) {
  STRATA_RETURN_IF_ERROR(fs.remove(log_->path()));
  STRATA_RETURN_IF_ERROR(fs.remove(offset_index_->path()));
  return fs.remove(time_index_->path());
}

}  // namespace strata
