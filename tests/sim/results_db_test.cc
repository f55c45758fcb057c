// The SQLite results writer: a small run goes in, SQL queries get it back; a second run is
// appended to the same file, as a sweep does.
#include <catch2/catch.hpp>
#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "sim/results_db.h"

using namespace strata;
using namespace strata::sim;

namespace {

struct ScratchDb {
  std::string dir;
  std::string path;
  ScratchDb() {
    const char* tmp = ::getenv("TMPDIR");
    std::string tmpl = std::string(tmp != nullptr ? tmp : "/tmp") + "/strata-db-XXXXXX";
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    dir = tmpl;
    path = dir + "/runs.db";
  }
  ~ScratchDb() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

// Runs a query and returns its first column of the first row as text ("" if no row).
std::string query(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  INFO(sql);
  REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK);
  std::string out;
  if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
    out = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

struct SmallRun {
  History history;
  CheckResult check;
  RunRecord record;

  explicit SmallRun(uint64_t seed) {
    history.add({1000, OpType::kSend, "p1", "t", -1, -1, "k1", "p1:0", ""});
    history.add({2000, OpType::kAck, "p1", "t", 0, 0, "k1", "p1:0", ""});
    history.add({3000, OpType::kSendError, "p1", "t", -1, -1, "k2", "p1:1", "timed out"});
    history.add({4000, OpType::kPoll, "c1", "t", 0, 0, "k1", "p1:0", ""});
    Op bounds{5000, OpType::kFinalBounds, "final", "t", 0, 0, "", "", ""};
    bounds.high_watermark = 1;
    history.add(bounds);
    check.anomalies.push_back({AnomalyKind::kLostWrite, "t", 0, 7, "p1:7", "acked at 7"});
    check.counts[AnomalyKind::kLostWrite] = 3;
    check.sent = 2;

    record.scenario_name = "crash-acks1";
    record.scenario_path = "scenarios/crash-acks1.yaml";
    record.scenario_text = "name: crash-acks1\n";
    record.seed = seed;
    record.simulated_ns = 60'000'000'000;
    record.events_run = 12345;
    record.trace_hash = 0xfedcba9876543210ull;
    record.passed = false;
    record.expectations = {{"lost_write", false, "expected 0, got 3"}, {"acked", true, ""}};
    record.history = &history;
    record.check = &check;
    record.trace = {{0, "broker-0 up"}, {7, "broker-0 crash"}, {9, "broker-0 restart"}};
    record.metrics = {{0, "high_watermark", "topic=t,partition=0", 0},
                      {100, "high_watermark", "topic=t,partition=0", 1.5}};
  }
};

}  // namespace

TEST_CASE("results db: one run is stored whole and reads back with SQL") {
  ScratchDb db;
  SmallRun run(42);
  REQUIRE(write_run_db(db.path, run.record).is_ok());

  CHECK(query(db.path, "SELECT count(*) FROM runs") == "1");
  CHECK(query(db.path, "SELECT scenario || ' ' || seed || ' ' || events || ' ' || passed "
                       "FROM runs") == "crash-acks1 42 12345 0");
  CHECK(query(db.path, "SELECT trace_hash FROM runs") == "fedcba9876543210");
  CHECK(query(db.path, "SELECT sim_duration_ns FROM runs") == "60000000000");
  CHECK(query(db.path, "SELECT scenario_text FROM runs") == "name: crash-acks1\n");
  CHECK(query(db.path, "SELECT count(*) FROM operations WHERE run_id = 1") == "5");
  CHECK(query(db.path, "SELECT type || ' ' || offset FROM operations WHERE seq = 1") == "ack 0");
  // Unknown offsets are NULL, not -1.
  CHECK(query(db.path, "SELECT count(*) FROM operations WHERE offset IS NULL") == "2");
  CHECK(query(db.path, "SELECT error FROM operations WHERE seq = 2") == "timed out");
  CHECK(query(db.path, "SELECT high_watermark FROM operations WHERE seq = 4") == "1");
  CHECK(query(db.path, "SELECT kind || ' ' || offset FROM anomalies") == "lost_write 7");
  CHECK(query(db.path, "SELECT count FROM anomaly_counts WHERE kind = 'lost_write'") == "3");
  CHECK(query(db.path, "SELECT count(*) FROM expectations WHERE passed = 0") == "1");
  CHECK(query(db.path, "SELECT detail FROM expectations WHERE name = 'lost_write'") ==
        "expected 0, got 3");
  CHECK(query(db.path, "SELECT sum(value) FROM metrics") == "1.5");
  CHECK(query(db.path, "SELECT line FROM trace WHERE seq = 1") == "broker-0 crash");
  CHECK(query(db.path, "PRAGMA user_version") == std::to_string(kResultsDbSchemaVersion));
}

TEST_CASE("results db: a second run is appended to the same file") {
  ScratchDb db;
  SmallRun a(1), b(2);
  b.record.passed = true;
  REQUIRE(write_run_db(db.path, a.record).is_ok());
  REQUIRE(write_run_db(db.path, b.record).is_ok());

  CHECK(query(db.path, "SELECT count(*) FROM runs") == "2");
  CHECK(query(db.path, "SELECT group_concat(seed) FROM (SELECT seed FROM runs ORDER BY id)") ==
        "1,2");
  CHECK(query(db.path, "SELECT count(*) FROM operations") == "10");
  CHECK(query(db.path, "SELECT count(DISTINCT run_id) FROM trace") == "2");
  CHECK(query(db.path, "SELECT passed FROM runs WHERE seed = 2") == "1");
}

TEST_CASE("results db: group operations store their group and generation") {
  ScratchDb db;
  History history;
  Op assigned{1000, OpType::kAssigned, "c1", "t", 2, -1, "", "", ""};
  assigned.group = "g1";
  assigned.generation = 3;
  history.add(assigned);
  Op commit{2000, OpType::kCommit, "c1", "t", 2, 10, "", "", ""};
  commit.group = "g1";
  commit.generation = 3;
  history.add(commit);
  history.add({3000, OpType::kPoll, "c1", "t", 2, 10, "k1", "p1:10", ""});
  RunRecord r;
  r.scenario_name = "groups";
  r.history = &history;
  REQUIRE(write_run_db(db.path, r).is_ok());

  CHECK(query(db.path, "SELECT type || ' ' || group_id || ' ' || generation FROM operations "
                       "WHERE seq = 0") == "assigned g1 3");
  CHECK(query(db.path, "SELECT type || ' ' || group_id || ' ' || generation || ' ' || offset "
                       "FROM operations WHERE seq = 1") == "commit g1 3 10");
  // A group operation has no key or high watermark; other operations have no group.
  CHECK(query(db.path, "SELECT count(*) FROM operations WHERE key IS NULL AND "
                       "high_watermark IS NULL AND group_id IS NOT NULL") == "2");
  CHECK(query(db.path, "SELECT key || ' ' || ifnull(group_id, '-') || ' ' || "
                       "ifnull(generation, '-') FROM operations WHERE seq = 2") == "k1 - -");
}

TEST_CASE("results db: a run without history or check still stores its summary") {
  ScratchDb db;
  RunRecord r;
  r.scenario_name = "empty";
  REQUIRE(write_run_db(db.path, r).is_ok());
  CHECK(query(db.path, "SELECT count(*) FROM runs") == "1");
  CHECK(query(db.path, "SELECT count(*) FROM operations") == "0");
}

TEST_CASE("results db: an unwritable path is an error naming it") {
  Status s = write_run_db("/nonexistent-dir/sub/runs.db", RunRecord{});
  REQUIRE_FALSE(s.is_ok());
  CHECK(s.to_string().find("/nonexistent-dir/sub/runs.db") != std::string::npos);
}
