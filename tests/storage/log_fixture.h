// A partition log on a MemFileSystem inside a FakeRuntime, with script-like helpers.
#pragma once

#include <catch2/catch.hpp>
#include <memory>
#include <string>

#include "engine/storage/log_format.h"
#include "engine/storage/partition_log.h"
#include "tests/storage/test_batches.h"
#include "tests/support/fake_runtime.h"

namespace strata::testing {

struct LogFixture {
  explicit LogFixture(uint64_t seed = 1) : rt(nullptr, seed) {}

  FakeRuntime rt;
  std::string dir = "/data/" + log_format::partition_dir_name("orders", PartitionId{0});
  LogConfig config;
  std::unique_ptr<PartitionLog> log;
  LeaderEpoch epoch{3};

  MemFileSystem& fs() { return rt.mem_fs(); }

  void open() {
    Result<std::unique_ptr<PartitionLog>> r = PartitionLog::open(rt, dir, config);
    INFO(r.status().to_string());
    REQUIRE(r.is_ok());
    log = std::move(r).value();
  }
  // The process dies: the object goes without close(), and unsynced data is lost.
  void crash(std::optional<uint64_t> torn_random = std::nullopt) {
    log.reset();
    fs().crash(torn_random);
  }
  void reopen_after_clean_close() {
    REQUIRE(log->close().is_ok());
    log.reset();
    open();
  }

  AppendResult append(Bytes batch) {
    Result<AppendResult> r = log->append(batch, epoch, rt.wall_clock_ms());
    INFO(r.status().to_string());
    REQUIRE(r.is_ok());
    return *r;
  }
  AppendResult append(int32_t records, size_t value_bytes = 10) {
    return append(make_batch(records, rt.wall_clock_ms(), value_bytes));
  }
  ReadResult read(Offset from, int32_t max_bytes = 1 << 20) {
    return read(from, max_bytes, log->log_end_offset());
  }
  ReadResult read(Offset from, int32_t max_bytes, Offset bound) {
    Result<ReadResult> r = log->read(from, max_bytes, bound);
    INFO(r.status().to_string());
    REQUIRE(r.is_ok());
    return std::move(r).value();
  }
  // Every offset in [log start, log end) is readable, in order, with valid CRCs.
  void check_whole_log_readable() {
    Offset next = log->log_start_offset();
    while (next < log->log_end_offset()) {
      ReadResult r = read(next);
      REQUIRE(r.batch_count > 0);
      std::vector<StoredBatchHeader> hs = batches_in(r.records);
      REQUIRE(hs.front().base() <= next);
      for (const StoredBatchHeader& h : hs) {
        REQUIRE(h.last() >= next);
        next = h.last() + 1;
      }
    }
    REQUIRE(next == log->log_end_offset());
  }
  std::string segment_path(Offset base, log_format::FileKind kind) {
    return dir + "/" + log_format::segment_file_name(base, kind);
  }
};

}  // namespace strata::testing
