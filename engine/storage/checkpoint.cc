#include "engine/storage/checkpoint.h"

#include "engine/base/crc32c.h"
#include "engine/storage/log_format.h"

namespace strata {

namespace lf = log_format;

Result<std::optional<LogCheckpoint>> read_log_checkpoint(FileSystem& fs, const std::string& dir) {
  std::string path = dir + "/" + std::string(lf::kCheckpointName);
  if (!fs.exists(path)) return std::optional<LogCheckpoint>();
  STRATA_ASSIGN_OR_RETURN(std::unique_ptr<File> file, fs.open(path, OpenMode::kReadOnly));
  uint64_t size = file->size();
  if (size != lf::kCheckpointSize && size != lf::kCheckpointV1Size) {
    return Status::corruption(path + ": size " + std::to_string(size));
  }
  bool v1 = size == lf::kCheckpointV1Size;
  size_t crc_at = v1 ? lf::kCheckpointV1CrcAt : lf::kCheckpointCrcAt;
  uint8_t buf[lf::kCheckpointSize];
  STRATA_ASSIGN_OR_RETURN(size_t n, file->read_at(0, std::span<uint8_t>(buf, size)));
  if (n != size) return Status::corruption(path + ": short read");
  if (crc32c::value(ByteSpan(buf, crc_at)) != load_be32(buf + crc_at)) {
    return Status::corruption(path + ": CRC-32C mismatch");
  }
  uint16_t version = v1 ? lf::kCheckpointVersionV1 : lf::kCheckpointVersion;
  if (load_be32(buf + lf::kCheckpointMagicAt) != lf::kCheckpointMagic ||
      load_be16(buf + lf::kCheckpointVersionAt) != version) {
    return Status::corruption(path + ": unknown magic or version");
  }
  LogCheckpoint cp;
  cp.clean_shutdown = (buf[lf::kCheckpointFlagsAt] & lf::kCheckpointCleanFlag) != 0;
  cp.log_start_offset = Offset{static_cast<int64_t>(load_be64(buf + lf::kCheckpointLogStartAt))};
  cp.recovery_point = Offset{static_cast<int64_t>(load_be64(buf + lf::kCheckpointRecoveryPointAt))};
  if (!v1) {
    cp.cleaner_point =
        Offset{static_cast<int64_t>(load_be64(buf + lf::kCheckpointCleanerPointAt))};
  }
  if (cp.log_start_offset.value() < 0 || cp.recovery_point.value() < 0 ||
      cp.cleaner_point.value() < 0) {
    return Status::corruption(path + ": negative offset");
  }
  return std::optional<LogCheckpoint>(cp);
}

Status write_log_checkpoint(FileSystem& fs, const std::string& dir, const LogCheckpoint& cp) {
  STRATA_ASSERT(cp.log_start_offset.value() >= 0 && cp.recovery_point.value() >= 0 &&
                cp.cleaner_point.value() >= 0);
  uint8_t buf[lf::kCheckpointSize] = {};
  store_be32(buf + lf::kCheckpointMagicAt, lf::kCheckpointMagic);
  store_be16(buf + lf::kCheckpointVersionAt, lf::kCheckpointVersion);
  buf[lf::kCheckpointFlagsAt] = cp.clean_shutdown ? lf::kCheckpointCleanFlag : 0;
  store_be64(buf + lf::kCheckpointLogStartAt, static_cast<uint64_t>(cp.log_start_offset.value()));
  store_be64(buf + lf::kCheckpointRecoveryPointAt,
             static_cast<uint64_t>(cp.recovery_point.value()));
  store_be64(buf + lf::kCheckpointCleanerPointAt,
             static_cast<uint64_t>(cp.cleaner_point.value()));
  store_be32(buf + lf::kCheckpointCrcAt, crc32c::value(ByteSpan(buf, lf::kCheckpointCrcAt)));
  return replace_file(fs, dir, dir + "/" + std::string(lf::kCheckpointName),
                      ByteSpan(buf, sizeof buf));
}

}  // namespace strata
