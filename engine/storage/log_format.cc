#include "engine/storage/log_format.h"

#include "engine/base/assert.h"

namespace strata::log_format {

namespace {
std::string_view suffix_of(FileKind kind) {
  switch (kind) {
    case FileKind::kLog:
      return kLogSuffix;
    case FileKind::kIndex:
      return kIndexSuffix;
    case FileKind::kTimeIndex:
      return kTimeIndexSuffix;
    case FileKind::kProducerSnapshot:
      return kProducerSnapshotSuffix;
  }
  STRATA_UNREACHABLE("bad FileKind");
}
}  // namespace

std::string segment_file_name(Offset base, FileKind kind) {
  STRATA_ASSERT(base.value() >= 0);
  std::string digits = std::to_string(base.value());
  STRATA_ASSERT(digits.size() <= kOffsetDigits);
  std::string name(kOffsetDigits - digits.size(), '0');
  name += digits;
  name += suffix_of(kind);
  return name;
}

std::optional<SegmentFileName> parse_segment_file_name(std::string_view name) {
  if (name.size() <= kOffsetDigits) return std::nullopt;
  std::string_view suffix = name.substr(kOffsetDigits);
  std::optional<FileKind> kind;
  for (FileKind k :
       {FileKind::kLog, FileKind::kIndex, FileKind::kTimeIndex, FileKind::kProducerSnapshot}) {
    if (suffix == suffix_of(k)) kind = k;
  }
  if (!kind) return std::nullopt;
  int64_t v = 0;
  for (size_t i = 0; i < kOffsetDigits; ++i) {
    char c = name[i];
    if (c < '0' || c > '9') return std::nullopt;
    // 20 digits can exceed INT64_MAX (19 digits): reject instead of overflowing.
    if (v > (INT64_MAX - (c - '0')) / 10) return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return SegmentFileName{Offset{v}, *kind};
}

std::string partition_dir_name(std::string_view topic, PartitionId partition) {
  STRATA_ASSERT(!topic.empty());
  STRATA_ASSERT(partition.value() >= 0);
  return std::string(topic) + "-" + std::to_string(partition.value());
}

}  // namespace strata::log_format
