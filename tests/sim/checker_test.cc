// The checker, fed hand-written histories: each anomaly is found, with its evidence, and a
// clean history yields none.
#include <catch2/catch.hpp>

#include <tuple>

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
  // A group operation (or a crash) at `ms`; the clock moves there.
  struct GroupOp {
    OpType type = OpType::kAssigned;
    std::string client;
    int32_t partition = 0;
    int64_t offset = -1;
    int32_t generation = -1;
    std::string group = "g";
    std::string error;
    int64_t sent_ms = -1;  // commits: when sent (-1: unknown)
  };
  void at(int64_t ms, GroupOp g) {
    t = ms * 1000000;
    Op o;
    o.t_ns = t;
    o.type = g.type;
    o.client = std::move(g.client);
    bool crash = g.type == OpType::kCrash;  // a crash names only the client
    o.topic = crash ? "" : "t";
    o.partition = crash ? -1 : g.partition;
    o.offset = g.offset;
    if (!crash) o.group = std::move(g.group);
    o.generation = g.generation;
    o.error = std::move(g.error);
    if (g.sent_ms >= 0) o.invoked_ns = g.sent_ms * 1000000;
    h.add(o);
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
  CHECK(r.groups.empty());
  CHECK(r.redelivered == 0);
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

TEST_CASE("checker: on a compacted topic a superseded record is compacted away, not lost") {
  Script s;
  // Keyed records: key of each op set by hand ("k<n>").
  auto keyed = [&](const std::string& v, int64_t off, const std::string& key) {
    for (OpType type : {OpType::kSend, OpType::kAck}) {
      Op o;
      o.t_ns = (s.t += 1000000);
      o.type = type;
      o.client = "p1";
      o.topic = "t";
      o.partition = 0;
      o.offset = type == OpType::kAck ? off : -1;
      o.key = key;
      o.value_id = v;
      s.h.add(o);
    }
  };
  keyed("p1:0", 0, "a");
  keyed("p1:1", 1, "b");
  keyed("p1:2", 2, "a");  // supersedes offset 0
  keyed("p1:3", 3, "b");  // supersedes offset 1 ...
  keyed("p1:4", 4, "c");  // ... and the final log lost c's only record
  Op b;
  b.type = OpType::kFinalBounds;
  b.topic = "t";
  b.partition = 0;
  b.offset = 0;
  b.high_watermark = 5;
  s.h.add(b);
  for (auto [off, v, key] : {std::tuple<int64_t, const char*, const char*>{2, "p1:2", "a"},
                             {3, "p1:3", "b"}}) {
    Op o;
    o.type = OpType::kFinalRead;
    o.client = "final";
    o.topic = "t";
    o.partition = 0;
    o.offset = off;
    o.key = key;
    o.value_id = v;
    s.h.add(o);
  }
  // Without compaction every missing record is lost.
  CHECK(check_history(s.h).count(AnomalyKind::kLostWrite) == 3);
  CheckOptions options;
  options.compacted_topics = {"t"};
  CheckResult r = check_history(s.h, options);
  CHECK(r.compacted_away == 2);
  REQUIRE(r.count(AnomalyKind::kLostWrite) == 1);
  CHECK(r.anomalies.at(0).value_id == "p1:4");
  CHECK(r.anomalies.at(0).detail.find("no later record of key c") != std::string::npos);
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

TEST_CASE("checker: group operations read back with their group and generation") {
  History h;
  Op commit;
  commit.t_ns = 5;
  commit.type = OpType::kCommit;
  commit.client = "c1";
  commit.topic = "t";
  commit.partition = 2;
  commit.offset = 42;
  commit.group = "g";
  commit.generation = 7;
  h.add(commit);
  Op bounds;
  bounds.type = OpType::kFinalBounds;
  bounds.topic = "t";
  bounds.key = "k";
  bounds.high_watermark = 9;
  h.add(bounds);
  Op crash;
  crash.type = OpType::kCrash;
  crash.client = "c1";
  h.add(crash);

  Op back = h.op(0);
  CHECK(back.type == OpType::kCommit);
  CHECK(back.group == "g");
  CHECK(back.generation == 7);
  CHECK(back.offset == 42);
  CHECK(back.key.empty());
  CHECK(back.high_watermark == -1);
  CHECK(h.name(h.records()[0].group()) == "g");
  CHECK(h.records()[0].generation() == 7);

  back = h.op(1);
  CHECK(back.group.empty());
  CHECK(back.generation == -1);
  CHECK(back.key == "k");
  CHECK(back.high_watermark == 9);
  CHECK(h.records()[1].group() == kNoName);

  back = h.op(2);
  CHECK(back.type == OpType::kCrash);
  CHECK(back.client == "c1");
  CHECK(back.topic.empty());
  CHECK(back.partition == -1);
}

TEST_CASE("checker: names of the group operations and anomalies") {
  CHECK(op_type_name(OpType::kAssigned) == "assigned");
  CHECK(op_type_name(OpType::kRevoked) == "revoked");
  CHECK(op_type_name(OpType::kCommit) == "commit");
  CHECK(op_type_name(OpType::kCommitError) == "commit_error");
  CHECK(op_type_name(OpType::kCrash) == "crash");
  CHECK(op_type_name(OpType::kFinalCommitted) == "final_committed");
  CHECK(anomaly_name(AnomalyKind::kDoubleOwner) == "double_owner");
  CHECK(anomaly_name(AnomalyKind::kCommitBackwards) == "commit_backwards");
  CHECK(anomaly_name(AnomalyKind::kCommitUndelivered) == "commit_undelivered");
}

TEST_CASE("checker: two members owning a partition in one generation are double owners") {
  Script s;
  s.at(10, {.type = OpType::kAssigned, .client = "c1", .generation = 3});
  s.at(11, {.type = OpType::kAssigned, .client = "c2", .generation = 3});
  CheckResult r = check_history(s.h);
  REQUIRE(r.count(AnomalyKind::kDoubleOwner) == 1);
  const Anomaly& a = r.anomalies.at(0);
  CHECK(a.topic == "t");
  CHECK(a.partition == 0);
  CHECK(a.detail == "c1 and c2 both own it in generation 3 of group g");
}

TEST_CASE("checker: a partition handed over between generations has one owner in each") {
  Script s;
  s.at(10, {.type = OpType::kAssigned, .client = "c1", .generation = 3});
  s.at(11, {.type = OpType::kAssigned, .client = "c1", .generation = 3});  // repeated sync
  s.at(12, {.type = OpType::kRevoked, .client = "c1", .generation = 3, .error = "revoked"});
  s.at(13, {.type = OpType::kAssigned, .client = "c2", .generation = 4});
  s.at(13, {.type = OpType::kAssigned, .client = "c1", .partition = 1, .generation = 4});
  // Another group may own the same partition in a generation of the same number.
  s.at(14, {.type = OpType::kAssigned, .client = "c3", .generation = 3, .group = "h"});
  CheckResult r = check_history(s.h);
  CHECK(r.anomalies.empty());
  REQUIRE(r.groups.size() == 2);
  CHECK(r.groups.at("g").generations == 2);
  CHECK(r.groups.at("g").last_generation == 4);
  CHECK(r.groups.at("h").generations == 1);
  CHECK(r.groups.at("h").last_generation == 3);
}

TEST_CASE("checker: a commit below an earlier one, or a lost commit, goes backwards") {
  Script s;
  s.at(10, {.type = OpType::kAssigned, .client = "c1", .generation = 1});
  s.at(20, {.type = OpType::kCommit, .client = "c1", .offset = 10, .generation = 1});
  s.at(30, {.type = OpType::kAssigned, .client = "c2", .generation = 2});
  s.at(40, {.type = OpType::kCommit, .client = "c2", .offset = 5, .generation = 2});
  s.at(50, {.type = OpType::kFinalCommitted, .client = "final", .offset = 3});
  CheckResult r = check_history(s.h);
  REQUIRE(r.count(AnomalyKind::kCommitBackwards) == 2);
  CHECK(r.anomalies.at(0).offset == 5);
  CHECK(r.anomalies.at(0).detail ==
        "group g: c2 in generation 2 at t=40ms committed 5 after c1 in generation 1 at "
        "t=20ms committed 10");
  CHECK(r.anomalies.at(1).offset == 3);
  CHECK(r.anomalies.at(1).detail ==
        "group g: the final committed offset 3 is below the commit of 10 by c1 in "
        "generation 1 at t=20ms");
  CHECK(r.groups.at("g").commits == 2);
  CHECK(r.commits == 2);
}

TEST_CASE("checker: a lower commit sent before a higher one was acknowledged is concurrent") {
  // c2's commit of 5 was sent at 15 ms, before c1's commit of 10 was acknowledged at 20 ms; its
  // reply came late (say c2 was paused). The coordinator may have applied it first.
  Script s;
  s.at(10, {.type = OpType::kAssigned, .client = "c1", .generation = 2});
  s.at(20, {.type = OpType::kCommit, .client = "c1", .offset = 10, .generation = 2,
            .sent_ms = 18});
  s.at(40, {.type = OpType::kCommit, .client = "c2", .offset = 5, .generation = 1,
            .sent_ms = 15});
  s.at(50, {.type = OpType::kFinalCommitted, .client = "final", .offset = 10});
  CHECK(check_history(s.h).count(AnomalyKind::kCommitBackwards) == 0);
  // Sent after the acknowledgement: certainly later, and lower.
  s.at(60, {.type = OpType::kCommit, .client = "c2", .offset = 6, .generation = 1,
            .sent_ms = 55});
  CheckResult r = check_history(s.h);
  REQUIRE(r.count(AnomalyKind::kCommitBackwards) == 1);
  CHECK(r.anomalies.at(0).offset == 6);
  CHECK(s.h.op(1).invoked_ns == 18000000);
}

TEST_CASE("checker: commits that only move forward, per group and partition, are fine") {
  Script s;
  s.at(10, {.type = OpType::kAssigned, .client = "c1", .generation = 1});
  s.at(10, {.type = OpType::kAssigned, .client = "c1", .partition = 1, .generation = 1});
  s.at(20, {.type = OpType::kCommit, .client = "c1", .offset = 5, .generation = 1});
  s.at(21, {.type = OpType::kCommit, .client = "c1", .offset = 5, .generation = 1});
  s.at(22, {.type = OpType::kCommit, .client = "c1", .partition = 1, .offset = 2,
            .generation = 1});
  s.at(23, {.type = OpType::kCommit, .client = "c1", .offset = 10, .generation = 1});
  // A failed commit was not accepted: it may be lower.
  s.at(24, {.type = OpType::kCommitError, .client = "c1", .offset = 1, .generation = 0,
            .error = "ILLEGAL_GENERATION"});
  // Another group keeps its own commits.
  s.at(25, {.type = OpType::kCommit, .client = "c3", .offset = 1, .generation = 1,
            .group = "h"});
  s.at(30, {.type = OpType::kFinalCommitted, .client = "final", .offset = 10});
  s.at(30, {.type = OpType::kFinalCommitted, .client = "final", .partition = 1, .offset = 2});
  CheckResult r = check_history(s.h);
  CHECK(r.anomalies.empty());
  CHECK(r.groups.at("g").commits == 4);
  CHECK(r.groups.at("g").commit_failures == 1);
  CHECK(r.commits == 5);
  CHECK(r.commit_failures == 1);
}

TEST_CASE("checker: records under the group's commit that no member polled are undelivered") {
  bool by_final = GENERATE(false, true);  // the commit seen by a member, or only at the end
  Script s;
  for (int i = 0; i < 6; ++i) s.produced("p1:" + std::to_string(i), i);
  s.at(100, {.type = OpType::kAssigned, .client = "c1", .generation = 1});
  s.op(OpType::kPoll, "c1", 0, 0, "p1:0");
  s.op(OpType::kPoll, "c1", 0, 1, "p1:1");
  s.op(OpType::kPoll, "c9", 0, 2, "p1:2");  // not a member: does not count for the group
  s.at(200, {.type = OpType::kRevoked, .client = "c1", .generation = 1, .error = "revoked"});
  s.at(210, {.type = OpType::kAssigned, .client = "c2", .generation = 2});
  s.op(OpType::kPoll, "c2", 0, 4, "p1:4");
  if (by_final) {
    s.at(300, {.type = OpType::kFinalCommitted, .client = "final", .offset = 5});
  } else {
    s.at(300, {.type = OpType::kCommit, .client = "c2", .offset = 5, .generation = 2});
  }
  s.final_log({"p1:0", "p1:1", "p1:2", "p1:3", "p1:4", "p1:5"});
  CheckResult r = check_history(s.h);
  REQUIRE(r.count(AnomalyKind::kCommitUndelivered) == 2);
  std::vector<const Anomaly*> found;
  for (const Anomaly& a : r.anomalies) {
    if (a.kind == AnomalyKind::kCommitUndelivered) found.push_back(&a);
  }
  REQUIRE(found.size() == 2);
  CHECK(found[0]->offset == 2);
  CHECK(found[0]->value_id == "p1:2");
  CHECK(found[0]->detail == "group g committed 5 but no member polled offset 2");
  CHECK(found[1]->offset == 3);
  CHECK(found[1]->value_id == "p1:3");
}

TEST_CASE("checker: only records between the first poll and the commit must be delivered") {
  Script s;
  for (int i = 0; i < 6; ++i) s.produced("p1:" + std::to_string(i), i);
  s.at(100, {.type = OpType::kAssigned, .client = "c1", .generation = 1});
  s.at(100, {.type = OpType::kAssigned, .client = "c2", .partition = 1, .generation = 1});
  s.op(OpType::kPoll, "c1", 0, 2, "p1:2");  // started at 2: 0 and 1 are before the group
  s.op(OpType::kPoll, "c1", 0, 3, "p1:3");
  s.at(150, {.type = OpType::kCrash, .client = "c1"});
  s.at(160, {.type = OpType::kAssigned, .client = "c2", .generation = 2});
  s.op(OpType::kPoll, "c2", 0, 4, "p1:4");
  s.at(200, {.type = OpType::kCommit, .client = "c2", .offset = 5, .generation = 2});
  // A group that never polled the partition is not judged on it.
  s.at(210, {.type = OpType::kAssigned, .client = "c7", .generation = 1, .group = "h"});
  s.at(220, {.type = OpType::kCommit, .client = "c7", .offset = 6, .generation = 1,
             .group = "h"});
  s.final_log({"p1:0", "p1:1", "p1:2", "p1:3", "p1:4", "p1:5"});
  CheckResult r = check_history(s.h);
  CHECK(r.count(AnomalyKind::kCommitUndelivered) == 0);
  CHECK(r.redelivered == 0);
}

TEST_CASE("checker: a member polling what its group already polled is a redelivery") {
  Script s;
  s.at(10, {.type = OpType::kAssigned, .client = "c1", .generation = 1});
  s.op(OpType::kPoll, "c1", 0, 0, "p1:0");
  s.op(OpType::kPoll, "c1", 0, 1, "p1:1");
  s.at(20, {.type = OpType::kCommitError, .client = "c1", .offset = 2, .generation = 1,
            .error = "UNKNOWN_MEMBER_ID"});
  s.at(30, {.type = OpType::kCrash, .client = "c1"});
  s.at(40, {.type = OpType::kAssigned, .client = "c2", .generation = 2});
  s.op(OpType::kPoll, "c2", 0, 0, "p1:0");  // redelivered
  s.op(OpType::kPoll, "c2", 0, 1, "p1:1");  // redelivered
  s.op(OpType::kPoll, "c2", 0, 2, "p1:2");
  s.op(OpType::kPoll, "c9", 0, 0, "p1:0");  // not a member
  s.at(50, {.type = OpType::kAssigned, .client = "c5", .generation = 1, .group = "h"});
  s.op(OpType::kPoll, "c5", 0, 0, "p1:0");  // the first time for group h
  s.at(60, {.type = OpType::kCommit, .client = "c2", .offset = 3, .generation = 2});
  CheckResult r = check_history(s.h);
  CHECK(r.groups.at("g").redelivered == 2);
  CHECK(r.groups.at("h").redelivered == 0);
  CHECK(r.redelivered == 2);
  CHECK(r.groups.at("g").commit_failures == 1);
  CHECK(r.commit_failures == 1);
  CHECK(r.commits == 1);
  CHECK(r.count(AnomalyKind::kOffsetBackwards) == 0);
}

TEST_CASE("checker: time without an owner, through a revocation, crashes and a lost partition") {
  Script s;
  using T = OpType;
  s.at(10, {.type = T::kAssigned, .client = "c1", .generation = 1});  // t-0 counted from here
  s.at(20, {.type = T::kRevoked, .client = "c1", .generation = 1, .error = "revoked"});
  s.at(50, {.type = T::kAssigned, .client = "c2", .generation = 2});  // t-0 unowned 30 ms
  s.at(60, {.type = T::kAssigned, .client = "c1", .partition = 1, .generation = 2});
  s.at(65, {.type = T::kAssigned, .client = "c2", .generation = 2});  // repeated: no change
  s.at(70, {.type = T::kCrash, .client = "c2"});
  s.at(75, {.type = T::kCrash, .client = "c1"});
  s.at(100, {.type = T::kAssigned, .client = "c1", .generation = 3});  // t-0: 30 ms
  s.at(100, {.type = T::kAssigned, .client = "c1", .partition = 1, .generation = 3});  // 25 ms
  s.at(110, {.type = T::kRevoked, .client = "c1", .partition = 1, .generation = 3,
             .error = "lost"});  // t-1 stays unowned to the end
  // Group h's partition is always owned; c1's crash does not touch it.
  s.at(10, {.type = T::kAssigned, .client = "c5", .generation = 1, .group = "h"});
  s.at(150, {.type = T::kCommit, .client = "c1", .offset = 0, .generation = 3});

  SECTION("until the last operation") {
    CheckResult r = check_history(s.h);
    CHECK(r.groups.at("g").unowned_ms == 30 + 30 + 25 + 40);
    CHECK(r.groups.at("g").max_unowned_ms == 40);
    CHECK(r.groups.at("h").unowned_ms == 0);
    CHECK(r.groups.at("h").max_unowned_ms == 0);
  }
  SECTION("until a given time") {
    CheckResult r = check_history(s.h, {.ownership_until_ns = 130'000'000});
    CHECK(r.groups.at("g").unowned_ms == 30 + 30 + 25 + 20);
    CHECK(r.groups.at("g").max_unowned_ms == 30);
  }
  SECTION("until a time before the crashes") {
    CheckResult r = check_history(s.h, {.ownership_until_ns = 60'000'000});
    CHECK(r.groups.at("g").unowned_ms == 30);
    CHECK(r.groups.at("g").max_unowned_ms == 30);
  }
}

TEST_CASE("checker: polls restart after a reassignment or a crash without going backwards") {
  Script s;
  s.at(10, {.type = OpType::kAssigned, .client = "c1", .generation = 1});
  for (int i = 0; i < 4; ++i) s.op(OpType::kPoll, "c1", 0, i, "p1:" + std::to_string(i));
  s.at(20, {.type = OpType::kRevoked, .client = "c1", .generation = 1, .error = "revoked"});
  s.at(30, {.type = OpType::kAssigned, .client = "c1", .generation = 2});
  s.op(OpType::kPoll, "c1", 0, 2, "p1:2");  // from the committed offset: fine

  s.at(40, {.type = OpType::kAssigned, .client = "c2", .partition = 1, .generation = 2});
  s.op(OpType::kPoll, "c2", 1, 0, "p2:0");
  s.op(OpType::kPoll, "c2", 1, 1, "p2:1");
  s.at(50, {.type = OpType::kCrash, .client = "c2"});
  s.op(OpType::kPoll, "c2", 1, 0, "p2:0");  // restarted from scratch: fine

  s.op(OpType::kPoll, "c3", 0, 1, "p1:1");  // a plain consumer going back is still reported
  s.op(OpType::kPoll, "c3", 0, 0, "p1:0");
  CheckResult r = check_history(s.h);
  REQUIRE(r.count(AnomalyKind::kOffsetBackwards) == 1);
  for (const Anomaly& a : r.anomalies) {
    if (a.kind == AnomalyKind::kOffsetBackwards) CHECK(a.detail.rfind("c3 ", 0) == 0);
  }
}
