// The per-partition sequence table of idempotent producers (engine/storage/producer_state.h)
// and its clean-shutdown snapshot.
#include "engine/storage/producer_state.h"

#include <catch2/catch.hpp>

#include <climits>

#include "engine/runtime/mem_fs.h"

using namespace strata;
using proto::ErrorCode;

namespace {

ProducerBatch batch_at(int32_t first_seq, int32_t last_seq, int64_t first_offset) {
  return {first_seq, last_seq, first_offset, first_offset + (last_seq - first_seq), -1};
}

bool same(const ProducerStateTable& a, const ProducerStateTable& b) {
  if (a.producers() != b.producers()) return false;
  for (const auto& [pid, e] : a.entries()) {
    const ProducerEntry* o = b.find(pid);
    if (o == nullptr || o->epoch != e.epoch || o->batches.size() != e.batches.size() ||
        o->last_timestamp_ms != e.last_timestamp_ms) {
      return false;
    }
    for (size_t i = 0; i < e.batches.size(); ++i) {
      const ProducerBatch &x = e.batches[i], &y = o->batches[i];
      if (x.first_seq != y.first_seq || x.last_seq != y.last_seq ||
          x.first_offset != y.first_offset || x.last_offset != y.last_offset ||
          x.timestamp_ms != y.timestamp_ms) {
        return false;
      }
    }
  }
  return true;
}

ProducerStateTable sample_table() {
  ProducerStateTable t;
  for (int32_t i = 0; i < 7; ++i) {
    t.record(3, 0, batch_at(i * 4, i * 4 + 3, 100 + i * 4), 1000 + i);
  }
  t.record(9, 2, {INT32_MAX, 1, 500, 502, 1'700'000'000'000}, 1'700'000'000'123);
  return t;
}

}  // namespace

TEST_CASE("sequence table: in order appends, duplicates in the window, gaps and fencing") {
  ProducerStateTable t;
  CHECK(t.check(7, 0, 0, 4).append());
  t.record(7, 0, batch_at(0, 4, 100), 1000);
  CHECK(t.check(7, 0, 5, 9).append());
  t.record(7, 0, batch_at(5, 9, 105), 1000);

  SequenceCheck dup = t.check(7, 0, 0, 4);
  REQUIRE(dup.duplicate != nullptr);
  CHECK(dup.duplicate->first_offset == 100);
  CHECK(dup.error == ErrorCode::kNone);
  CHECK_FALSE(dup.append());

  CHECK(t.check(7, 0, 11, 12).error == ErrorCode::kOutOfOrderSequenceNumber);  // 10 missing
  CHECK(t.check(7, 0, 3, 6).error == ErrorCode::kOutOfOrderSequenceNumber);    // overlaps
  CHECK(t.check(7, 1, 3, 6).error == ErrorCode::kOutOfOrderSequenceNumber);    // new epoch, not 0
  CHECK(t.check(7, 1, 0, 0).append());                                         // new epoch at 0
  t.record(7, 1, batch_at(0, 0, 110), 1000);
  CHECK(t.check(7, 0, 10, 10).error == ErrorCode::kInvalidProducerEpoch);      // fenced
  CHECK(t.find(7)->epoch == 1);
  CHECK(t.find(7)->batches.size() == 1);

  // A producer this partition knows nothing of may start anywhere (its batches were deleted).
  CHECK(t.check(8, 3, 12345, 12350).append());
  CHECK(t.producers() == 1);
}

TEST_CASE(
    "sequence table: keeps five batches, and an older retry is OUT_OF_ORDER_SEQUENCE_NUMBER") {
  ProducerStateTable t;
  for (int32_t i = 0; i < 8; ++i) {
    t.record(1, 0, batch_at(i * 10, i * 10 + 9, i * 10), 1000);
  }
  REQUIRE(t.find(1)->batches.size() == ProducerStateTable::kBatchesRetained);
  CHECK(t.check(1, 0, 30, 39).duplicate != nullptr);  // oldest retained
  SequenceCheck old = t.check(1, 0, 20, 29);
  CHECK(old.duplicate == nullptr);
  CHECK(old.error == ErrorCode::kOutOfOrderSequenceNumber);  // never acked as delivered
  CHECK(t.check(1, 0, 80, 89).append());
}

TEST_CASE("sequence table: producers idle for producer.id.expiration.ms are forgotten") {
  ProducerStateTable t;
  t.record(1, 0, batch_at(0, 9, 0), 1000);
  t.record(2, 0, batch_at(0, 9, 10), 5000);
  CHECK(t.expire(5999, 5000) == 0);  // producer 1 idle 4999 ms
  CHECK(t.expire(6000, 5000) == 1);  // ... and now 5000 ms
  CHECK(t.find(1) == nullptr);
  CHECK(t.find(2) != nullptr);
  CHECK(t.expire(9999, 5000) == 0);
  CHECK(t.expire(10000, 5000) == 1);
  CHECK(t.producers() == 0);
  // Forgotten: its next batch is taken at any sequence, like a new producer's.
  CHECK(t.check(2, 0, 40, 49).append());
}

TEST_CASE("sequence table: sequences wrap from INT32_MAX to 0") {
  CHECK(next_sequence(INT32_MAX) == 0);
  CHECK(last_sequence(INT32_MAX - 1, 4) == 1);
  CHECK(last_sequence(0, 1) == 0);
  ProducerStateTable t;
  t.record(1, 0, batch_at(INT32_MAX - 3, INT32_MAX, 0), 1000);
  CHECK(t.check(1, 0, 0, 9).append());
  t.record(1, 0, {0, 9, 4, 13, -1}, 1000);
  CHECK(t.check(1, 0, INT32_MAX - 3, INT32_MAX).duplicate != nullptr);
  CHECK(t.check(1, 0, 11, 12).error == ErrorCode::kOutOfOrderSequenceNumber);
}

TEST_CASE("producer snapshot: the newest at or below the log end is loaded, and kept") {
  MemFileSystem fs;
  REQUIRE(fs.create_dirs("/p").is_ok());
  ProducerStateTable t = sample_table();
  REQUIRE(write_producer_snapshot(fs, "/p", Offset(503), t).is_ok());
  CHECK(fs.exists("/p/00000000000000000503.snapshot"));
  auto read = load_producer_snapshot(fs, "/p", Offset(503));
  REQUIRE(read.is_ok());
  CHECK(read->notes.empty());
  CHECK(read->scan_from == Offset(503));
  CHECK(same(read->table, t));
  CHECK(read->table.find(3)->batches.size() == ProducerStateTable::kBatchesRetained);
  auto later = load_producer_snapshot(fs, "/p", Offset(900));  // the log grew after it
  REQUIRE(later.is_ok());
  CHECK(later->scan_from == Offset(503));
  CHECK(same(later->table, t));

  MemFileSystem empty;
  REQUIRE(empty.create_dirs("/p").is_ok());
  auto none = load_producer_snapshot(empty, "/p", Offset(10));
  REQUIRE(none.is_ok());
  CHECK(none->scan_from == Offset(0));
  CHECK(none->table.producers() == 0);
  CHECK(none->notes.empty());
}

TEST_CASE("producer snapshot: two are kept, one above the log end is removed, a damaged one "
          "gives way to the one before") {
  MemFileSystem fs;
  REQUIRE(fs.create_dirs("/p").is_ok());
  ProducerStateTable t = sample_table();
  for (int64_t at : {100, 200, 300}) {
    REQUIRE(write_producer_snapshot(fs, "/p", Offset(at), t).is_ok());
  }
  CHECK_FALSE(fs.exists("/p/00000000000000000100.snapshot"));
  CHECK(fs.exists("/p/00000000000000000200.snapshot"));

  // A crash took the log back below 300: that snapshot describes batches that are gone.
  auto r = load_producer_snapshot(fs, "/p", Offset(250));
  REQUIRE(r.is_ok());
  CHECK(r->scan_from == Offset(200));
  REQUIRE(r->notes.size() == 1);
  CHECK(r->notes[0].find("00000000000000000300.snapshot: above the log end 250") !=
        std::string::npos);
  CHECK_FALSE(fs.exists("/p/00000000000000000300.snapshot"));

  REQUIRE(write_producer_snapshot(fs, "/p", Offset(300), t).is_ok());
  auto text = read_file_text(fs, "/p/00000000000000000300.snapshot");
  REQUIRE(text.is_ok());
  for (size_t at : {size_t(0), size_t(11), text->size() / 2, text->size() - 1}) {
    std::string bad = *text;
    bad[at] = char(bad[at] ^ 0x20);
    auto f = fs.open("/p/00000000000000000300.snapshot", OpenMode::kCreateTruncate);
    REQUIRE(f.is_ok());
    REQUIRE((*f)->append(as_bytes(bad)).is_ok());
    auto d = load_producer_snapshot(fs, "/p", Offset(300));
    REQUIRE(d.is_ok());
    CHECK(d->scan_from == Offset(200));
    REQUIRE(d->notes.size() == 1);
    CHECK(d->notes[0].find("CRC-32C mismatch") != std::string::npos);
  }
  auto f = fs.open("/p/00000000000000000300.snapshot", OpenMode::kCreateTruncate);  // short
  REQUIRE(f.is_ok());
  REQUIRE((*f)->append(as_bytes(text->substr(0, 9))).is_ok());
  auto d = load_producer_snapshot(fs, "/p", Offset(300));
  REQUIRE(d.is_ok());
  CHECK(d->notes.at(0).find("shorter than its header") != std::string::npos);
  // Renamed: its content names another offset than its file name.
  REQUIRE(fs.rename("/p/00000000000000000200.snapshot", "/p/00000000000000000250.snapshot")
              .is_ok());
  auto moved = load_producer_snapshot(fs, "/p", Offset(260));
  REQUIRE(moved.is_ok());
  CHECK(moved->scan_from == Offset(0));
  CHECK(moved->notes.back().find("says offset 200, its name 250") != std::string::npos);
}

TEST_CASE("producer snapshot: not synced, so a machine crash may take it, never corrupt it") {
  MemFileSystem fs;
  REQUIRE(fs.create_dirs("/p").is_ok());
  REQUIRE(fs.sync_dir("/").is_ok());
  REQUIRE(write_producer_snapshot(fs, "/p", Offset(503), sample_table()).is_ok());
  fs.crash();
  auto r = load_producer_snapshot(fs, "/p", Offset(503));
  REQUIRE(r.is_ok());
  CHECK(r->scan_from == Offset(0));  // the rename was never made durable
  CHECK(r->table.producers() == 0);
}
