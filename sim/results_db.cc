// SQLite results writer (see results_db.h).
//
// Why SQLite opens files itself here, outside Runtime: the rule that sim/ and engine/ touch
// the world only through Runtime exists so that a simulated run is deterministic. This file
// runs after the run is over, on the CLI's behalf, and writes its output; nothing simulated
// ever reads it back. Keep every real-file access of sim/ in this one file.
#include "sim/results_db.h"

#include <sqlite3.h>

#include <cstdio>
#include <string_view>

namespace strata::sim {
namespace {

constexpr const char* kCreatedBy = "strata 0.1.0 sim";

// Tables; `IF NOT EXISTS` so that a sweep appends runs to one file.
constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS runs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  scenario TEXT NOT NULL,
  scenario_path TEXT NOT NULL,
  scenario_text TEXT NOT NULL,
  seed INTEGER NOT NULL,
  sim_duration_ns INTEGER NOT NULL,
  events INTEGER NOT NULL,
  trace_hash TEXT NOT NULL,
  passed INTEGER NOT NULL,
  created_by TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS operations (
  run_id INTEGER NOT NULL REFERENCES runs(id),
  seq INTEGER NOT NULL,
  t_ns INTEGER NOT NULL,
  type TEXT NOT NULL,
  client TEXT NOT NULL,
  topic TEXT NOT NULL,
  partition INTEGER,
  offset INTEGER,
  key TEXT,
  value_id TEXT,
  error TEXT,
  high_watermark INTEGER,
  group_id TEXT,
  generation INTEGER,
  invoked_ns INTEGER,
  PRIMARY KEY (run_id, seq));
CREATE TABLE IF NOT EXISTS anomalies (
  run_id INTEGER NOT NULL REFERENCES runs(id),
  kind TEXT NOT NULL,
  topic TEXT,
  partition INTEGER,
  offset INTEGER,
  value_id TEXT,
  detail TEXT);
CREATE TABLE IF NOT EXISTS anomaly_counts (
  run_id INTEGER NOT NULL REFERENCES runs(id),
  kind TEXT NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY (run_id, kind));
CREATE TABLE IF NOT EXISTS expectations (
  run_id INTEGER NOT NULL REFERENCES runs(id),
  name TEXT NOT NULL,
  passed INTEGER NOT NULL,
  detail TEXT);
CREATE TABLE IF NOT EXISTS metrics (
  run_id INTEGER NOT NULL REFERENCES runs(id),
  t_ns INTEGER NOT NULL,
  name TEXT NOT NULL,
  labels TEXT NOT NULL,
  value REAL NOT NULL);
CREATE INDEX IF NOT EXISTS metrics_by_series ON metrics(run_id, name, labels, t_ns);
CREATE TABLE IF NOT EXISTS trace (
  run_id INTEGER NOT NULL REFERENCES runs(id),
  seq INTEGER NOT NULL,
  t_ns INTEGER NOT NULL,
  line TEXT NOT NULL,
  PRIMARY KEY (run_id, seq));
)sql";

// Owns one prepared statement; bind by 1-based column index, then step().
class Stmt {
 public:
  Stmt() = default;
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt() { sqlite3_finalize(stmt_); }
  sqlite3_stmt** out() { return &stmt_; }

  void bind(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  void bind(int i, double v) { sqlite3_bind_double(stmt_, i, v); }
  void bind(int i, std::string_view v) {
    sqlite3_bind_text(stmt_, i, v.data(), int(v.size()), SQLITE_TRANSIENT);
  }
  // -1 is the history's "unknown"; it is stored as NULL so queries need no sentinel.
  void bind_known(int i, int64_t v) {
    if (v < 0) {
      sqlite3_bind_null(stmt_, i);
    } else {
      bind(i, v);
    }
  }
  // Runs the statement once and readies it for the next row.
  bool step() {
    int rc = sqlite3_step(stmt_);
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    return rc == SQLITE_DONE;
  }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

// One open database and the path it names errors with.
class Writer {
 public:
  explicit Writer(std::string path) : path_(std::move(path)) {}
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;
  ~Writer() { sqlite3_close(db_); }

  Status open() {
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    if (sqlite3_open_v2(path_.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
      return error("open");
    }
    return ok_or(sqlite3_exec(db_, "PRAGMA foreign_keys = ON", nullptr, nullptr, nullptr),
                 "configure");
  }
  Status exec(const char* sql, const char* what) {
    return ok_or(sqlite3_exec(db_, sql, nullptr, nullptr, nullptr), what);
  }
  Status prepare(Stmt& s, const char* sql) {
    return ok_or(sqlite3_prepare_v2(db_, sql, -1, s.out(), nullptr), "prepare");
  }
  Status step(Stmt& s, const char* what) { return s.step() ? ok_status() : error(what); }
  int64_t last_id() const { return sqlite3_last_insert_rowid(db_); }
  Result<int64_t> user_version() {
    Stmt s;
    STRATA_RETURN_IF_ERROR(prepare(s, "PRAGMA user_version"));
    if (sqlite3_step(*s.out()) != SQLITE_ROW) return error("read schema version");
    return int64_t(sqlite3_column_int64(*s.out(), 0));
  }
  Status error(const char* what) const {
    return Status::io_error("results db " + path_ + ": " + what + ": " +
                            (db_ ? sqlite3_errmsg(db_) : "out of memory"));
  }

 private:
  Status ok_or(int rc, const char* what) const {
    return rc == SQLITE_OK ? ok_status() : error(what);
  }

  std::string path_;
  sqlite3* db_ = nullptr;
};

Status ensure_schema(Writer& w, const std::string& path) {
  STRATA_RETURN_IF_ERROR(w.exec(kSchema, "create schema"));
  auto version = w.user_version();
  if (!version) return version.status();
  if (*version == 0) {
    std::string pragma = "PRAGMA user_version = " + std::to_string(kResultsDbSchemaVersion);
    return w.exec(pragma.c_str(), "set schema version");
  }
  if (*version != kResultsDbSchemaVersion) {
    return Status::invalid_argument("results db " + path + ": schema version " +
                                    std::to_string(*version) + ", this strata writes " +
                                    std::to_string(kResultsDbSchemaVersion));
  }
  return ok_status();
}

std::string hex64(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

Result<int64_t> insert_run(Writer& w, const RunRecord& run) {
  Stmt s;
  STRATA_RETURN_IF_ERROR(w.prepare(s,
      "INSERT INTO runs (scenario, scenario_path, scenario_text, seed, sim_duration_ns, "
      "events, trace_hash, passed, created_by) VALUES (?,?,?,?,?,?,?,?,?)"));
  s.bind(1, run.scenario_name);
  s.bind(2, run.scenario_path);
  s.bind(3, run.scenario_text);
  // SQLite integers are signed: a seed ≥ 2^63 reads back negative (same 64 bits).
  s.bind(4, static_cast<int64_t>(run.seed));
  s.bind(5, run.simulated_ns);
  s.bind(6, static_cast<int64_t>(run.events_run));
  s.bind(7, std::string_view(hex64(run.trace_hash)));
  s.bind(8, int64_t(run.passed ? 1 : 0));
  s.bind(9, std::string_view(kCreatedBy));
  STRATA_RETURN_IF_ERROR(w.step(s, "insert run"));
  return w.last_id();
}

Status insert_operations(Writer& w, int64_t run_id, const History& history) {
  Stmt s;
  STRATA_RETURN_IF_ERROR(w.prepare(s,
      "INSERT INTO operations (run_id, seq, t_ns, type, client, topic, partition, offset, "
      "key, value_id, error, high_watermark, group_id, generation, invoked_ns) "
      "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"));
  int64_t seq = 0;
  for (const OpRecord& op : history.records()) {
    s.bind(1, run_id);
    s.bind(2, seq++);
    s.bind(3, op.t_ns);
    s.bind(4, op_type_name(op.type));
    s.bind(5, history.name(op.client));
    s.bind(6, history.name(op.topic));
    s.bind_known(7, op.partition);
    s.bind_known(8, op.offset);
    if (op.error != kNoName) s.bind(11, history.name(op.error));
    if (is_group_op(op.type)) {
      s.bind(13, history.name(op.group()));
      s.bind_known(14, op.generation());
      s.bind_known(15, op.invoked_ns());
    } else {
      if (!op.value.empty()) s.bind(10, std::string_view(history.value_string(op.value)));
      if (op.key != kNoName) s.bind(9, history.name(op.key));
      s.bind_known(12, op.high_watermark);
    }
    STRATA_RETURN_IF_ERROR(w.step(s, "insert operation"));
  }
  return ok_status();
}

Status insert_check(Writer& w, int64_t run_id, const CheckResult& check) {
  Stmt s;
  STRATA_RETURN_IF_ERROR(w.prepare(s,
      "INSERT INTO anomalies (run_id, kind, topic, partition, offset, value_id, detail) "
      "VALUES (?,?,?,?,?,?,?)"));
  for (const Anomaly& a : check.anomalies) {
    s.bind(1, run_id);
    s.bind(2, anomaly_name(a.kind));
    s.bind(3, a.topic);
    s.bind_known(4, a.partition);
    s.bind_known(5, a.offset);
    s.bind(6, a.value_id);
    s.bind(7, a.detail);
    STRATA_RETURN_IF_ERROR(w.step(s, "insert anomaly"));
  }
  Stmt c;
  STRATA_RETURN_IF_ERROR(
      w.prepare(c, "INSERT INTO anomaly_counts (run_id, kind, count) VALUES (?,?,?)"));
  for (const auto& [kind, count] : check.counts) {  // std::map: a fixed order
    c.bind(1, run_id);
    c.bind(2, anomaly_name(kind));
    c.bind(3, count);
    STRATA_RETURN_IF_ERROR(w.step(c, "insert anomaly count"));
  }
  return ok_status();
}

Status insert_expectations(Writer& w, int64_t run_id, const RunRecord& run) {
  Stmt s;
  STRATA_RETURN_IF_ERROR(w.prepare(s,
      "INSERT INTO expectations (run_id, name, passed, detail) VALUES (?,?,?,?)"));
  for (const ExpectationResult& e : run.expectations) {
    s.bind(1, run_id);
    s.bind(2, e.name);
    s.bind(3, int64_t(e.passed ? 1 : 0));
    s.bind(4, e.detail);
    STRATA_RETURN_IF_ERROR(w.step(s, "insert expectation"));
  }
  return ok_status();
}

Status insert_series(Writer& w, int64_t run_id, const RunRecord& run) {
  Stmt m;
  STRATA_RETURN_IF_ERROR(w.prepare(m,
      "INSERT INTO metrics (run_id, t_ns, name, labels, value) VALUES (?,?,?,?,?)"));
  for (const MetricSample& x : run.metrics) {
    m.bind(1, run_id);
    m.bind(2, x.t_ns);
    m.bind(3, x.name);
    m.bind(4, x.labels);
    m.bind(5, x.value);
    STRATA_RETURN_IF_ERROR(w.step(m, "insert metric"));
  }
  Stmt t;
  STRATA_RETURN_IF_ERROR(
      w.prepare(t, "INSERT INTO trace (run_id, seq, t_ns, line) VALUES (?,?,?,?)"));
  int64_t seq = 0;
  for (const TraceLine& l : run.trace) {
    t.bind(1, run_id);
    t.bind(2, seq++);
    t.bind(3, l.t_ns);
    t.bind(4, l.line);
    STRATA_RETURN_IF_ERROR(w.step(t, "insert trace line"));
  }
  return ok_status();
}

Status write_all(Writer& w, const std::string& path, const RunRecord& run) {
  STRATA_RETURN_IF_ERROR(ensure_schema(w, path));
  auto id = insert_run(w, run);
  if (!id) return id.status();
  if (run.history) STRATA_RETURN_IF_ERROR(insert_operations(w, *id, *run.history));
  if (run.check) STRATA_RETURN_IF_ERROR(insert_check(w, *id, *run.check));
  STRATA_RETURN_IF_ERROR(insert_expectations(w, *id, run));
  return insert_series(w, *id, run);
}

}  // namespace

Status write_run_db(const std::string& path, const RunRecord& run) {
  Writer w(path);
  STRATA_RETURN_IF_ERROR(w.open());
  // One transaction per run: atomic, and far faster than a commit per row.
  STRATA_RETURN_IF_ERROR(w.exec("BEGIN IMMEDIATE", "begin transaction"));
  Status s = write_all(w, path, run);
  if (!s) {
    (void)w.exec("ROLLBACK", "rollback");
    return s;
  }
  return w.exec("COMMIT", "commit");
}

}  // namespace strata::sim
