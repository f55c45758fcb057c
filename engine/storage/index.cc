#include "engine/storage/index.h"

#include <algorithm>
#include <string>

#include "engine/storage/log_format.h"

namespace strata {

namespace lf = log_format;

namespace {

// The whole file if it holds whole entries and at most `max_entries` of them.
Result<Bytes> read_index_file(File& file, size_t entry_size, size_t max_entries) {
  uint64_t size = file.size();
  if (size % entry_size != 0) {
    return Status::corruption("size " + std::to_string(size) + " is not a multiple of " +
                              std::to_string(entry_size));
  }
  if (size / entry_size > max_entries) {
    return Status::corruption("more entries than segment.index.bytes allows");
  }
  Bytes data(size);
  STRATA_ASSIGN_OR_RETURN(size_t n, file.read_at(0, data));
  if (n != size) return Status::corruption("short read");
  return data;
}

}  // namespace

OffsetIndex::OffsetIndex(std::unique_ptr<File> file, Offset base, size_t max_entries)
    : file_(std::move(file)), base_(base), max_entries_(max_entries) {
  STRATA_ASSERT(file_ != nullptr);
  STRATA_ASSERT(max_entries_ > 0);
}

Status OffsetIndex::load(uint64_t log_size) {
  entries_.clear();
  STRATA_ASSIGN_OR_RETURN(Bytes data, read_index_file(*file_, lf::kOffsetEntrySize, max_entries_));
  for (size_t at = 0; at < data.size(); at += lf::kOffsetEntrySize) {
    OffsetIndexEntry e{base_ + load_be32(&data[at]), load_be32(&data[at + 4])};
    if (e.position >= log_size) return Status::corruption("entry points past the log end");
    if (!entries_.empty() &&
        (e.offset <= entries_.back().offset || e.position <= entries_.back().position)) {
      return Status::corruption("entries not increasing at entry " +
                                std::to_string(entries_.size()));
    }
    entries_.push_back(e);
  }
  return ok_status();
}

Status OffsetIndex::append(Offset last_offset, uint32_t position) {
  STRATA_ASSERT(last_offset >= base_ && last_offset - base_ <= lf::kRelativeOffsetMax);
  STRATA_ASSERT(entries_.empty() ||
                (last_offset > entries_.back().offset && position > entries_.back().position));
  uint8_t buf[lf::kOffsetEntrySize];
  store_be32(buf, static_cast<uint32_t>(last_offset - base_));
  store_be32(buf + 4, position);
  STRATA_RETURN_IF_ERROR(file_->append(ByteSpan(buf, sizeof buf)));
  entries_.push_back({last_offset, position});
  return ok_status();
}

uint32_t OffsetIndex::lookup(Offset target) const {
  auto it = std::upper_bound(entries_.begin(), entries_.end(), target,
                             [](Offset t, const OffsetIndexEntry& e) { return t < e.offset; });
  if (it == entries_.begin()) return 0;
  return std::prev(it)->position;
}

Status OffsetIndex::truncate_to_position(uint64_t position) {
  size_t keep = 0;
  while (keep < entries_.size() && entries_[keep].position < position) ++keep;
  return truncate_entries(keep);
}

Status OffsetIndex::truncate_entries(size_t n) {
  STRATA_ASSERT(n <= entries_.size());
  STRATA_RETURN_IF_ERROR(file_->truncate(n * lf::kOffsetEntrySize));
  entries_.resize(n);
  return ok_status();
}

std::optional<OffsetIndexEntry> OffsetIndex::last() const {
  if (entries_.empty()) return std::nullopt;
  return entries_.back();
}

TimeIndex::TimeIndex(std::unique_ptr<File> file, Offset base, size_t max_entries)
    : file_(std::move(file)), base_(base), max_entries_(max_entries) {
  STRATA_ASSERT(file_ != nullptr);
  STRATA_ASSERT(max_entries_ > 0);
}

Status TimeIndex::load(Offset next_offset) {
  entries_.clear();
  STRATA_ASSIGN_OR_RETURN(Bytes data, read_index_file(*file_, lf::kTimeEntrySize,
                                                      // +1: the forced entry at roll
                                                      max_entries_ + 1));
  for (size_t at = 0; at < data.size(); at += lf::kTimeEntrySize) {
    TimeIndexEntry e{static_cast<int64_t>(load_be64(&data[at])), base_ + load_be32(&data[at + 8])};
    if (e.offset >= next_offset) return Status::corruption("entry points past the log end");
    if (!entries_.empty() &&
        (e.timestamp_ms <= entries_.back().timestamp_ms || e.offset < entries_.back().offset)) {
      return Status::corruption("entries not increasing at entry " +
                                std::to_string(entries_.size()));
    }
    entries_.push_back(e);
  }
  return ok_status();
}

Status TimeIndex::maybe_append(int64_t timestamp_ms, Offset offset, bool force) {
  STRATA_ASSERT(offset >= base_ && offset - base_ <= lf::kRelativeOffsetMax);
  if (!entries_.empty() && timestamp_ms <= entries_.back().timestamp_ms) return ok_status();
  if (full() && !force) return ok_status();
  STRATA_ASSERT(entries_.empty() || offset >= entries_.back().offset);
  uint8_t buf[lf::kTimeEntrySize];
  store_be64(buf, static_cast<uint64_t>(timestamp_ms));
  store_be32(buf + 8, static_cast<uint32_t>(offset - base_));
  STRATA_RETURN_IF_ERROR(file_->append(ByteSpan(buf, sizeof buf)));
  entries_.push_back({timestamp_ms, offset});
  return ok_status();
}

std::optional<Offset> TimeIndex::lookup(int64_t target_ms) const {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), target_ms,
                             [](const TimeIndexEntry& e, int64_t t) { return e.timestamp_ms < t; });
  if (it == entries_.begin()) return std::nullopt;
  return std::prev(it)->offset;
}

Status TimeIndex::truncate_to_offset(Offset next_offset) {
  size_t keep = 0;
  while (keep < entries_.size() && entries_[keep].offset < next_offset) ++keep;
  return truncate_entries(keep);
}

Status TimeIndex::truncate_entries(size_t n) {
  STRATA_ASSERT(n <= entries_.size());
  STRATA_RETURN_IF_ERROR(file_->truncate(n * lf::kTimeEntrySize));
  entries_.resize(n);
  return ok_status();
}

std::optional<TimeIndexEntry> TimeIndex::last() const {
  if (entries_.empty()) return std::nullopt;
  return entries_.back();
}

}  // namespace strata
