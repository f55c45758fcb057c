// PartitionLog::maintain: time-based roll, retention by size and by time, time-based flush.
#include <catch2/catch.hpp>

#include "tests/storage/log_fixture.h"

using namespace strata;
using namespace strata::testing;

TEST_CASE("retention.bytes deletes the oldest whole segments, never the active one") {
  LogFixture f;
  f.config.segment_bytes = 1000;
  f.config.retention_bytes = 3000;
  f.open();
  for (int i = 0; i < 100; ++i) f.append(2, 50);
  uint64_t size_before = f.log->size_bytes();
  REQUIRE(size_before > 9000);
  REQUIRE(f.log->maintain(f.rt.wall_clock_ms()).is_ok());
  std::vector<SegmentInfo> segs = f.log->segments();
  // Kafka's rule: delete while (size − oldest segment) ≥ retention.bytes.
  CHECK(f.log->size_bytes() - segs.front().size_bytes < 3000);
  CHECK(f.log->size_bytes() >= 3000);
  CHECK(f.log->log_start_offset() == segs.front().base_offset);
  CHECK(f.log->log_end_offset() == Offset{200});
  CHECK(f.rt.count_log(LogLevel::kInfo, "retention.bytes") > 0);
  Offset start = f.log->log_start_offset();
  CHECK(f.log->read(start - 1, 100, Offset{200}).status().code() == StatusCode::kOutOfRange);
  f.check_whole_log_readable();
  // The new log start survives a crash (it was checkpointed).
  REQUIRE(f.log->flush().is_ok());
  f.crash();
  f.open();
  CHECK(f.log->log_start_offset() == start);

  SECTION("a tiny limit still keeps the active segment") {
    f.log.reset();
    f.config.retention_bytes = 0;
    f.open();
    REQUIRE(f.log->maintain(f.rt.wall_clock_ms()).is_ok());
    CHECK(f.log->segments().size() == 1);
    CHECK(f.log->log_end_offset() == Offset{200});
  }
}

TEST_CASE("retention.ms deletes segments whose newest record is too old") {
  LogFixture f;
  f.config.segment_bytes = 500;
  f.config.retention_ms = 3600'000;  // one hour
  f.open();
  // Two hours of traffic, one append a minute (record timestamps = the wall clock).
  for (int minute = 0; minute < 120; ++minute) {
    f.append(1, 100);
    f.rt.advance_ms(60'000);
  }
  int64_t now = f.rt.wall_clock_ms();
  REQUIRE(f.log->maintain(now).is_ok());
  for (const SegmentInfo& s : f.log->segments()) {
    if (s.base_offset == f.log->segments().back().base_offset) break;
    CHECK(now - s.max_timestamp_ms <= 3600'000);
  }
  // Offsets written in the last hour are all still there; the oldest are gone.
  CHECK(f.log->log_start_offset() > Offset{30});
  CHECK(f.log->log_start_offset() <= Offset{61});
  CHECK(f.rt.count_log(LogLevel::kInfo, "retention.ms") > 0);

  SECTION("the active segment is kept even when everything is old") {
    f.rt.advance_ms(10 * 3600'000);
    REQUIRE(f.log->maintain(f.rt.wall_clock_ms()).is_ok());
    CHECK(f.log->segments().size() <= 2);  // the time roll may have added an empty active one
    CHECK(f.log->log_end_offset() == Offset{120});
  }
  SECTION("retention.ms = -1 keeps everything") {
    f.log.reset();
    f.config.retention_ms = -1;
    f.open();
    Offset start = f.log->log_start_offset();
    f.rt.advance_ms(100 * 3600'000);
    REQUIRE(f.log->maintain(f.rt.wall_clock_ms()).is_ok());
    CHECK(f.log->log_start_offset() == start);
  }
}

TEST_CASE("segment.ms rolls an old active segment, at append or at maintain") {
  LogFixture f;
  f.config.segment_ms = 10'000;
  f.open();
  f.append(1);
  f.rt.advance_ms(5'000);
  f.append(1);
  CHECK(f.log->segments().size() == 1);
  f.rt.advance_ms(5'000);
  f.append(1);  // the active segment is now 10 s old: this append starts a new one
  REQUIRE(f.log->segments().size() == 2);
  CHECK(f.log->segments().back().base_offset == Offset{2});
  f.rt.advance_ms(10'000);
  REQUIRE(f.log->maintain(f.rt.wall_clock_ms()).is_ok());
  REQUIRE(f.log->segments().size() == 3);
  CHECK(f.log->segments().back().base_offset == Offset{3});
  // An empty active segment is never rolled.
  f.rt.advance_ms(60'000);
  REQUIRE(f.log->maintain(f.rt.wall_clock_ms()).is_ok());
  CHECK(f.log->segments().size() == 3);
}

TEST_CASE("flush.ms syncs on maintain and checkpoints the recovery point") {
  LogFixture f;
  f.config.flush_interval_ms = 1'000;
  f.open();
  f.append(5);
  CHECK(f.fs().unsynced_bytes() > 0);
  REQUIRE(f.log->maintain(f.rt.wall_clock_ms()).is_ok());
  CHECK(f.fs().unsynced_bytes() > 0);  // not yet due
  f.rt.advance_ms(1'000);
  REQUIRE(f.log->maintain(f.rt.wall_clock_ms()).is_ok());
  CHECK(f.fs().unsynced_bytes() == 0);
  CHECK(f.log->recovery_point() == Offset{5});
  f.append(5);
  f.crash();
  f.open();
  CHECK(f.log->log_end_offset() == Offset{5});
}

TEST_CASE("delete_records_before removes segments wholly below the new log start") {
  LogFixture f;
  f.config.segment_bytes = 300;
  f.open();
  for (int i = 0; i < 20; ++i) f.append(2);  // about 2 batches per segment
  size_t before = f.log->segments().size();
  REQUIRE(f.log->delete_records_before(Offset{21}).is_ok());
  CHECK(f.log->log_start_offset() == Offset{21});
  CHECK(f.log->segments().front().base_offset <= Offset{21});
  CHECK(f.log->segments().front().next_offset > Offset{21});
  CHECK(f.log->segments().size() < before);
  REQUIRE(f.log->delete_records_before(Offset{10}).is_ok());  // backwards: no-op
  CHECK(f.log->log_start_offset() == Offset{21});
  // Up to the log end: everything but the active segment goes.
  REQUIRE(f.log->delete_records_before(Offset{40}).is_ok());
  CHECK(f.log->segments().size() == 1);
  CHECK(f.read(Offset{40}).records.empty());
  CHECK(f.append(1).first_offset == Offset{40});
}

TEST_CASE("roll_and_flush rolls and flushes but leaves retention to maintain") {
  LogFixture f;
  f.config.segment_bytes = 1000;
  f.config.retention_bytes = 3000;
  f.config.flush_interval_ms = 1000;
  f.open();
  for (int i = 0; i < 100; ++i) f.append(2, 50);
  size_t segments = f.log->segments().size();
  f.rt.advance_ms(2000);
  REQUIRE(f.log->roll_and_flush(f.rt.wall_clock_ms()).is_ok());
  CHECK(f.log->segments().size() == segments);       // nothing deleted
  CHECK(f.log->log_start_offset() == Offset{0});
  CHECK(f.log->recovery_point() == Offset{200});      // but flushed
  REQUIRE(f.log->maintain(f.rt.wall_clock_ms()).is_ok());
  CHECK(f.log->log_start_offset() > Offset{0});       // retention ran
}
