// The per-partition `leader-epoch-checkpoint` file, in Kafka's text layout:
//
//   0                      format version
//   N                      number of entries
//   <epoch> <start offset> one line per epoch: the first offset written in it
//
// Each time a replica becomes leader it starts a new epoch (a KRaft election bumps the epoch
// whenever the leader changes, including a broker going away and coming back). The file is
// replaced atomically (temp file, sync, rename, sync_dir), so the epoch never goes backwards
// across crashes: "the high watermark never decreases within an epoch" is then checkable.
#pragma once

#include <string>
#include <vector>

#include "engine/base/ids.h"
#include "engine/base/status.h"
#include "engine/runtime/runtime.h"

namespace strata {

struct EpochEntry {
  LeaderEpoch epoch{0};
  Offset start_offset{0};
  bool operator==(const EpochEntry&) const = default;
};

inline constexpr std::string_view kLeaderEpochFileName = "leader-epoch-checkpoint";
// Entries kept; older epochs are forgotten (only recent ones matter for truncation).
inline constexpr size_t kLeaderEpochEntriesMax = 1000;

// Empty if there is no file; kCorruption naming file and line if it is malformed.
Result<std::vector<EpochEntry>> read_leader_epochs(FileSystem& fs, const std::string& dir);
Status write_leader_epochs(FileSystem& fs, const std::string& dir,
                           const std::vector<EpochEntry>& entries);

// Records that epoch `epoch`, given by the controller, starts at `log_end`. Nothing is written
// when the file already ends with that epoch. Entries starting beyond `log_end` (lost in a
// crash) are dropped, and so are entries of `epoch` or later (left by an older strata that
// numbered epochs itself), so that the file's epochs keep going up. Durable on return.
Status record_leader_epoch(FileSystem& fs, const std::string& dir, LeaderEpoch epoch,
                           Offset log_end);

}  // namespace strata
