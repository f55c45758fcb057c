// PartitionLog::open's recovery: crashes, torn writes, corrupt bytes, missing indexes and
// foreign files. Every scenario ends with "the log is valid and holds what was synced".
#include <catch2/catch.hpp>

#include "tests/storage/log_fixture.h"

using namespace strata;
using namespace strata::testing;
namespace lf = strata::log_format;

TEST_CASE("crash without flush loses the unsynced appends, and only them") {
  LogFixture f;
  f.config.segment_bytes = 800;
  f.open();
  for (int i = 0; i < 10; ++i) f.append(3);

  SECTION("nothing flushed: the log comes back empty") {
    f.crash();
    f.open();
    CHECK(f.log->log_end_offset() == Offset{0});
    CHECK(f.rt.count_log(LogLevel::kWarn) == 0);
    CHECK(f.append(1).first_offset == Offset{0});
  }
  SECTION("flushed, then more appends across new segments: the flushed prefix survives") {
    REQUIRE(f.log->flush().is_ok());
    ReadResult synced = f.read(Offset{0}, 1 << 20);
    std::vector<Bytes> synced_reads;
    for (int64_t o = 0; o < 30; o += 3) synced_reads.push_back(f.read(Offset{o}, 1).records);
    for (int i = 0; i < 20; ++i) f.append(3);
    CHECK(f.log->segments().size() > 3);
    f.crash();
    f.open();
    CHECK(f.log->log_end_offset() == Offset{30});
    for (int64_t o = 0; o < 30; o += 3) CHECK(f.read(Offset{o}, 1).records == synced_reads[o / 3]);
    f.check_whole_log_readable();
    CHECK(f.append(1).first_offset == Offset{30});
  }
}

TEST_CASE("a torn last write is cut with a warning naming the file and position") {
  LogFixture f;
  f.config.index_interval_bytes = 1 << 30;  // no index writes: the .log gets the last write
  f.open();
  for (int i = 0; i < 4; ++i) f.append(2);
  REQUIRE(f.log->flush().is_ok());
  uint64_t synced_size = f.log->size_bytes();
  Bytes big = make_batch(10, f.rt.wall_clock_ms(), 100);
  f.append(big);
  f.crash(/*torn_random=*/big.size() / 2);  // half of the last batch reaches the disk
  f.open();
  CHECK(f.log->log_end_offset() == Offset{8});
  CHECK(f.log->size_bytes() == synced_size);
  std::string log_file = f.segment_path(Offset{0}, lf::FileKind::kLog);
  CHECK(f.rt.count_log(LogLevel::kWarn, log_file + " at position " + std::to_string(synced_size)) ==
        1);
  f.check_whole_log_readable();
  CHECK(f.append(1).first_offset == Offset{8});
}

TEST_CASE("a flipped byte in the tail fails the CRC and cuts the log there") {
  LogFixture f;
  f.open();
  std::vector<uint64_t> positions;
  for (int i = 0; i < 5; ++i) {
    positions.push_back(f.log->size_bytes());
    f.append(4);
  }
  REQUIRE(f.log->flush().is_ok());
  f.log.reset();  // the process dies (no clean close), the disk keeps everything synced
  std::string log_file = f.segment_path(Offset{0}, lf::FileKind::kLog);
  uint8_t bad = 0xFF;
  REQUIRE(f.fs().corrupt(log_file, positions[3] + 70, ByteSpan(&bad, 1)).is_ok());
  f.open();
  CHECK(f.log->log_end_offset() == Offset{12});
  CHECK(f.rt.count_log(LogLevel::kWarn, "CRC-32C mismatch") == 1);
  CHECK(f.rt.count_log(LogLevel::kWarn,
                       log_file + " at position " + std::to_string(positions[3])) == 1);
  f.check_whole_log_readable();
}

TEST_CASE("corruption in an older segment removes every later segment") {
  LogFixture f;
  f.config.segment_bytes = 400;
  f.open();
  for (int i = 0; i < 20; ++i) f.append(2);
  REQUIRE(f.log->flush().is_ok());
  std::vector<SegmentInfo> segs = f.log->segments();
  REQUIRE(segs.size() > 4);
  f.log.reset();
  // Break the batch length of the first batch of the third segment.
  uint8_t garbage[4] = {0x7f, 0xff, 0xff, 0xff};
  REQUIRE(
      f.fs()
          .corrupt(f.segment_path(segs[2].base_offset, lf::FileKind::kLog), 8, ByteSpan(garbage, 4))
          .is_ok());
  f.open();
  CHECK(f.log->log_end_offset() == segs[2].base_offset);
  CHECK(f.log->segments().size() == 3);
  CHECK_FALSE(f.fs().exists(f.segment_path(segs[3].base_offset, lf::FileKind::kLog)));
  CHECK(f.rt.count_log(LogLevel::kWarn, "removing the segments after") == 1);
  f.check_whole_log_readable();
}

TEST_CASE("missing or corrupt index files are rebuilt from the log") {
  LogFixture f;
  f.config.segment_bytes = 2000;
  f.config.index_interval_bytes = 100;
  f.open();
  for (int i = 0; i < 60; ++i) f.append(make_batch(3, 1000 * i));
  std::vector<SegmentInfo> segs = f.log->segments();
  REQUIRE(segs.size() > 3);
  f.reopen_after_clean_close();
  REQUIRE(f.log->close().is_ok());
  f.log.reset();
  REQUIRE(f.fs().remove(f.segment_path(segs[0].base_offset, lf::FileKind::kIndex)).is_ok());
  REQUIRE(f.fs().remove(f.segment_path(segs[1].base_offset, lf::FileKind::kTimeIndex)).is_ok());
  Result<Bytes> index2 = f.fs().read_all(f.segment_path(segs[2].base_offset, lf::FileKind::kIndex));
  REQUIRE(index2->size() >= 16);
  uint8_t swapped[8] = {0, 0, 0, 0, 0, 0, 0, 0};  // an entry pointing back to position 0
  REQUIRE(f.fs()
              .corrupt(f.segment_path(segs[2].base_offset, lf::FileKind::kIndex), 8,
                       ByteSpan(swapped, 8))
              .is_ok());
  f.open();
  CHECK(f.rt.count_log(LogLevel::kWarn, "rebuilding the indexes") == 3);
  CHECK(f.fs().read_all(f.segment_path(segs[0].base_offset, lf::FileKind::kIndex))->size() > 0);
  CHECK(f.fs().read_all(f.segment_path(segs[2].base_offset, lf::FileKind::kIndex)).value() ==
        index2.value());
  CHECK(f.log->log_end_offset() == Offset{180});
  f.check_whole_log_readable();
  for (int64_t i = 0; i < 60; i += 7) {
    CHECK(f.log->offset_for_timestamp(1000 * i + 1).value()->offset == Offset{3 * i + 1});
  }
}

TEST_CASE("foreign files are ignored with a warning, our leftovers are cleaned up") {
  LogFixture f;
  f.open();
  f.append(3);
  REQUIRE(f.log->close().is_ok());
  f.log.reset();
  auto touch = [&](const std::string& name, std::string_view content) {
    auto file = f.fs().open(f.dir + "/" + name, OpenMode::kCreate);
    REQUIRE(file.is_ok());
    REQUIRE(file.value()->append(as_bytes(content)).is_ok());
  };
  touch("notes.txt", "hello");
  touch("0000000000000000abcd.log", "not a segment name");
  touch("00000000000000000077.index", "orphan index");
  touch(std::string(lf::kCheckpointTmpName), "half-written checkpoint");
  REQUIRE(f.fs().create_dirs(f.dir + "/00000000000000000050.log").is_ok());
  f.open();
  CHECK(f.rt.count_log(LogLevel::kWarn, "ignoring unexpected file " + f.dir + "/notes.txt") == 1);
  CHECK(f.rt.count_log(LogLevel::kWarn, "ignoring unexpected file") == 3);
  CHECK(f.rt.count_log(LogLevel::kWarn, "index file without a segment") == 1);
  CHECK(f.fs().exists(f.dir + "/notes.txt"));
  CHECK_FALSE(f.fs().exists(f.dir + "/00000000000000000077.index"));
  CHECK_FALSE(f.fs().exists(f.dir + "/" + std::string(lf::kCheckpointTmpName)));
  CHECK(f.log->log_end_offset() == Offset{3});
  f.check_whole_log_readable();
}

TEST_CASE("a corrupt checkpoint means a full recovery, not a failure") {
  LogFixture f;
  f.open();
  for (int i = 0; i < 5; ++i) f.append(2);
  REQUIRE(f.log->delete_records_before(Offset{3}).is_ok());
  REQUIRE(f.log->close().is_ok());
  f.log.reset();
  uint8_t junk[3] = {1, 2, 3};
  REQUIRE(f.fs()
              .corrupt(f.dir + "/" + std::string(lf::kCheckpointName), 10, ByteSpan(junk, 3))
              .is_ok());
  f.open();
  CHECK(f.rt.count_log(LogLevel::kWarn, "ignoring bad checkpoint") == 1);
  CHECK(f.log->log_end_offset() == Offset{10});
  CHECK(f.log->log_start_offset() == Offset{0});  // the advanced start was in the checkpoint
  f.check_whole_log_readable();
}

TEST_CASE("random garbage on disk never asserts: recovery keeps a valid prefix") {
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    INFO("seed " << seed);
    LogFixture f;
    f.open();
    for (int i = 0; i < 6; ++i) f.append(make_batch(1 + int32_t(seed % 5), 100 * i, seed % 30));
    REQUIRE(f.log->flush().is_ok());
    f.log.reset();
    std::string log_file = f.segment_path(Offset{0}, lf::FileKind::kLog);
    uint64_t size = f.fs().file_size(log_file).value();
    // Overwrite 1–8 random bytes; half the time aim at the headers' first 61 bytes.
    int n = 1 + int(f.rt.random_below(8));
    for (int i = 0; i < n; ++i) {
      uint64_t at = f.rt.random_below(size);
      if (seed % 2 == 0) at = f.rt.random_below(61);
      uint8_t b = uint8_t(f.rt.random_u64());
      REQUIRE(f.fs().corrupt(log_file, at, ByteSpan(&b, 1)).is_ok());
    }
    f.open();
    CHECK(f.log->log_end_offset() <= Offset{6 * (1 + int64_t(seed % 5))});
    f.check_whole_log_readable();
    Offset end = f.log->log_end_offset();
    CHECK(f.append(1).first_offset == end);
  }
}

TEST_CASE("random crashes: the reopened log holds at least what was flushed, byte for byte") {
  for (uint64_t seed = 1; seed <= 100; ++seed) {
    INFO("seed " << seed);
    LogFixture f(seed);
    f.config.segment_bytes = 300 + int32_t(seed % 7) * 100;
    f.config.index_interval_bytes = int32_t(seed % 3) * 100;
    f.open();
    Bytes flushed;  // what a read of the whole log returned at the last flush
    Offset flushed_end{0};
    int ops = 10 + int(f.rt.random_below(40));
    for (int i = 0; i < ops; ++i) {
      f.append(1 + int32_t(f.rt.random_below(4)), f.rt.random_below(60));
      if (f.rt.random_below(4) == 0) {
        REQUIRE(f.log->flush().is_ok());
        flushed_end = f.log->log_end_offset();
      }
      if (f.rt.random_below(8) == 0) REQUIRE(f.log->maintain(f.rt.wall_clock_ms()).is_ok());
    }
    std::vector<Bytes> flushed_batches;
    for (Offset o{0}; o < flushed_end;) {
      ReadResult r = f.read(o, 1);
      flushed_batches.push_back(r.records);
      o = r.next_offset;
    }
    f.crash(f.rt.random_u64());
    f.open();
    REQUIRE(f.log->log_end_offset() >= flushed_end);
    f.check_whole_log_readable();
    size_t i = 0;
    for (Offset o{0}; o < flushed_end; ++i) {
      ReadResult r = f.read(o, 1);
      REQUIRE(r.records == flushed_batches[i]);
      o = r.next_offset;
    }
  }
}
