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
// One read of a segment while cleaning (whole batches; a larger batch is read alone).
constexpr int32_t kCleanReadBytes = 1 << 20;
int32_t read_bytes(uint64_t budget) {
  return int32_t(std::min<uint64_t>(kCleanReadBytes, budget));
}
}  // namespace

uint64_t KeyMap::hash_of(ByteSpan key) {
  uint64_t h = std::hash<std::string_view>{}(
      std::string_view(reinterpret_cast<const char*>(key.data()), key.size()));
  return h | 1;  // never 0, so a slot's hash alone tells nothing about emptiness
}

size_t KeyMap::find(ByteSpan key, uint64_t hash) const {
  size_t mask = slots_.size() - 1;
  for (size_t i = size_t(hash) & mask;; i = (i + 1) & mask) {
    const Slot& s = slots_[i];
    if (s.offset < 0) return i;
    if (s.hash == hash && s.key_len == key.size() &&
        std::equal(key.begin(), key.end(), arena_.begin() + int64_t(s.key_pos))) {
      return i;
    }
  }
}

void KeyMap::grow() {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(old.empty() ? 1024 : old.size() * 2, Slot{});
  size_t mask = slots_.size() - 1;
  for (const Slot& s : old) {
    if (s.offset < 0) continue;
    size_t i = size_t(s.hash) & mask;
    while (slots_[i].offset >= 0) i = (i + 1) & mask;
    slots_[i] = s;
  }
}

void KeyMap::put(ByteSpan key, int64_t offset) {
  STRATA_ASSERT(offset >= 0);
  if ((size_ + 1) * 2 > slots_.size()) grow();
  uint64_t hash = hash_of(key);
  Slot& s = slots_[find(key, hash)];
  if (s.offset >= 0) {
    s.offset = std::max(s.offset, offset);
    return;
  }
  s = Slot{hash, arena_.size(), offset, uint32_t(key.size())};
  arena_.insert(arena_.end(), key.begin(), key.end());
  ++size_;
}

int64_t KeyMap::last_offset(ByteSpan key) const {
  if (slots_.empty()) return -1;
  return slots_[find(key, hash_of(key))].offset;
}

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
    // As Kafka: overdue once a dirty segment's first batch passed max.compaction.lag.ms.
    if (dirty && seg->first_batch_timestamp_ms() > 0 &&
        now_ms - seg->first_batch_timestamp_ms() > config_.max_compaction_lag_ms) {
      r.overdue = true;
    }
    (dirty ? r.dirty_bytes : r.clean_bytes) += seg->size_bytes();
  }
  if (r.first_dirty >= r.end || r.dirty_bytes == 0) return std::nullopt;
  return r;
}

Result<CleanStats> PartitionLog::clean_step(int64_t now_ms, const CleanOptions& options) {
  STRATA_RETURN_IF_ERROR(usable());
  if (pass_ && (pass_->generation != layout_generation_ || !config_.cleanup_compact)) {
    rt_.info(kComponent, dir_ + ": the log changed under a clean pass; starting over");
    abandon_clean_pass();
  }
  Result<CleanStats> step = clean_step_inner(now_ms, options);
  if (!step.is_ok()) abandon_clean_pass();
  return step;
}

void PartitionLog::abandon_clean_pass() {
  if (pass_ && pass_->out) {
    pass_->out.reset();
    (void)rt_.fs().remove_all(cleaning_dir());  // recovery removes it if this fails
  }
  pass_.reset();
}

std::string PartitionLog::cleaning_dir() const {
  return dir_ + "/" + std::string(lf::kCleaningDir);
}

Result<CleanStats> PartitionLog::clean_step_inner(int64_t now_ms, const CleanOptions& options) {
  CleanStats stats;
  if (!pass_) {
    std::optional<CleanableRange> range = cleanable_range(now_ms);
    if (!range) {
      stats.pass_done = true;
      return stats;
    }
    pass_ = std::make_unique<CleanPass>();
    pass_->first_dirty = range->first_dirty;
    pass_->end = range->end;
    pass_->map_next = range->first_dirty;
    pass_->generation = layout_generation_;
  }
  uint64_t budget = std::max<uint64_t>(options.step_bytes_max, 1);
  if (!pass_->mapped) {
    STRATA_RETURN_IF_ERROR(map_keys(options, budget, stats));
    if (pass_->mapped) STRATA_RETURN_IF_ERROR(plan_groups(now_ms));
    return stats;
  }
  STRATA_RETURN_IF_ERROR(copy_group(now_ms, options, budget, stats));
  if (pass_->next_group == pass_->groups.size()) {
    cleaner_point_ = std::max(cleaner_point_, pass_->end);
    pass_.reset();
    STRATA_RETURN_IF_ERROR(write_checkpoint(false));
    stats.pass_done = true;
  }
  return stats;
}

// Step 1, resumable: adds the keys of the dirty section from map_next on to the key map,
// reading at most `budget` bytes. Sets `mapped` at the end of the section.
Status PartitionLog::map_keys(const CleanOptions& options, uint64_t& budget, CleanStats& stats) {
  CleanPass& pass = *pass_;
  std::vector<RecordView> views;
  Bytes decompressed;
  while (pass.map_next < pass.end) {
    auto it = segments_.upper_bound(pass.map_next);
    if (it != segments_.begin()) --it;  // the segment holding map_next, if any does
    pass.map_next = std::max(pass.map_next, it->first);
    Segment& seg = *it->second;
    auto next = std::next(it);
    Offset next_base = next == segments_.end() ? pass.end : std::min(pass.end, next->first);
    bool segment_done = pass.map_next >= seg.next_offset();
    if (!segment_done) {
      if (budget == 0) return ok_status();
      STRATA_ASSIGN_OR_RETURN(SegmentRead read,
                              seg.read(pass.map_next, read_bytes(budget), pass.end));
      budget -= std::min<uint64_t>(budget, read.bytes.size());
      BatchSplitter batches(read.bytes);
      while (std::optional<ByteSpan> batch = batches.next()) {
        STRATA_ASSIGN_OR_RETURN(BatchHeader h, parse_batch_header(*batch));
        if (h.control()) continue;
        STRATA_RETURN_IF_ERROR(decode_record_views(*batch, views, decompressed));
        for (const RecordView& v : views) {
          int64_t offset = h.base_offset + v.offset_delta;
          if (v.key && offset >= pass.first_dirty.value()) pass.keys.put(*v.key, offset);
        }
      }
      segment_done = read.batch_count == 0 || read.next_offset >= seg.next_offset();
      pass.map_next = read.batch_count == 0 ? seg.next_offset() : read.next_offset;
    }
    if (segment_done) {
      // The budget is soft by one segment: end the dirty section after the one that crossed it.
      if (pass.keys.bytes() > options.key_map_bytes_max) pass.end = next_base;
      pass.map_next = std::max(pass.map_next, next_base);
    }
  }
  pass.mapped = true;
  stats.keys_mapped = int64_t(pass.keys.size());
  return ok_status();
}

// Step 2: a flush and a checkpoint, and the groups of segments to rewrite.
Status PartitionLog::plan_groups(int64_t now_ms) {
  CleanPass& pass = *pass_;
  // Everything about to be replaced is synced and the recovery point is checkpointed above
  // it, so that recovery treats the holes a clean leaves between segments as legitimate.
  STRATA_RETURN_IF_ERROR(flush_at(now_ms));
  STRATA_RETURN_IF_ERROR(write_checkpoint(false));
  uint64_t group_bytes = 0;
  for (auto& [base, seg] : segments_) {
    if (base >= pass.end) break;
    bool fits = !pass.groups.empty() &&
                group_bytes + seg->size_bytes() <= uint64_t(config_.segment_bytes) &&
                seg->next_offset() - pass.groups.back().front() <= lf::kRelativeOffsetMax;
    if (!fits) {
      pass.groups.emplace_back();
      group_bytes = 0;
    }
    pass.groups.back().push_back(base);
    group_bytes += seg->size_bytes();
  }
  STRATA_ASSERT(!pass.groups.empty());
  return ok_status();
}

// Step 3, resumable: copies what the pass keeps of the group in hand into a segment in the
// cleaning directory, reading at most `budget` bytes, and syncs what it wrote (so that no
// single step pays for syncing a whole segment); once the whole group is copied, swaps it in.
Status PartitionLog::copy_group(int64_t now_ms, const CleanOptions& options, uint64_t& budget,
                                CleanStats& stats) {
  CleanPass& pass = *pass_;
  const std::vector<Offset>& bases = pass.groups[pass.next_group];
  if (!pass.out) {
    for (Offset base : bases) STRATA_ASSERT(segments_.count(base) == 1, "group segment missing");
    STRATA_RETURN_IF_ERROR(rt_.fs().remove_all(cleaning_dir()));
    STRATA_RETURN_IF_ERROR(rt_.fs().create_dirs(cleaning_dir()));
    STRATA_ASSIGN_OR_RETURN(pass.out, Segment::create(rt_.fs(), cleaning_dir(), bases.front(),
                                                      segment_options(), now_ms));
    pass.group_segment = 0;
    pass.copy_next = bases.front();
  }
  while (pass.group_segment < bases.size()) {
    Segment& seg = *segments_.at(bases[pass.group_segment]);
    if (pass.copy_next < seg.next_offset()) {
      if (budget == 0) return pass.out->sync();
      Status s = write_cleaned(seg, *pass.out, pass.copy_next, now_ms, options, budget, stats);
      if (!s.is_ok()) {
        return Status::corruption(dir_ + ": cleaning " + seg.log_path() + ": " + s.message());
      }
      if (pass.copy_next < seg.next_offset()) return pass.out->sync();  // out of budget
    }
    stats.bytes_in += seg.size_bytes();
    ++stats.segments_in;
    if (++pass.group_segment < bases.size()) pass.copy_next = bases[pass.group_segment];
  }
  stats.bytes_out += pass.out->size_bytes();
  ++stats.segments_out;
  STRATA_RETURN_IF_ERROR(pass.out->on_roll());
  STRATA_RETURN_IF_ERROR(pass.out->sync());
  pass.out.reset();
  STRATA_RETURN_IF_ERROR(swap_in_cleaned(bases, now_ms));
  ++pass.next_group;
  return ok_status();
}

// Copies the records of `seg` from `next` on that the pass keeps into `out`, batch by batch,
// until the segment ends or `budget` bytes were read; moves `next` past what it copied. A
// batch that keeps everything (and needs no delete horizon) is copied byte for byte, any
// other rebuilt.
Status PartitionLog::write_cleaned(Segment& seg, Segment& out, Offset& next, int64_t now_ms,
                                   const CleanOptions& options, uint64_t& budget,
                                   CleanStats& stats) {
  const CleanPass& pass = *pass_;
  std::vector<RecordView> views;
  std::vector<const RecordView*> kept;
  Bytes decompressed;
  while (next < seg.next_offset() && budget > 0) {
    STRATA_ASSIGN_OR_RETURN(SegmentRead read,
                            seg.read(next, read_bytes(budget), Offset{INT64_MAX}));
    if (read.batch_count == 0) {
      next = seg.next_offset();
      break;
    }
    budget -= std::min<uint64_t>(budget, read.bytes.size());
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
        bool superseded = v.key && pass.keys.last_offset(*v.key) > offset;
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
    next = read.next_offset;
  }
  return ok_status();
}

// The swap, in the order recovery can finish or undo (finish_interrupted_cleans): the cleaned
// .log becomes <base>.log.swap beside the segments (durably), the old segments go, the swap
// file becomes <base>.log and its indexes follow it; then the segment is loaded through its
// indexes, without a scan.
Status PartitionLog::swap_in_cleaned(const std::vector<Offset>& bases, int64_t now_ms) {
  Offset base = bases.front();
  auto name = [base](lf::FileKind kind) { return lf::segment_file_name(base, kind); };
  std::string from = cleaning_dir() + "/";
  std::string to = dir_ + "/";
  std::string swap_path = to + name(lf::FileKind::kLog) + std::string(lf::kSwapSuffix);
  STRATA_RETURN_IF_ERROR(fail(rt_.fs().rename(from + name(lf::FileKind::kLog), swap_path)));
  STRATA_RETURN_IF_ERROR(fail(rt_.fs().sync_dir(dir_)));
  for (Offset b : bases) {
    STRATA_RETURN_IF_ERROR(fail(segments_.at(b)->remove_files(rt_.fs())));
    segments_.erase(b);
  }
  STRATA_RETURN_IF_ERROR(fail(rt_.fs().rename(swap_path, to + name(lf::FileKind::kLog))));
  for (lf::FileKind kind : {lf::FileKind::kIndex, lf::FileKind::kTimeIndex}) {
    STRATA_RETURN_IF_ERROR(fail(rt_.fs().rename(from + name(kind), to + name(kind))));
  }
  STRATA_RETURN_IF_ERROR(fail(rt_.fs().sync_dir(dir_)));
  STRATA_RETURN_IF_ERROR(fail(rt_.fs().remove_all(cleaning_dir())));
  Result<std::unique_ptr<Segment>> seg =
      Segment::open(rt_.fs(), dir_, base, segment_options(), now_ms);
  if (!seg.is_ok()) return fail(seg.status());
  if (Status loaded = (*seg)->load(Segment::Gaps::kAllowed); !loaded.is_ok()) {
    // Written and synced by us a moment ago: this means a bug or a failing disk.
    return fail(Status::corruption("cleaned segment " + (*seg)->log_path() +
                                   " fails its own check: " + loaded.message()));
  }
  segments_[base] = std::move(seg).value();
  STRATA_ASSERT(segments_.rbegin()->first > bases.back(), "the active segment is never cleaned");
  return ok_status();
}

}  // namespace strata
