// PartitionLog::open's recovery: classify the directory, load or scan each segment, cut torn
// or corrupt tails, and write a fresh (unclean) checkpoint. Rules are in README.md.
#include <algorithm>
#include <string>

#include "engine/storage/leader_epoch_file.h"
#include "engine/storage/log_format.h"
#include "engine/storage/partition_log.h"

namespace strata {

namespace lf = log_format;

namespace {
constexpr std::string_view kComponent = "storage";
// An interrupted clean's leftovers are reported as the cleaner's, with its other lines.
constexpr std::string_view kCleanerComponent = "cleaner";
}

Result<std::optional<LogCheckpoint>> PartitionLog::read_checkpoint() {
  Result<std::optional<LogCheckpoint>> cp = read_log_checkpoint(rt_.fs(), dir_);
  if (cp.is_ok() || cp.status().code() != StatusCode::kCorruption) return cp;
  rt_.warn(kComponent, "ignoring bad checkpoint (" + cp.status().message() +
                           "); recovering every segment of " + dir_);
  return std::optional<LogCheckpoint>();
}

namespace {

// The offset after the last whole batch of a synced .swap file (its base if it is empty).
Result<Offset> swap_next_offset(FileSystem& fs, const std::string& path, Offset base) {
  STRATA_ASSIGN_OR_RETURN(std::unique_ptr<File> file, fs.open(path, OpenMode::kReadOnly));
  uint64_t size = file->size();
  uint64_t pos = 0;
  Offset next = base;
  uint8_t header[batch_format::kHeaderSize];
  while (size - pos >= sizeof header) {
    STRATA_ASSIGN_OR_RETURN(size_t n, file->read_at(pos, header));
    Result<StoredBatchHeader> h = parse_stored_batch_header(ByteSpan(header, n));
    if (!h.is_ok() || h->size_bytes() > size - pos || h->base() < next) break;
    next = h->last() + 1;
    pos += h->size_bytes();
  }
  return next;
}

}  // namespace

// A swap file is complete and synced (log_cleaner.cc renames it only then): the segments it
// replaces are those based in [base, its next offset) — a replaced segment after them had no
// record left, so keeping it loses nothing — and it becomes <base>.log.
Status PartitionLog::finish_swap(const std::string& swap_name, Offset base,
                                 const std::vector<std::string>& names) {
  std::string swap_path = dir_ + "/" + swap_name;
  STRATA_ASSIGN_OR_RETURN(Offset next, swap_next_offset(rt_.fs(), swap_path, base));
  STRATA_RETURN_IF_ERROR(remove_segment_files(base));
  for (const std::string& name : names) {
    std::optional<lf::SegmentFileName> parsed = lf::parse_segment_file_name(name);
    if (!parsed || parsed->kind != lf::FileKind::kLog) continue;
    if (parsed->base > base && parsed->base < next) {
      STRATA_RETURN_IF_ERROR(remove_segment_files(parsed->base));
    }
  }
  STRATA_RETURN_IF_ERROR(
      rt_.fs().rename(swap_path, dir_ + "/" + lf::segment_file_name(base, lf::FileKind::kLog)));
  rt_.warn(kCleanerComponent, "finished the interrupted swap of cleaned segment " + swap_path +
                           " (offsets up to " + std::to_string(next.value()) + ")");
  return ok_status();
}

// Leftovers of a clean that a crash interrupted (log_format.h): the cleaning directory is
// removed, a .swap file is swapped in. Returns whether the directory changed.
Result<bool> PartitionLog::finish_interrupted_cleans(const std::vector<std::string>& names) {
  bool changed = false;
  for (const std::string& name : names) {
    if (name == lf::kCleaningDir) {
      rt_.warn(kCleanerComponent, "removing the unfinished cleaned segment in " + dir_ + "/" +
                                      name);
      STRATA_RETURN_IF_ERROR(rt_.fs().remove_all(dir_ + "/" + name));
      changed = true;
      dir_dirty_ = true;
      continue;
    }
    if (!name.ends_with(lf::kSwapSuffix)) continue;
    std::optional<lf::SegmentFileName> parsed = lf::parse_segment_file_name(
        std::string_view(name).substr(0, name.size() - lf::kSwapSuffix.size()));
    if (!parsed || parsed->kind != lf::FileKind::kLog) continue;  // warned about by scan_dir
    STRATA_RETURN_IF_ERROR(finish_swap(name, parsed->base, names));
    changed = true;
    dir_dirty_ = true;
  }
  return changed;
}

// Base offsets of the segments present, sorted. Removes leftovers we own (a temp checkpoint,
// index files without a .log, an interrupted clean's files) and warns about, but keeps, files
// we do not recognise.
Result<std::vector<Offset>> PartitionLog::scan_dir() {
  STRATA_ASSIGN_OR_RETURN(std::vector<std::string> names, rt_.fs().list_dir(dir_));
  STRATA_ASSIGN_OR_RETURN(bool cleans_finished, finish_interrupted_cleans(names));
  if (cleans_finished) {
    STRATA_ASSIGN_OR_RETURN(names, rt_.fs().list_dir(dir_));
  }
  std::vector<Offset> bases;
  std::vector<std::string> orphans;
  for (const std::string& name : names) {
    if (name == lf::kCheckpointName || name == kLeaderEpochFileName ||
        name == lf::kPartitionMetadataName) {
      continue;
    }
    std::string path = dir_ + "/" + name;
    std::string_view tmp = ".tmp";
    bool snapshot_tmp =
        name.ends_with(tmp) &&
        lf::parse_segment_file_name(std::string_view(name).substr(0, name.size() - tmp.size()))
                .has_value();
    if (name == lf::kCheckpointTmpName || name == std::string(kLeaderEpochFileName) + ".tmp" ||
        name == lf::kPartitionMetadataTmpName || snapshot_tmp) {
      STRATA_RETURN_IF_ERROR(rt_.fs().remove(path));
      dir_dirty_ = true;
      continue;
    }
    std::optional<lf::SegmentFileName> parsed = lf::parse_segment_file_name(name);
    if (!parsed || rt_.fs().is_dir(path)) {
      rt_.warn(kComponent, "ignoring unexpected file " + path);
    } else if (parsed->kind == lf::FileKind::kProducerSnapshot) {
      continue;  // the broker's (producer_state.h)
    } else if (parsed->kind == lf::FileKind::kLog) {
      bases.push_back(parsed->base);
    } else {
      orphans.push_back(name);
    }
  }
  std::sort(bases.begin(), bases.end());
  for (const std::string& name : orphans) {
    Offset base = lf::parse_segment_file_name(name)->base;
    if (std::binary_search(bases.begin(), bases.end(), base)) continue;
    rt_.warn(kComponent, "removing index file without a segment: " + dir_ + "/" + name);
    STRATA_RETURN_IF_ERROR(rt_.fs().remove(dir_ + "/" + name));
    dir_dirty_ = true;
  }
  return bases;
}

Status PartitionLog::remove_segment_files(Offset base) {
  for (lf::FileKind kind : {lf::FileKind::kLog, lf::FileKind::kIndex, lf::FileKind::kTimeIndex}) {
    std::string path = dir_ + "/" + lf::segment_file_name(base, kind);
    if (rt_.fs().exists(path)) STRATA_RETURN_IF_ERROR(rt_.fs().remove(path));
  }
  dir_dirty_ = true;
  return ok_status();
}

// A segment wholly below the recovery point of an unclean shutdown (or any segment after a
// clean one) is loaded through its indexes; any other is scanned batch by batch. A cut or an
// overlap ends the log there: every later segment is removed.
Status PartitionLog::load_segments(const std::vector<Offset>& bases,
                                   const std::optional<LogCheckpoint>& cp, int64_t now_ms) {
  bool clean = cp && cp->clean_shutdown;
  Offset recovery_point = cp ? cp->recovery_point : Offset{0};
  for (size_t i = 0; i < bases.size(); ++i) {
    Offset base = bases[i];
    bool has_next = i + 1 < bases.size();
    // An overlap is corruption. A hole above the recovery point means the end of the previous
    // segment was lost (unsynced) while this one's entry survived; either way the log ends
    // here. Below it, a hole is the log cleaner's: it removes records, so a cleaned segment
    // may end below the next one's base (it checkpoints a recovery point above its work
    // before it swaps segments).
    bool hole_allowed = clean || base <= recovery_point;
    if (!segments_.empty() &&
        (base < log_end_offset() || (base > log_end_offset() && !hole_allowed))) {
      rt_.warn(kComponent,
               "segment " + dir_ + "/" + lf::segment_file_name(base, lf::FileKind::kLog) +
                   " does not start at the end of the previous one (" +
                   std::to_string(log_end_offset().value()) + "); removing it and every later one");
      for (size_t j = i; j < bases.size(); ++j)
        STRATA_RETURN_IF_ERROR(remove_segment_files(bases[j]));
      break;
    }
    STRATA_ASSIGN_OR_RETURN(std::unique_ptr<Segment> seg,
                            Segment::open(rt_.fs(), dir_, base, segment_options(), now_ms));
    bool synced = clean || (has_next && bases[i + 1] <= recovery_point);
    bool scan = !synced;
    // Only a synced segment may hold the gaps a clean leaves; the active one never does.
    Segment::Gaps gaps = synced && has_next ? Segment::Gaps::kAllowed : Segment::Gaps::kRefused;
    if (!scan) {
      if (Status st = seg->load(gaps); !st.is_ok()) {
        rt_.warn(kComponent, "rebuilding the indexes of " + seg->log_path() + ": " + st.message());
        scan = true;
      }
    }
    std::optional<RecoveryCut> cut;
    if (scan) {
      STRATA_ASSIGN_OR_RETURN(cut, seg->recover(gaps));
    }
    if (cut) {
      rt_.warn(kComponent, "truncating " + seg->log_path() + " at position " +
                               std::to_string(cut->position) + ": " + cut->reason + " (" +
                               std::to_string(cut->dropped_bytes) + " bytes dropped)");
    }
    segments_[base] = std::move(seg);
    if (cut && has_next) {
      rt_.warn(kComponent, "removing the segments after the truncated one in " + dir_);
      for (size_t j = i + 1; j < bases.size(); ++j)
        STRATA_RETURN_IF_ERROR(remove_segment_files(bases[j]));
      break;
    }
  }
  return ok_status();
}

Status PartitionLog::recover(int64_t now_ms) {
  STRATA_ASSERT(segments_.empty());
  STRATA_RETURN_IF_ERROR(rt_.fs().create_dirs(dir_));
  STRATA_ASSIGN_OR_RETURN(std::optional<LogCheckpoint> cp, read_checkpoint());
  STRATA_ASSIGN_OR_RETURN(std::vector<Offset> bases, scan_dir());
  STRATA_RETURN_IF_ERROR(load_segments(bases, cp, now_ms));
  Offset start = cp ? cp->log_start_offset : Offset{0};
  if (segments_.empty()) {
    STRATA_ASSIGN_OR_RETURN(std::unique_ptr<Segment> seg,
                            Segment::create(rt_.fs(), dir_, start, segment_options(), now_ms));
    segments_[start] = std::move(seg);
    dir_dirty_ = true;
  }
  log_start_ = std::max(start, segments_.begin()->first);
  if (log_start_ > log_end_offset()) {
    rt_.warn(kComponent, "checkpointed log start offset " + std::to_string(log_start_.value()) +
                             " is beyond the recovered log end of " + dir_ + "; using the end");
    log_start_ = log_end_offset();
  }
  cleaner_point_ = cp ? std::clamp(cp->cleaner_point, log_start_, log_end_offset()) : log_start_;
  // Everything recovery kept is made durable, so the recovery point can move to the end.
  STRATA_RETURN_IF_ERROR(flush_at(now_ms));
  // Written unclean: a crash from now on must trigger recovery at the next open.
  STRATA_RETURN_IF_ERROR(write_checkpoint(false));
  rt_.info(kComponent, "opened " + dir_ + " (" +
                           (cp && cp->clean_shutdown ? "clean" : "recovered") +
                           "): " + std::to_string(segments_.size()) + " segments, offsets [" +
                           std::to_string(log_start_.value()) + ", " +
                           std::to_string(log_end_offset().value()) + ")");
  return ok_status();
}

}  // namespace strata
