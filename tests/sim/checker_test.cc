// The checker, fed hand-written histories: each anomaly is found, with its evidence, and a
// clean history yields none.
#include <catch2/catch.hpp>

#include "sim/checker.h"

using namespace strata::sim;

namespace {

struct Script {
  History h;
  int64_t t = 0;
  void op(OpType type, std::string client, int32_t p, int64_t off, std::string v) {
    Op o;
    o.t_ns = (t += 1000000);
    o.type = type;
    o.client = std::move(client);
    o.topic = "t";
    o.partition = p;
    o.offset = off;
    o.value_id = std::move(v);
    h.add(o);
  }
  void produced(const std::string& v, int64_t off, int32_t p = 0) {
    op(OpType::kSend, "p1", p, -1, v);
    op(OpType::kAck, "p1", p, off, v);
  }
  void final_log(std::vector<std::string> values, int64_t start = 0, int32_t p = 0) {
    Op b;
    b.type = OpType::kFinalBounds;
    b.topic = "t";
    b.partition = p;
    b.offset = start;
    b.high_watermark = start + int64_t(values.size());
    h.add(b);
    for (size_t i = 0; i < values.size(); ++i) {
      op(OpType::kFinalRead, "final", p, start + int64_t(i), values[i]);
    }
  }
};

}  // namespace

TEST_CASE("checker: a clean history has no anomalies") {
  Script s;
  s.produced("p1:0", 0);
  s.produced("p1:1", 1);
  s.op(OpType::kPoll, "c1", 0, 0, "p1:0");
  s.op(OpType::kPoll, "c1", 0, 1, "p1:1");
  s.final_log({"p1:0", "p1:1"});
  CheckResult r = check_history(s.h);
  CHECK(r.anomalies.empty());
  CHECK(r.acked == 2);
  CHECK(r.polled == 2);
}

TEST_CASE("checker: acked records missing after a crash are lost writes") {
  Script s;
  s.produced("p1:0", 0);
  s.produced("p1:1", 1);
  s.produced("p1:2", 2);
  s.final_log({"p1:0"});  // the unsynced tail is gone
  CheckResult r = check_history(s.h);
  CHECK(r.count(AnomalyKind::kLostWrite) == 2);
  CHECK(r.anomalies.at(0).value_id == "p1:1");
  CHECK(r.anomalies.at(0).detail.find("offset 1") != std::string::npos);
}

TEST_CASE("checker: retention is not loss") {
  Script s;
  s.produced("p1:0", 0);
  s.produced("p1:1", 1);
  s.final_log({"p1:1"}, 1);
  CHECK(check_history(s.h).anomalies.empty());
}

TEST_CASE("checker: a retried record stored twice is a duplicate") {
  Script s;
  s.produced("p1:0", 0);
  s.op(OpType::kSend, "p1", 0, -1, "p1:1");
  s.op(OpType::kAck, "p1", 0, 2, "p1:1");  // the ack of the retry
  s.final_log({"p1:0", "p1:1", "p1:1"});     // the first attempt was stored too
  CheckResult r = check_history(s.h);
  CHECK(r.count(AnomalyKind::kDuplicate) == 1);
  CHECK(r.anomalies.at(0).detail == "stored at t-0@1, t-0@2");
}

TEST_CASE("checker: out-of-order storage of one producer's records is a reorder") {
  Script s;
  s.produced("p1:0", 0);
  s.produced("p1:2", 1);
  s.produced("p1:1", 2);
  s.final_log({"p1:0", "p1:2", "p1:1"});
  CheckResult r = check_history(s.h);
  CHECK(r.count(AnomalyKind::kReorder) == 1);
  CHECK(r.anomalies.at(0).value_id == "p1:1");
}

TEST_CASE("checker: one offset read with two records is inconsistent") {
  Script s;
  s.produced("p1:0", 0);
  s.op(OpType::kPoll, "c1", 0, 0, "p1:0");
  s.produced("p1:1", 0);  // after truncation, offset 0 was reused
  s.final_log({"p1:1"});
  CheckResult r = check_history(s.h);
  CHECK(r.count(AnomalyKind::kInconsistentOffset) == 1);
  CHECK(r.count(AnomalyKind::kLostWrite) == 1);  // p1:0 was acked and is gone
}

TEST_CASE("checker: polls going backwards without a seek, and skipped records") {
  Script s;
  for (int i = 0; i < 4; ++i) s.produced("p1:" + std::to_string(i), i);
  s.op(OpType::kPoll, "c1", 0, 0, "p1:0");
  s.op(OpType::kPoll, "c1", 0, 2, "p1:2");  // skipped p1:1
  s.op(OpType::kPoll, "c1", 0, 0, "p1:0");  // went back without a seek
  s.op(OpType::kSeek, "c1", 0, 0, "");
  s.op(OpType::kPoll, "c1", 0, 0, "p1:0");  // fine after a seek
  s.final_log({"p1:0", "p1:1", "p1:2", "p1:3"});
  CheckResult r = check_history(s.h);
  CHECK(r.count(AnomalyKind::kOffsetBackwards) == 1);
  CHECK(r.count(AnomalyKind::kUnreadable) == 1);
  bool found = false;
  for (const auto& a : r.anomalies) found = found || (a.value_id == "p1:1");
  CHECK(found);
}
