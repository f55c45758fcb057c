// The log cleaner: compaction keeps every key's latest record at its offset, tombstones live
// for delete.retention.ms, producers' last batches survive, and a crash anywhere in a clean
// loses nothing. Keyed batches come from the protocol's builder (storage links it anyway).
#include <catch2/catch.hpp>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/protocol/record_batch.h"
#include "tests/storage/log_fixture.h"

using namespace strata;
using namespace strata::testing;

namespace {

struct KV {
  std::string key;
  std::optional<std::string> value;  // nullopt: a tombstone
};

struct Stored {
  std::string key;
  std::optional<std::string> value;
  bool operator==(const Stored&) const = default;
};

Bytes keyed_batch(const std::vector<KV>& records, int64_t timestamp_ms,
                  BatchBuilderOptions options = {}) {
  RecordBatchBuilder b(options);
  for (const KV& r : records) {
    std::optional<ByteSpan> value;
    if (r.value) value = as_bytes(*r.value);
    b.add(timestamp_ms, as_bytes(r.key), value);
  }
  Result<Bytes> out = b.build();
  REQUIRE(out.is_ok());
  return std::move(out).value();
}

std::string text(ByteSpan b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

// Every record in the log by offset, decoded; also checks batch headers on the way.
std::map<int64_t, Stored> contents(LogFixture& f, std::vector<BatchHeader>* headers = nullptr) {
  std::map<int64_t, Stored> out;
  Offset next = f.log->log_start_offset();
  while (next < f.log->log_end_offset()) {
    ReadResult r = f.read(next);
    INFO("reading at " << next.value());
    REQUIRE(r.batch_count > 0);
    BatchSplitter batches(r.records);
    while (std::optional<ByteSpan> batch = batches.next()) {
      Result<BatchHeader> h = parse_batch_header(*batch);
      REQUIRE(h.is_ok());
      REQUIRE(h->last() >= next);
      if (headers) headers->push_back(*h);
      Result<std::vector<Record>> records = decode_records(*batch);
      INFO(records.status().to_string());
      REQUIRE(records.is_ok());
      for (const Record& rec : *records) {
        std::optional<std::string> value;
        if (rec.value) value = text(*rec.value);
        out[h->base_offset + rec.offset_delta] = Stored{text(*rec.key), value};
      }
      next = h->last() + 1;
    }
  }
  return out;
}

// Runs clean steps until the pass is done.
CleanStats clean(LogFixture& f, const CleanOptions& options = {}) {
  CleanStats total;
  for (int step = 0; step < 1000; ++step) {
    Result<CleanStats> s = f.log->clean_step(f.rt.wall_clock_ms(), options);
    INFO(s.status().to_string());
    REQUIRE(s.is_ok());
    total.add(*s);
    if (s->pass_done) return total;
  }
  FAIL("a clean pass did not finish");
  return total;
}

// What compaction must leave of `all` below `end`: the last record of each key; at or above
// `end` everything.
std::map<int64_t, Stored> compacted(const std::map<int64_t, Stored>& all, int64_t end) {
  std::map<std::string, int64_t> last;
  for (const auto& [offset, s] : all) {
    if (offset < end) last[s.key] = offset;
  }
  std::map<int64_t, Stored> out;
  for (const auto& [offset, s] : all) {
    if (offset >= end || last[s.key] == offset) out[offset] = s;
  }
  return out;
}

bool has_cleaned_file(LogFixture& f) {
  Result<std::vector<std::string>> names = f.fs().list_dir(f.dir);
  REQUIRE(names.is_ok());
  for (const std::string& n : *names) {
    if (n == log_format::kCleaningDir) return true;
  }
  return false;
}

struct CompactedLog : LogFixture {
  CompactedLog() {
    config.cleanup_compact = true;
    config.cleanup_delete = false;
    config.segment_bytes = 600;
    config.index_interval_bytes = 100;
    config.min_cleanable_dirty_ratio = 0.0;
  }
  // `count` one-record batches over `keys` keys, values "v<offset>"; returns what was written.
  void write(int count, int keys) {
    for (int i = 0; i < count; ++i) {
      int64_t offset = log->log_end_offset().value();
      std::string key = "k" + std::to_string((offset * 7) % keys);
      std::string value = "v" + std::to_string(offset);
      append(keyed_batch({{key, value}}, rt.wall_clock_ms()));
      written[offset] = Stored{key, value};
    }
  }
  std::map<int64_t, Stored> written;
};

}  // namespace

TEST_CASE("cleaner: every key keeps its latest record, at its offset, below the active segment") {
  CompactedLog f;
  f.open();
  f.write(200, 10);
  size_t segments_before = f.log->segments().size();
  REQUIRE(segments_before > 10);
  Offset end = f.log->segments().back().base_offset;
  std::optional<CleanableRange> range = f.log->cleanable_range(f.rt.wall_clock_ms());
  REQUIRE(range);
  CHECK(range->first_dirty == Offset{0});
  CHECK(range->end == end);
  CHECK(range->dirty_ratio() == 1.0);

  CleanStats stats = clean(f);
  CHECK(stats.keys_mapped == 10);
  CHECK(stats.records_in == end.value());
  CHECK(stats.records_removed == end.value() - 10);
  CHECK(f.log->cleaner_point() == end);
  CHECK(f.log->log_end_offset() == Offset{200});
  CHECK(f.log->log_start_offset() == Offset{0});
  std::map<int64_t, Stored> expected = compacted(f.written, end.value());
  CHECK(contents(f) == expected);
  CHECK_FALSE(f.log->cleanable_range(f.rt.wall_clock_ms()));

  // Consumers at any offset, gaps included, get the next surviving batch.
  for (int64_t o = 0; o < 200; ++o) {
    ReadResult r = f.read(Offset{o}, 1);
    REQUIRE(r.batch_count == 1);
    std::vector<StoredBatchHeader> hs = batches_in(r.records);
    REQUIRE(hs[0].last() >= Offset{o});
  }

  // Holes between segments are legitimate after a clean shutdown and after a crash.
  f.reopen_after_clean_close();
  CHECK(contents(f) == expected);
  CHECK(f.log->cleaner_point() == end);
  f.crash();
  f.open();
  CHECK(contents(f) == expected);
  CHECK(f.log->log_end_offset() == Offset{200});

  // More writes make the log dirty again; the next pass cleans the clean section as well.
  f.write(100, 10);
  Offset end2 = f.log->segments().back().base_offset;
  clean(f);
  CHECK(contents(f) == compacted(f.written, end2.value()));
  // The small cleaned segments were merged: groups of up to segment.bytes of input.
  CHECK(f.log->segments().size() < segments_before);
}

TEST_CASE("cleaner: a tombstone stays until delete.retention.ms after the clean that kept it") {
  CompactedLog f;
  f.config.delete_retention_ms = 60000;
  f.open();
  f.append(keyed_batch({{"a", "1"}, {"b", "1"}}, f.rt.wall_clock_ms()));
  f.append(keyed_batch({{"a", std::nullopt}}, f.rt.wall_clock_ms()));
  f.write(30, 3);  // keys k0..k2, enough to roll past the tombstone
  clean(f);
  std::vector<BatchHeader> headers;
  std::map<int64_t, Stored> after = contents(f, &headers);
  REQUIRE(after.count(2) == 1);
  CHECK_FALSE(after.at(2).value);  // the tombstone is kept...
  CHECK(after.count(0) == 0);      // ...and the value it deletes is gone
  CHECK(after.at(1) == Stored{"b", "1"});
  bool horizon = false;
  for (const BatchHeader& h : headers) {
    if (h.base_offset == 2) {
      horizon = h.has_delete_horizon();
      CHECK(h.base_timestamp == f.rt.wall_clock_ms() + 60000);
    }
  }
  CHECK(horizon);

  // Before the horizon a second clean keeps it; after it the tombstone goes.
  f.write(20, 3);
  clean(f);
  CHECK(contents(f).count(2) == 1);
  f.rt.advance_ms(60001);
  f.write(20, 3);
  CleanStats stats = clean(f);
  CHECK(stats.tombstones_removed == 1);
  CHECK(contents(f).count(2) == 0);
  CHECK(contents(f).at(1) == Stored{"b", "1"});
}

TEST_CASE("cleaner: a rewritten batch keeps codec, offsets, producer and sequence") {
  CompactedLog f;
  f.config.segment_bytes = 100000;
  f.open();
  BatchBuilderOptions idem;
  idem.codec = Codec::kGzip;
  idem.producer_id = 7;
  idem.producer_epoch = 2;
  idem.base_sequence = 40;
  f.append(keyed_batch({{"x", "1"}, {"y", "1"}, {"z", "1"}}, f.rt.wall_clock_ms(), idem));
  BatchBuilderOptions other = idem;
  other.producer_id = 8;
  other.base_sequence = 0;
  f.append(keyed_batch({{"x", "2"}, {"y", "2"}}, f.rt.wall_clock_ms(), other));  // 3, 4
  BatchBuilderOptions third = other;
  third.base_sequence = 2;
  f.append(keyed_batch({{"x", "3"}, {"y", "3"}}, f.rt.wall_clock_ms(), third));  // 5, 6
  f.append(keyed_batch({{"w", "1"}}, f.rt.wall_clock_ms()));                     // 7
  REQUIRE(f.log->roll_and_flush(f.rt.wall_clock_ms() + f.config.segment_ms).is_ok());
  f.append(keyed_batch({{"w", "2"}}, f.rt.wall_clock_ms()));  // active

  CleanOptions options;
  // Producer 8's last batch is 5..6; its batch 3..4 may vanish.
  options.keep_empty_batch = [](int64_t pid, Offset last) { return pid == 8 && last == Offset{6}; };
  clean(f, options);
  std::vector<BatchHeader> headers;
  std::map<int64_t, Stored> after = contents(f, &headers);
  CHECK(after ==
        std::map<int64_t, Stored>{
            {2, {"z", "1"}}, {5, {"x", "3"}}, {6, {"y", "3"}}, {7, {"w", "1"}}, {8, {"w", "2"}}});
  REQUIRE(headers.size() == 4);
  CHECK(headers[0].base_offset == 0);
  CHECK(headers[0].last_offset_delta == 2);
  CHECK(headers[0].records_count == 1);
  CHECK(headers[0].codec() == Codec::kGzip);
  CHECK(headers[0].producer_id == 7);
  CHECK(headers[0].producer_epoch == 2);
  CHECK(headers[0].base_sequence == 40);
  CHECK(headers[0].leader_epoch == 3);
  CHECK(headers[1].base_offset == 5);  // 3..4 emptied and not producer 8's last: dropped
  CHECK(headers[1].records_count == 2);

  // Emptied but the producer's last batch: kept as a header with no records.
  f.append(keyed_batch({{"x", "4"}, {"y", "4"}}, f.rt.wall_clock_ms()));
  REQUIRE(f.log->roll_and_flush(f.rt.wall_clock_ms() + 2 * f.config.segment_ms).is_ok());
  f.append(keyed_batch({{"w", "3"}}, f.rt.wall_clock_ms()));
  clean(f, options);
  headers.clear();
  contents(f, &headers);
  bool empty_kept = false;
  for (const BatchHeader& h : headers) {
    if (h.base_offset == 5) {
      empty_kept = h.records_count == 0 && h.last_offset_delta == 1 && h.producer_id == 8 &&
                   h.base_sequence == 2 && !h.compressed();
    }
  }
  CHECK(empty_kept);
}

TEST_CASE("cleaner: min.compaction.lag.ms, the dirty ratio and cleanup.policy gate a pass") {
  CompactedLog f;
  f.config.min_compaction_lag_ms = 10000;
  f.open();
  f.write(100, 5);
  CHECK_FALSE(f.log->cleanable_range(f.rt.wall_clock_ms()));  // every record is too young
  f.rt.advance_ms(10001);
  f.write(30, 5);  // young again, but only the newer segments
  std::optional<CleanableRange> range = f.log->cleanable_range(f.rt.wall_clock_ms());
  REQUIRE(range);
  CHECK(range->end <= Offset{100});
  CleanStats stats = clean(f);
  CHECK(stats.records_removed > 0);
  std::map<int64_t, Stored> after = contents(f);
  for (int64_t o = range->end.value(); o < 130; ++o) CHECK(after.count(o) == 1);

  // A ratio of 1.0 never triggers on a log with a clean section.
  f.log->reconfigure([&] {
    LogConfig c = f.config;
    c.min_compaction_lag_ms = 0;
    c.min_cleanable_dirty_ratio = 0.99;
    return c;
  }());
  f.write(5, 5);
  range = f.log->cleanable_range(f.rt.wall_clock_ms());
  REQUIRE(range);
  CHECK(range->dirty_ratio() < 0.99);

  // cleanup.policy=delete only: nothing to clean, and retention applies again.
  LogConfig del = f.config;
  del.cleanup_compact = false;
  del.cleanup_delete = true;
  f.log->reconfigure(del);
  CHECK_FALSE(f.log->cleanable_range(f.rt.wall_clock_ms()));
}

TEST_CASE("cleaner: max.compaction.lag.ms makes a log overdue and rolls its active segment") {
  CompactedLog f;
  f.config.segment_bytes = 1 << 20;  // no roll by size
  f.config.max_compaction_lag_ms = 5000;
  f.open();
  f.write(10, 5);
  f.rt.advance_ms(4000);
  f.write(10, 5);  // the same segment's newest batch is young
  // The active segment rolls at max.compaction.lag.ms (segment.ms is a week), so that the
  // records in it can be cleaned in time.
  REQUIRE(f.log->maintain(f.rt.wall_clock_ms()).is_ok());
  CHECK(f.log->segments().size() == 1);
  f.rt.advance_ms(1001);
  REQUIRE(f.log->maintain(f.rt.wall_clock_ms()).is_ok());
  REQUIRE(f.log->segments().size() == 2);
  f.write(1, 5);
  // Overdue is measured from the segment's first batch (5001 ms old), not its newest (1001).
  std::optional<CleanableRange> range = f.log->cleanable_range(f.rt.wall_clock_ms());
  REQUIRE(range);
  CHECK(range->overdue);
  // Reopened, a segment knows its first batch's timestamp again (read from its first header).
  f.reopen_after_clean_close();
  range = f.log->cleanable_range(f.rt.wall_clock_ms());
  REQUIRE(range);
  CHECK(range->overdue);
  // Once cleaned, nothing is overdue until new dirty segments age.
  clean(f);
  CHECK_FALSE(f.log->cleanable_range(f.rt.wall_clock_ms()));
  // Without compaction the roll waits for segment.ms.
  LogConfig del = f.config;
  del.cleanup_compact = false;
  CHECK(del.roll_ms() == del.segment_ms);
  CHECK(f.config.roll_ms() == 5000);
}

TEST_CASE("cleaner: compact-only logs ignore retention.ms and retention.bytes") {
  CompactedLog f;
  f.config.retention_ms = 1;
  f.config.retention_bytes = 1;
  f.open();
  f.write(100, 5);
  f.rt.advance_ms(1000);
  REQUIRE(f.log->maintain(f.rt.wall_clock_ms()).is_ok());
  CHECK(f.log->log_start_offset() == Offset{0});
  LogConfig both = f.config;
  both.cleanup_delete = true;
  f.log->reconfigure(both);
  REQUIRE(f.log->maintain(f.rt.wall_clock_ms()).is_ok());
  CHECK(f.log->log_start_offset() > Offset{0});
}

TEST_CASE("cleaner: a crash at any file operation of a clean loses no latest record") {
  bool covered = false;
  int skip = 0;
  for (; skip < 400 && !covered; ++skip) {
    CAPTURE(skip);
    CompactedLog f;
    f.open();
    f.write(120, 6);
    Offset end = f.log->segments().back().base_offset;
    std::map<int64_t, Stored> expected = compacted(f.written, end.value());
    REQUIRE(f.log->flush().is_ok());  // what the crash may lose is the cleaner's, not ours
    // Reads are left alone: a failed read changes nothing on disk.
    f.fs().fail_next_ops(
        1, MemFileSystem::kFaultWrite | MemFileSystem::kFaultSync | MemFileSystem::kFaultMeta,
        skip);
    bool failed = false;
    for (int step = 0; step < 100 && !failed; ++step) {
      Result<CleanStats> s = f.log->clean_step(f.rt.wall_clock_ms(), {});
      failed = !s.is_ok();
      if (s.is_ok() && s->pass_done) break;
    }
    f.fs().fail_next_ops(0);
    f.crash();
    f.open();
    std::map<int64_t, Stored> after = contents(f);
    // Whatever was or was not swapped in, every surviving record is one that was written at
    // that offset, and every key's latest record is there.
    for (const auto& [offset, s] : after) REQUIRE(f.written.at(offset) == s);
    for (const auto& [offset, s] : expected) REQUIRE(after.count(offset) == 1);
    CHECK(f.log->log_end_offset() == Offset{120});
    std::vector<std::string> names = *f.fs().list_dir(f.dir);
    for (const std::string& n : names) {
      CHECK_FALSE(n == log_format::kCleaningDir);
      CHECK_FALSE(n.ends_with(".swap"));
    }
    // And the clean completes after the restart.
    clean(f);
    CHECK(contents(f) == expected);
    covered = !failed;  // the fault came after the whole pass: every step was covered
  }
  CHECK(covered);
  CHECK(skip > 20);
}

TEST_CASE("recovery: a leftover .swap replaces the segments it covers") {
  CompactedLog f;
  f.open();
  f.write(60, 4);
  std::vector<SegmentInfo> segs = f.log->segments();
  REQUIRE(segs.size() >= 4);
  // A swap for the group of the first two segments that kept all their records: their
  // bytes back to back. The crash came after the rename to .swap.
  Bytes swap;
  for (int i = 0; i < 2; ++i) {
    Result<uint64_t> size =
        f.fs().file_size(f.segment_path(segs[i].base_offset, log_format::FileKind::kLog));
    REQUIRE(size.is_ok());
    auto file = f.fs().open(f.segment_path(segs[i].base_offset, log_format::FileKind::kLog),
                            OpenMode::kReadOnly);
    REQUIRE(file.is_ok());
    Bytes part(*size);
    REQUIRE((*file)->read_at(0, part).is_ok());
    swap.insert(swap.end(), part.begin(), part.end());
  }
  REQUIRE(f.log->close().is_ok());
  f.log.reset();
  std::string swap_path = f.segment_path(segs[0].base_offset, log_format::FileKind::kLog) + ".swap";
  auto out = f.fs().open(swap_path, OpenMode::kCreateTruncate);
  REQUIRE(out.is_ok());
  REQUIRE((*out)->append(swap).is_ok());
  REQUIRE((*out)->sync().is_ok());
  REQUIRE(f.fs().sync_dir(f.dir).is_ok());
  out->reset();
  std::string cleaning = f.dir + "/" + std::string(log_format::kCleaningDir);
  REQUIRE(f.fs().create_dirs(cleaning).is_ok());
  auto junk = f.fs().open(cleaning + "/" + log_format::segment_file_name(
                                               segs[2].base_offset, log_format::FileKind::kLog),
                          OpenMode::kCreateTruncate);
  REQUIRE(junk.is_ok());
  junk->reset();
  f.open();
  CHECK(contents(f) == f.written);
  CHECK(f.log->segments().size() == segs.size() - 1);
  CHECK_FALSE(f.fs().exists(swap_path));
  CHECK_FALSE(f.fs().exists(f.segment_path(segs[1].base_offset, log_format::FileKind::kLog)));
  CHECK(f.rt.count_log(LogLevel::kWarn, "finished the interrupted swap") == 1);
  CHECK(f.rt.count_log(LogLevel::kWarn, "removing the unfinished cleaned segment") == 1);
  CHECK_FALSE(f.fs().exists(cleaning));
}

TEST_CASE("cleaner: a pass runs in bounded steps while the log takes appends and reads") {
  CompactedLog f;
  f.open();
  f.write(200, 10);
  Offset end = f.log->segments().back().base_offset;
  std::map<int64_t, Stored> expected = compacted(f.written, end.value());
  CleanOptions options;
  options.step_bytes_max = 1;  // one read (one batch here) per step
  int steps = 0;
  for (;; ++steps) {
    REQUIRE(steps < 2000);
    Result<CleanStats> s = f.log->clean_step(f.rt.wall_clock_ms(), options);
    REQUIRE(s.is_ok());
    if (s->pass_done) break;
    // Between steps: every key's latest record is readable at its offset, and the log takes
    // appends (which roll segments) without disturbing the pass.
    std::map<int64_t, Stored> now = contents(f);
    for (const auto& [offset, st] : expected) REQUIRE(now.count(offset) == 1);
    if (steps % 25 == 0) f.write(3, 10);
  }
  CHECK(steps > 200);  // a step per batch: the map, then the copy
  CHECK(f.log->cleaner_point() == end);
  std::map<int64_t, Stored> after = contents(f);
  for (const auto& [offset, st] : after) {
    CHECK(f.written.at(offset) == st);
    if (offset < end.value()) CHECK(expected.count(offset) == 1);
  }
  for (const auto& [offset, st] : expected) CHECK(after.count(offset) == 1);
  CHECK_FALSE(has_cleaned_file(f));
}

TEST_CASE("cleaner: a truncation between steps abandons the pass and its cleaned segment") {
  CompactedLog f;
  f.open();
  f.write(200, 10);
  CleanOptions options;
  options.step_bytes_max = 1;
  bool copying = false;
  for (int step = 0; step < 1000 && !copying; ++step) {
    REQUIRE(f.log->clean_step(f.rt.wall_clock_ms(), options).is_ok());
    copying = has_cleaned_file(f);
  }
  REQUIRE(copying);  // mid-group: a cleaned segment is being written
  REQUIRE(f.log->truncate_to(Offset{150}).is_ok());
  Result<CleanStats> s = f.log->clean_step(f.rt.wall_clock_ms(), options);
  REQUIRE(s.is_ok());
  CHECK(f.rt.count_log(LogLevel::kInfo, "the log changed under a clean pass") == 1);
  CHECK_FALSE(has_cleaned_file(f));
  // The pass that starts over cleans the truncated log.
  for (auto& [offset, st] : std::map<int64_t, Stored>(f.written)) {
    if (offset >= 150) f.written.erase(offset);
  }
  Offset end = f.log->segments().back().base_offset;
  clean(f);
  CHECK(contents(f) == compacted(f.written, end.value()));
}
