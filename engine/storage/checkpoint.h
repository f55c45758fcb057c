// The per-partition checkpoint file (layout in log_format.h): log start offset, recovery point,
// the clean-shutdown flag and the cleaner point. Replaced atomically: write a temp file, sync,
// rename, sync_dir.
#pragma once

#include <optional>
#include <string>

#include "engine/base/ids.h"
#include "engine/base/status.h"
#include "engine/runtime/runtime.h"

namespace strata {

struct LogCheckpoint {
  Offset log_start_offset;
  Offset recovery_point;
  bool clean_shutdown = false;
  Offset cleaner_point{0};  // the log cleaner's first dirty offset
};

// nullopt if there is no checkpoint file; kCorruption if it exists but fails its checks.
Result<std::optional<LogCheckpoint>> read_log_checkpoint(FileSystem& fs, const std::string& dir);
Status write_log_checkpoint(FileSystem& fs, const std::string& dir, const LogCheckpoint& cp);

}  // namespace strata
