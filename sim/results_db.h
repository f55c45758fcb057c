// The results writer: stores a finished simulated run in a SQLite database that the
// visualizer replays and that sweeps accumulate (one file, many runs). The schema is
// documented in docs/simulation.md; every table but `runs` is keyed by `run_id`.
//
// This is output tooling run by the CLI after a simulation has finished, not simulation
// state: it is the one place in sim/ that touches real files, and it does so through SQLite.
#pragma once

#include <string>

#include "engine/base/status.h"
#include "sim/run_record.h"

namespace strata::sim {

// Schema version stored in `PRAGMA user_version`; bump when a table changes.
inline constexpr int kResultsDbSchemaVersion = 2;  // 2: operations.group_id, generation, invoked_ns

// Appends `run` to the database at `path` (created with the schema if absent) in one
// transaction: either the whole run is stored or nothing is. Errors name the path and
// SQLite's message.
Status write_run_db(const std::string& path, const RunRecord& run);

}  // namespace strata::sim
