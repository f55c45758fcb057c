// PartitionLog: appends, reads, timestamps, truncation and reopening.
#include <catch2/catch.hpp>

#include "tests/storage/log_fixture.h"

using namespace strata;
using namespace strata::testing;

TEST_CASE("append assigns offsets and stamps the epoch, a read returns the batches as stored") {
  LogFixture f;
  f.open();
  CHECK(f.log->log_end_offset() == Offset{0});
  AppendResult a = f.append(5);
  AppendResult b = f.append(5);
  CHECK(a.first_offset == Offset{0});
  CHECK(a.last_offset == Offset{4});
  CHECK(b.first_offset == Offset{5});
  CHECK(b.last_offset == Offset{9});
  CHECK(b.log_append_time_ms == -1);
  CHECK(b.log_start_offset == Offset{0});

  // Two batches in one call.
  Bytes two = make_batch(3);
  Bytes second = make_batch(2);
  two.insert(two.end(), second.begin(), second.end());
  AppendResult c = f.append(two);
  CHECK(c.first_offset == Offset{10});
  CHECK(c.last_offset == Offset{14});
  CHECK(f.log->log_end_offset() == Offset{15});

  ReadResult r = f.read(Offset{0});
  std::vector<StoredBatchHeader> hs = batches_in(r.records);
  REQUIRE(hs.size() == 4);
  CHECK(hs[0].base() == Offset{0});
  CHECK(hs[1].base() == Offset{5});
  CHECK(hs[2].base() == Offset{10});
  CHECK(hs[3].base() == Offset{13});
  CHECK(hs[3].leader_epoch == 3);
  CHECK(r.next_offset == Offset{15});
  CHECK(r.log_end_offset == Offset{15});

  // A fetch from inside a batch starts with that whole batch.
  ReadResult mid = f.read(Offset{7});
  CHECK(mid.first_offset == Offset{5});
  CHECK(batches_in(mid.records).size() == 3);
}

TEST_CASE("many small segments: every offset reads back through the indexes") {
  LogFixture f;
  f.config.segment_bytes = 1000;
  f.config.index_interval_bytes = 150;
  f.open();
  int64_t expected_end = 0;
  for (int i = 0; i < 300; ++i) {
    int32_t records = 1 + i % 7;
    AppendResult a = f.append(records, size_t(i % 40));
    REQUIRE(a.first_offset == Offset{expected_end});
    expected_end += records;
  }
  CHECK(f.log->log_end_offset() == Offset{expected_end});
  std::vector<SegmentInfo> segs = f.log->segments();
  CHECK(segs.size() > 30);
  for (size_t i = 0; i + 1 < segs.size(); ++i) {
    CHECK(segs[i].next_offset == segs[i + 1].base_offset);
    CHECK(segs[i].size_bytes <= 1000);
  }
  for (int64_t o = 0; o < expected_end; ++o) {
    ReadResult r = f.read(Offset{o}, 1);
    std::vector<StoredBatchHeader> hs = batches_in(r.records);
    REQUIRE(hs.size() == 1);
    REQUIRE(hs[0].base() <= Offset{o});
    REQUIRE(hs[0].last() >= Offset{o});
  }
  f.check_whole_log_readable();
}

TEST_CASE("KIP-74: the first batch is returned even if larger than max_bytes") {
  LogFixture f;
  f.open();
  Bytes big = make_batch(4, f.rt.wall_clock_ms(), 500);
  f.append(big);
  f.append(big);
  ReadResult r = f.read(Offset{0}, 10);
  CHECK(r.batch_count == 1);
  CHECK(r.records.size() == big.size());
  CHECK(r.next_offset == Offset{4});
  // Exactly two batches' worth fits two; one byte less fits one.
  CHECK(f.read(Offset{0}, int32_t(2 * big.size())).batch_count == 2);
  CHECK(f.read(Offset{0}, int32_t(2 * big.size() - 1)).batch_count == 1);
}

TEST_CASE("reads never return batches at or beyond max_offset_exclusive") {
  LogFixture f;
  f.open();
  for (int i = 0; i < 4; ++i) f.append(5);  // batches [0,4] [5,9] [10,14] [15,19]
  ReadResult r = f.read(Offset{0}, 1 << 20, Offset{10});
  std::vector<StoredBatchHeader> hs = batches_in(r.records);
  REQUIRE(hs.size() == 2);
  CHECK(hs.back().last() == Offset{9});
  CHECK(r.next_offset == Offset{10});
  // The high watermark inside a batch keeps the whole batch back.
  CHECK(batches_in(f.read(Offset{0}, 1 << 20, Offset{12}).records).size() == 2);
  // Fetching at the bound returns nothing (a long poll would wait).
  ReadResult at_hw = f.read(Offset{10}, 1 << 20, Offset{10});
  CHECK(at_hw.records.empty());
  CHECK(at_hw.next_offset == Offset{10});
}

TEST_CASE("offsets outside [log start, log end] are out of range") {
  LogFixture f;
  f.open();
  for (int i = 0; i < 4; ++i) f.append(5);
  CHECK(f.log->read(Offset{21}, 100, Offset{20}).status().code() == StatusCode::kOutOfRange);
  CHECK(f.log->read(Offset{-1}, 100, Offset{20}).status().code() == StatusCode::kOutOfRange);
  ReadResult at_end = f.read(Offset{20});
  CHECK(at_end.records.empty());
  REQUIRE(f.log->delete_records_before(Offset{7}).is_ok());
  CHECK(f.log->log_start_offset() == Offset{7});
  CHECK(f.log->read(Offset{6}, 100, Offset{20}).status().code() == StatusCode::kOutOfRange);
  CHECK(f.read(Offset{7}).first_offset == Offset{5});  // the batch holding 7 starts at 5
  CHECK(f.log->delete_records_before(Offset{21}).code() == StatusCode::kOutOfRange);
}

TEST_CASE("offset_for_timestamp finds the first record at or after a time") {
  LogFixture f;
  f.config.segment_bytes = 400;
  f.config.index_interval_bytes = 0;  // an index entry for every batch
  f.open();
  // Batch i holds 5 records with timestamps 1000*i + 0..4 (step 1).
  for (int64_t i = 0; i < 20; ++i) f.append(make_batch(5, 1000 * i));
  CHECK(f.log->segments().size() > 3);
  auto at = [&](int64_t ts) { return f.log->offset_for_timestamp(ts).value(); };
  REQUIRE(at(-5).has_value());
  CHECK(at(-5)->offset == Offset{0});
  CHECK(at(0)->offset == Offset{0});
  CHECK(at(3)->offset == Offset{3});
  CHECK(at(3)->timestamp_ms == 3);
  CHECK(at(5)->offset == Offset{5});  // 5..999 fall between batches: the next batch's first
  CHECK(at(7003)->offset == Offset{38});
  CHECK(at(19004)->offset == Offset{99});
  CHECK_FALSE(at(19005).has_value());
  REQUIRE(f.log->delete_records_before(Offset{42}).is_ok());
  CHECK(at(0)->offset == Offset{42});
  // Survives a reopen (the time indexes are reloaded, not rebuilt).
  f.reopen_after_clean_close();
  CHECK(at(7003)->offset == Offset{42});
  CHECK(at(12001)->offset == Offset{61});
  CHECK(f.rt.count_log(LogLevel::kWarn) == 0);
}

TEST_CASE("reopen after a clean close: same log, no recovery, appends continue") {
  LogFixture f;
  f.config.segment_bytes = 600;
  f.open();
  for (int i = 0; i < 40; ++i) f.append(3);
  REQUIRE(f.log->delete_records_before(Offset{30}).is_ok());
  ReadResult before = f.read(Offset{30});
  size_t segments = f.log->segments().size();
  f.reopen_after_clean_close();
  CHECK(f.log->log_end_offset() == Offset{120});
  CHECK(f.log->log_start_offset() == Offset{30});
  CHECK(f.log->segments().size() == segments);
  CHECK(f.read(Offset{30}).records == before.records);
  CHECK(f.rt.count_log(LogLevel::kWarn) == 0);
  CHECK(f.append(2).first_offset == Offset{120});
  f.check_whole_log_readable();
  // A closed log refuses work.
  REQUIRE(f.log->close().is_ok());
  Bytes one = make_batch(1);
  CHECK(f.log->append(one, f.epoch, 0).status().code() == StatusCode::kClosed);
}

TEST_CASE("truncate_to cuts whole batches, across segments, durably") {
  LogFixture f;
  f.config.segment_bytes = 500;
  f.config.index_interval_bytes = 0;
  f.open();
  for (int i = 0; i < 30; ++i) f.append(4);  // batch i holds [4i, 4i+3]
  size_t segments_before = f.log->segments().size();
  REQUIRE(f.log->truncate_to(Offset{40}).is_ok());
  CHECK(f.log->log_end_offset() == Offset{40});
  CHECK(f.log->segments().size() < segments_before);
  f.check_whole_log_readable();
  // A cut inside a batch removes that batch entirely.
  REQUIRE(f.log->truncate_to(Offset{38}).is_ok());
  CHECK(f.log->log_end_offset() == Offset{36});
  CHECK(f.append(1).first_offset == Offset{36});
  // Durable without close: a crash keeps the truncation.
  REQUIRE(f.log->flush().is_ok());
  f.crash();
  f.open();
  CHECK(f.log->log_end_offset() == Offset{37});
  f.check_whole_log_readable();
  CHECK(f.log->offset_for_timestamp(0).value()->offset == Offset{0});
}

TEST_CASE("a read resumes where the last one stopped, and a cut forgets where that was") {
  LogFixture f;
  f.open();
  for (int i = 0; i < 3; ++i) f.append(4);  // [0, 3] [4, 7] [8, 11]
  // One batch per read: each resumes at the byte where the previous one stopped.
  Offset next{0};
  for (int i = 0; i < 3; ++i) {
    ReadResult r = f.read(next, 1);
    CHECK(r.first_offset == Offset{4 * i});
    CHECK(r.batch_count == 1);
    next = r.next_offset;
  }
  REQUIRE(f.read(Offset{0}, 1).next_offset == Offset{4});
  REQUIRE(f.read(Offset{4}, 1).next_offset == Offset{8});  // stopped before [8, 11]
  // Cut at 4 and append one longer batch [4, 13]: offset 8 now lies inside it, and the
  // byte where the last read stopped is in its middle.
  REQUIRE(f.log->truncate_to(Offset{4}).is_ok());
  CHECK(f.append(10, 50).first_offset == Offset{4});
  ReadResult r = f.read(Offset{8}, 1);
  CHECK(r.first_offset == Offset{4});
  CHECK(r.next_offset == Offset{14});
  f.check_whole_log_readable();
}

TEST_CASE("truncate_fully_and_start_at restarts an empty log at a new offset") {
  LogFixture f;
  f.open();
  for (int i = 0; i < 5; ++i) f.append(2);
  REQUIRE(f.log->truncate_fully_and_start_at(Offset{1000}).is_ok());
  CHECK(f.log->log_start_offset() == Offset{1000});
  CHECK(f.log->log_end_offset() == Offset{1000});
  CHECK(f.append(3).first_offset == Offset{1000});
  f.crash();
  f.open();
  CHECK(f.log->log_start_offset() == Offset{1000});
  CHECK(f.log->log_end_offset() == Offset{1000});  // the append was never flushed
  CHECK(f.log->segments().front().base_offset == Offset{1000});
}

TEST_CASE("flush.messages = 1 syncs every append, LogAppendTime is reported") {
  LogFixture f;
  f.config.flush_interval_messages = 1;
  f.open();
  f.append(3);
  CHECK(f.fs().unsynced_bytes() == 0);
  CHECK(f.log->recovery_point() == Offset{3});
  BatchSpec spec;
  spec.attributes = batch_format::kTimestampTypeBit;
  AppendResult r = f.append(make_batch(spec));
  CHECK(r.log_append_time_ms == f.rt.wall_clock_ms());
}

TEST_CASE("a failed write stops the log until it is reopened") {
  LogFixture f;
  f.open();
  f.append(2);
  f.fs().fail_next_ops(1, MemFileSystem::kFaultWrite);
  Bytes batch = make_batch(1);
  CHECK(f.log->append(batch, f.epoch, 0).status().code() == StatusCode::kIoError);
  CHECK(f.log->append(batch, f.epoch, 0).status().code() == StatusCode::kIoError);
  CHECK(f.rt.count_log(LogLevel::kError, f.dir) == 1);
  f.log.reset();
  f.open();
  CHECK(f.log->log_end_offset() == Offset{2});
  CHECK(f.append(1).first_offset == Offset{2});
}
