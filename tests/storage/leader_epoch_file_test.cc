// leader-epoch-checkpoint: Kafka's text layout, monotonic epochs across restarts and crashes,
// precise errors for malformed files.
#include "engine/storage/leader_epoch_file.h"

#include <catch2/catch.hpp>

#include "engine/runtime/mem_fs.h"

using namespace strata;

namespace {

void put(MemFileSystem& fs, const std::string& path, std::string_view text) {
  auto f = fs.open(path, OpenMode::kCreateTruncate);
  REQUIRE(f.is_ok());
  REQUIRE((*f)->append(as_bytes(text)).is_ok());
  REQUIRE((*f)->sync().is_ok());
}

}  // namespace

TEST_CASE("leader epochs: each epoch the controller gives is recorded once, where it starts") {
  MemFileSystem fs;
  REQUIRE(fs.create_dirs("/d").is_ok());
  REQUIRE(record_leader_epoch(fs, "/d", LeaderEpoch(0), Offset(0)).is_ok());
  REQUIRE(record_leader_epoch(fs, "/d", LeaderEpoch(2), Offset(42)).is_ok());
  REQUIRE(record_leader_epoch(fs, "/d", LeaderEpoch(2), Offset(50)).is_ok());  // already there
  auto entries = read_leader_epochs(fs, "/d");
  REQUIRE(entries.is_ok());
  CHECK(*entries ==
        std::vector<EpochEntry>{{LeaderEpoch(0), Offset(0)}, {LeaderEpoch(2), Offset(42)}});
  auto text = read_file_text(fs, "/d/leader-epoch-checkpoint");
  REQUIRE(text.is_ok());
  CHECK(*text == "0\n2\n0 0\n2 42\n");
}

TEST_CASE("leader epochs: survive a machine crash, and lost entries and older numbering go") {
  MemFileSystem fs;
  REQUIRE(fs.create_dirs("/d").is_ok());
  REQUIRE(fs.sync_dir("/").is_ok());
  REQUIRE(record_leader_epoch(fs, "/d", LeaderEpoch(0), Offset(0)).is_ok());
  REQUIRE(record_leader_epoch(fs, "/d", LeaderEpoch(1), Offset(100)).is_ok());
  fs.crash();
  // The log lost its unsynced tail: it now ends at 50, before epoch 1 started.
  REQUIRE(record_leader_epoch(fs, "/d", LeaderEpoch(3), Offset(50)).is_ok());
  auto entries = read_leader_epochs(fs, "/d");
  REQUIRE(entries.is_ok());
  CHECK(*entries ==
        std::vector<EpochEntry>{{LeaderEpoch(0), Offset(0)}, {LeaderEpoch(3), Offset(50)}});
  // A file that numbered epochs beyond the controller's keeps only what is below it.
  put(fs, "/d/leader-epoch-checkpoint", "0\n3\n0 0\n4 10\n7 20\n");
  REQUIRE(record_leader_epoch(fs, "/d", LeaderEpoch(5), Offset(30)).is_ok());
  entries = read_leader_epochs(fs, "/d");
  REQUIRE(entries.is_ok());
  CHECK(*entries == std::vector<EpochEntry>{{LeaderEpoch(0), Offset(0)},
                                            {LeaderEpoch(4), Offset(10)},
                                            {LeaderEpoch(5), Offset(30)}});
}

TEST_CASE("leader epochs: malformed files name the file and line") {
  MemFileSystem fs;
  REQUIRE(fs.create_dirs("/d").is_ok());
  put(fs, "/d/leader-epoch-checkpoint", "0\n2\n0 0\nx 5\n");
  auto r = read_leader_epochs(fs, "/d");
  REQUIRE_FALSE(r.is_ok());
  CHECK(r.status().message().find("leader-epoch-checkpoint:4") != std::string::npos);
  put(fs, "/d/leader-epoch-checkpoint", "0\n3\n0 0\n");
  r = read_leader_epochs(fs, "/d");
  REQUIRE_FALSE(r.is_ok());
  CHECK(r.status().message().find(":2") != std::string::npos);
  put(fs, "/d/leader-epoch-checkpoint", "0\n2\n3 10\n2 20\n");
  CHECK_FALSE(read_leader_epochs(fs, "/d").is_ok());
  put(fs, "/d/leader-epoch-checkpoint", "1\n0\n");
  CHECK_FALSE(read_leader_epochs(fs, "/d").is_ok());
}
