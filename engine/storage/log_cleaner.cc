// PartitionLog's compaction: the cleanable range, the key map and the rewriting of segment
// groups. What a pass does and why is in log_cleaner.h; the file names in log_format.h.
#include <algorithm>
#include <string>
#include <vector>

#include "engine/protocol/record_batch.h"
#include "engine/storage/log_format.h"
#include "engine/storage/partition_log.h"

namespace strata {

namespace lf = log_format;

namespace {
constexpr std::string_view kComponent = "cleaner";
// Bytes a key costs in the map besides its own: node, hash slot, string header, offset.
constexpr uint64_t kKeyEntryOverheadBytes = 48;
// One read of a segment while cleaning (whole batches; a larger batch is read alone).
constexpr int32_t kCleanReadBytes = 1 << 20;
}  // namespace

std::optional<CleanableRange> PartitionLog::cleanable_range(int64_t now_ms) const {
  if (!config_.cleanup_compact || !usable().is_ok() || segments_.size() < 2) return std::nullopt;
  CleanableRange r;
  r.first_dirty = std::max(cleaner_point_, log_start_);
  r.end = segments_.rbegin()->first;  // the active segment
  for (const auto& [base, seg] : segments_) {
    if (base >= r.end) break;
    bool dirty = seg->next_offset() > r.first_dirty;
    if (dirty && seg->max_timestamp_ms() > now_ms - config_.min_compaction_lag_ms) {
      r.end = base;  // holds a record too young to compact, and so does what follows
      break;
    }
    if (dirty && seg->max_timestamp_ms() >= 0 &&
        now_ms - seg->max_timestamp_ms() > config_.max_compaction_lag_ms) {
      r.overdue = true;
    }
    (dirty ? r.dirty_bytes : r.clean_bytes) += seg->size_bytes();
  }
  if (r.first_dirty >= r.end || r.dirty_bytes == 0) return std::nullopt;
  return r;
}

Result<CleanStats> PartitionLog::clean_step(int64_t now_ms, const CleanOptions& options) {
  STRATA_RETURN_IF_ERROR(usable());
  CleanStats stats;
  if (pass_ && (pass_->generation != layout_generation_ || !config_.cleanup_compact)) {
    rt_.info(kComponent, dir_ + ": the log changed under a clean pass; starting over");
    pass_.reset();
  }
  if (!pass_) {
    STRATA_RETURN_IF_ERROR(start_clean_pass(now_ms, options, stats));
    stats.pass_done = pass_ == nullptr;
    return stats;
  }
  std::vector<Offset> group = pass_->groups[pass_->next_group++];
  STRATA_RETURN_IF_ERROR(clean_group(group, now_ms, options, stats));
  if (pass_->next_group == pass_->groups.size()) {
    cleaner_point_ = std::max(cleaner_point_, pass_->end);
    pass_.reset();
    STRATA_RETURN_IF_ERROR(write_checkpoint(false));
    stats.pass_done = true;
  }
  return stats;
}

// Step 1 and 2 of a pass: the key map of the dirty section, a flush and a checkpoint, and the
// groups of segments to rewrite. Leaves pass_ empty if there is nothing to clean.
Status PartitionLog::start_clean_pass(int64_t now_ms, const CleanOptions& options,
                                      CleanStats& stats) {
  std::optional<CleanableRange> range = cleanable_range(now_ms);
  if (!range) return ok_status();
  auto pass = std::make_unique<CleanPass>();
  pass->end = range->end;
  uint64_t map_bytes = 0;
  std::vector<RecordView> views;
  Bytes decompressed;
  for (auto& [base, seg] : segments_) {
    if (base >= pass->end) break;
    if (seg->next_offset() <= range->first_dirty) continue;
    for (Offset from = base; from < seg->next_offset();) {
      STRATA_ASSIGN_OR_RETURN(SegmentRead read, seg->read(from, kCleanReadBytes, pass->end));
      if (read.batch_count == 0) break;
      BatchSplitter batches(read.bytes);
      while (std::optional<ByteSpan> batch = batches.next()) {
        STRATA_ASSIGN_OR_RETURN(BatchHeader h, parse_batch_header(*batch));
        if (h.control()) continue;
        STRATA_RETURN_IF_ERROR(decode_record_views(*batch, views, decompressed));
        for (const RecordView& v : views) {
          int64_t offset = h.base_offset + v.offset_delta;
          if (!v.key || offset < range->first_dirty.value()) continue;
          auto [it, added] = pass->last_offset_of_key.try_emplace(
              std::string(reinterpret_cast<const char*>(v.key->data()), v.key->size()), offset);
          if (added) map_bytes += v.key->size() + kKeyEntryOverheadBytes;
          it->second = std::max(it->second, offset);
        }
      }
      from = read.next_offset;
    }
    if (map_bytes > options.key_map_bytes_max) {
      // The budget is soft by one segment: end the dirty section after this one.
      auto next = segments_.upper_bound(base);
      pass->end = next == segments_.end() ? pass->end : std::min(pass->end, next->first);
      break;
    }
  }
  stats.keys_mapped = int64_t(pass->last_offset_of_key.size());
  // Everything about to be replaced is synced and the recovery point is checkpointed above
  // it, so that recovery treats the holes a clean leaves between segments as legitimate.
  STRATA_RETURN_IF_ERROR(flush_at(now_ms));
  STRATA_RETURN_IF_ERROR(write_checkpoint(false));
  uint64_t group_bytes = 0;
  for (auto& [base, seg] : segments_) {
    if (base >= pass->end) break;
    bool fits = !pass->groups.empty() &&
                group_bytes + seg->size_bytes() <= uint64_t(config_.segment_bytes) &&
                seg->next_offset() - pass->groups.back().front() <= lf::kRelativeOffsetMax;
    if (!fits) {
      pass->groups.emplace_back();
      group_bytes = 0;
    }
    pass->groups.back().push_back(base);
    group_bytes += seg->size_bytes();
  }
  STRATA_ASSERT(!pass->groups.empty());
  pass->generation = layout_generation_;
  pass_ = std::move(pass);
  return ok_status();
}

// Copies the records of `seg` that the pass keeps into `out`, batch by batch: a batch that
// keeps everything (and needs no delete horizon) byte for byte, any other rebuilt.
Status PartitionLog::write_cleaned(Segment& seg, File& out, int64_t now_ms,
                                   const CleanOptions& options, CleanStats& stats) {
  const CleanPass& pass = *pass_;
  std::vector<RecordView> views;
  std::vector<const RecordView*> kept;
  Bytes decompressed;
  for (Offset from = seg.base_offset(); from < seg.next_offset();) {
    STRATA_ASSIGN_OR_RETURN(SegmentRead read,
                            seg.read(from, kCleanReadBytes, Offset{INT64_MAX}));
    if (read.batch_count == 0) break;
    BatchSplitter batches(read.bytes);
    while (std::optional<ByteSpan> batch = batches.next()) {
      STRATA_ASSIGN_OR_RETURN(BatchHeader h, parse_batch_header(*batch));
      if (h.control()) {  // transaction markers: strata has no transactions to resolve them
        STRATA_RETURN_IF_ERROR(out.append(*batch));
        continue;
      }
      STRATA_RETURN_IF_ERROR(decode_record_views(*batch, views, decompressed));
      bool horizon_passed = h.has_delete_horizon() && now_ms >= h.base_timestamp;
      bool tombstone_kept = false;
      kept.clear();
      for (const RecordView& v : views) {
        int64_t offset = h.base_offset + v.offset_delta;
        bool superseded = false;
        if (v.key) {
          auto it = pass.last_offset_of_key.find(
              std::string(reinterpret_cast<const char*>(v.key->data()), v.key->size()));
          superseded = it != pass.last_offset_of_key.end() && it->second > offset;
        }
        bool tombstone = !v.value;
        if (superseded || (tombstone && horizon_passed)) {
          ++stats.records_removed;
          if (tombstone && !superseded) ++stats.tombstones_removed;
          continue;
        }
        tombstone_kept = tombstone_kept || tombstone;
        kept.push_back(&v);
      }
      stats.records_in += int64_t(views.size());
      bool stamp_horizon = tombstone_kept && !h.has_delete_horizon();
      if (kept.size() == views.size() && !stamp_horizon) {
        STRATA_RETURN_IF_ERROR(out.append(*batch));
        continue;
      }
      if (kept.empty() && !(h.producer_id >= 0 && options.keep_empty_batch &&
                            options.keep_empty_batch(h.producer_id, h.last()))) {
        continue;
      }
      BatchBuilderOptions o;
      o.codec = kept.empty() ? Codec::kNone : h.codec().value_or(Codec::kNone);
      o.producer_id = h.producer_id;
      o.producer_epoch = h.producer_epoch;
      o.base_sequence = h.base_sequence;
      o.transactional = h.transactional();
      o.partition_leader_epoch = h.leader_epoch;
      o.log_append_time = h.log_append_time();
      if (h.has_delete_horizon()) {
        o.delete_horizon_ms = h.base_timestamp;
      } else if (stamp_horizon) {
        o.delete_horizon_ms = now_ms + std::min(config_.delete_retention_ms,
                                                INT64_MAX - std::max<int64_t>(now_ms, 0));
      }
      o.last_offset_delta = h.last_offset_delta;
      o.max_timestamp_ms = h.max_timestamp;
      o.allow_empty = true;
      RecordBatchBuilder builder(o);
      for (const RecordView* v : kept) {
        int64_t timestamp = int64_t(uint64_t(h.base_timestamp) + uint64_t(v->timestamp_delta));
        builder.add_at(v->offset_delta, timestamp, v->key, v->value, v->headers);
      }
      STRATA_ASSIGN_OR_RETURN(Bytes rebuilt, builder.build());
      set_base_offset(rebuilt, h.base());
      STRATA_RETURN_IF_ERROR(out.append(rebuilt));
    }
    from = read.next_offset;
  }
  return ok_status();
}

// Step 3 for one group: write <base>.log.cleaned, sync it, rename it to .swap, remove the old
// segments, rename the swap to <base>.log and load it. A crash anywhere in between is
// finished or undone by recovery (finish_interrupted_cleans).
Status PartitionLog::clean_group(const std::vector<Offset>& bases, int64_t now_ms,
                                 const CleanOptions& options, CleanStats& stats) {
  STRATA_ASSERT(!bases.empty() && pass_ != nullptr);
  for (Offset base : bases) STRATA_ASSERT(segments_.count(base) == 1, "group segment missing");
  std::string log_name = lf::segment_file_name(bases.front(), lf::FileKind::kLog);
  std::string cleaned_path = dir_ + "/" + log_name + std::string(lf::kCleanedSuffix);
  STRATA_ASSIGN_OR_RETURN(std::unique_ptr<File> out,
                          rt_.fs().open(cleaned_path, OpenMode::kCreateTruncate));
  for (Offset base : bases) {
    Segment& seg = *segments_.at(base);
    stats.bytes_in += seg.size_bytes();
    ++stats.segments_in;
    if (Status s = write_cleaned(seg, *out, now_ms, options, stats); !s.is_ok()) {
      out.reset();
      (void)rt_.fs().remove(cleaned_path);
      return Status::corruption(dir_ + ": cleaning " + seg.log_path() + ": " + s.message());
    }
  }
  stats.bytes_out += out->size();
  ++stats.segments_out;
  STRATA_RETURN_IF_ERROR(fail(out->sync()));
  out.reset();
  STRATA_RETURN_IF_ERROR(swap_in_cleaned(bases, now_ms));
  return ok_status();
}

Status PartitionLog::swap_in_cleaned(const std::vector<Offset>& bases, int64_t now_ms) {
  std::string log_name = lf::segment_file_name(bases.front(), lf::FileKind::kLog);
  std::string cleaned_path = dir_ + "/" + log_name + std::string(lf::kCleanedSuffix);
  std::string swap_path = dir_ + "/" + log_name + std::string(lf::kSwapSuffix);
  STRATA_RETURN_IF_ERROR(fail(rt_.fs().rename(cleaned_path, swap_path)));
  STRATA_RETURN_IF_ERROR(fail(rt_.fs().sync_dir(dir_)));
  for (Offset base : bases) {
    STRATA_RETURN_IF_ERROR(fail(segments_.at(base)->remove_files(rt_.fs())));
    segments_.erase(base);
  }
  STRATA_RETURN_IF_ERROR(fail(rt_.fs().rename(swap_path, dir_ + "/" + log_name)));
  Result<std::unique_ptr<Segment>> seg =
      Segment::open(rt_.fs(), dir_, bases.front(), segment_options(), now_ms);
  if (!seg.is_ok()) return fail(seg.status());
  Result<std::optional<RecoveryCut>> cut = (*seg)->recover(Segment::Gaps::kAllowed);
  if (!cut.is_ok()) return fail(cut.status());
  if (cut->has_value()) {
    // Written and synced by us a moment ago: a cut means a bug or a failing disk.
    return fail(Status::corruption("cleaned segment " + (*seg)->log_path() +
                                   " fails its own check: " + (*cut)->reason));
  }
  STRATA_RETURN_IF_ERROR(fail((*seg)->sync()));
  segments_[bases.front()] = std::move(seg).value();
  STRATA_RETURN_IF_ERROR(fail(rt_.fs().sync_dir(dir_)));
  STRATA_ASSERT(segments_.rbegin()->first > bases.back(), "the active segment is never cleaned");
  return ok_status();
}

}  // namespace strata
