// Heartbeats, session expiry, LeaveGroup (v0-2 single member, v3+ batches) and static
// membership (KIP-345): a restarted static member takes its place without a rebalance and its
// old member id is fenced.
#include <catch2/catch.hpp>

#include "tests/group/group_fixture.h"

namespace strata::group {
namespace {

using namespace testing;

#define LOG_MODES() GENERATE(LogMode::kSync, LogMode::kDeferred)

TEST_CASE("session: a silent member expires after session.timeout and the rest rebalance",
          "[group][session]") {
  LogMode mode = LOG_MODES();
  INFO("log mode " << mode_name(mode));
  Fixture f(mode);
  auto sg = form_group(f, "g", 2);
  const std::string& a = sg.member_ids[0];
  const std::string& b = sg.member_ids[1];
  for (int i = 0; i < 3; ++i) {
    f.advance_ms(3000);
    CHECK(f.heartbeat("g", a, sg.generation) == ErrorCode::kNone);
  }
  CHECK(f.members("g") == 2);
  f.advance_ms(999);  // b last heard from at 0, now 9999
  CHECK(f.members("g") == 2);
  f.advance_ms(1);
  CHECK(f.members("g") == 1);
  CHECK(f.c().stats().members_expired == 1);
  CHECK(f.state("g") == GroupState::kPreparingRebalance);
  CHECK(f.heartbeat("g", b, sg.generation) == ErrorCode::kUnknownMemberId);
  CHECK(f.heartbeat("g", a, sg.generation) == ErrorCode::kRebalanceInProgress);
  auto& a2 = f.join(join_req("g", a));
  f.settle();
  REQUIRE(a2.done());
  CHECK(a2->generation == sg.generation + 1);
  CHECK(a2->leader == a);
}

TEST_CASE("session: members parked in JoinGroup or SyncGroup do not expire",
          "[group][session]") {
  LogMode mode = LOG_MODES();
  INFO("log mode " << mode_name(mode));
  Fixture f(mode);
  auto sg = form_group(f, "g", 2);
  const std::string& a = sg.member_ids[0];
  const std::string& b = sg.member_ids[1];
  // a rejoins (parked: b has not rejoined); b keeps heartbeating for 25 s.
  auto& a2 = f.join(join_req("g", a));
  CHECK_FALSE(a2.done());
  for (int i = 0; i < 5; ++i) {
    f.advance_ms(5000);
    CHECK(f.heartbeat("g", b, sg.generation) == ErrorCode::kRebalanceInProgress);
  }
  CHECK(f.members("g") == 2);
  CHECK(f.c().stats().members_expired == 0);
  auto& b2 = f.join(join_req("g", b));
  REQUIRE(a2.done());
  REQUIRE(b2.done());
  int32_t gen = a2->generation;
  std::string follower = a2->leader == a ? b : a;
  std::string leader = a2->leader;
  // The follower parks in SyncGroup for 25 s while the leader heartbeats, then syncs.
  auto& sf = f.sync("g", gen, follower);
  for (int i = 0; i < 5; ++i) {
    f.advance_ms(5000);
    CHECK(f.heartbeat("g", leader, gen) == ErrorCode::kNone);
  }
  CHECK(f.members("g") == 2);
  auto& sl = f.sync("g", gen, leader, {{a, bytes_of("A")}, {b, bytes_of("B")}});
  f.settle();
  CHECK(sl->error == ErrorCode::kNone);
  REQUIRE(sf.done());
  CHECK(sf->error == ErrorCode::kNone);
  CHECK(f.c().stats().members_expired == 0);
}

TEST_CASE("heartbeat: errors by state", "[group][heartbeat]") {
  Fixture f(LogMode::kSync);
  CHECK(f.heartbeat("nope", "m", 1) == ErrorCode::kUnknownMemberId);
  auto sg = form_group(f, "g", 1);
  CHECK(f.heartbeat("g", sg.member_ids[0], sg.generation) == ErrorCode::kNone);
  CHECK(f.heartbeat("g", sg.member_ids[0], sg.generation + 1) ==
        ErrorCode::kIllegalGeneration);
  CHECK(f.heartbeat("g", "other", sg.generation) == ErrorCode::kUnknownMemberId);
}

TEST_CASE("leave: v0-2 single member, unknown members, and the last member",
          "[group][leave]") {
  LogMode mode = LOG_MODES();
  INFO("log mode " << mode_name(mode));
  Fixture f(mode);
  auto sg = form_group(f, "g", 2);
  const std::string& a = sg.member_ids[0];
  const std::string& b = sg.member_ids[1];

  LeaveResult unknown = f.c().leave("g", {{"stranger", std::nullopt}});
  CHECK(unknown.error == ErrorCode::kNone);
  REQUIRE(unknown.members.size() == 1);
  CHECK(unknown.members[0].second == ErrorCode::kUnknownMemberId);
  CHECK(f.c().leave("nope", {{a, std::nullopt}}).members[0].second ==
        ErrorCode::kUnknownMemberId);
  CHECK(f.state("g") == GroupState::kStable);

  LeaveResult r = f.c().leave("g", {{b, std::nullopt}});
  REQUIRE(r.members.size() == 1);
  CHECK(r.members[0].second == ErrorCode::kNone);
  CHECK(f.state("g") == GroupState::kPreparingRebalance);
  CHECK(f.members("g") == 1);
  auto& a2 = f.join(join_req("g", a));
  f.settle();
  REQUIRE(a2.done());
  CHECK(a2->generation == sg.generation + 1);
  auto& s = f.sync("g", a2->generation, a, {{a, bytes_of("all")}});
  f.settle();
  CHECK(s->error == ErrorCode::kNone);

  // The last member leaves: Empty, a new generation, stored with no members.
  size_t stored_before = f.log.group_values("g").size();
  CHECK(f.c().leave("g", {{a, std::nullopt}}).members[0].second == ErrorCode::kNone);
  f.settle();
  CHECK(f.state("g") == GroupState::kEmpty);
  CHECK(f.generation("g") == sg.generation + 2);
  CHECK(f.c().describe("g").state == "Empty");
  auto values = f.log.group_values("g");
  REQUIRE(values.size() == stored_before + 1);
  CHECK(values.back().generation == sg.generation + 2);
  CHECK(values.back().members.empty());
  CHECK_FALSE(values.back().protocol.has_value());
  CHECK(values.back().protocol_type == "consumer");
}

TEST_CASE("leave: a member parked in JoinGroup that leaves is answered", "[group][leave]") {
  Fixture f(LogMode::kSync);
  auto sg = form_group(f, "g", 2);
  auto& a2 = f.join(join_req("g", sg.member_ids[0]));
  CHECK_FALSE(a2.done());
  f.c().leave("g", {{sg.member_ids[0], std::nullopt}});
  REQUIRE(a2.done());
  CHECK(a2->error == ErrorCode::kUnknownMemberId);
  // b is the only one left and had not rejoined: the rebalance waits for it.
  auto& b2 = f.join(join_req("g", sg.member_ids[1]));
  REQUIRE(b2.done());
  CHECK(b2->error == ErrorCode::kNone);
  CHECK(b2->leader == sg.member_ids[1]);
}

TEST_CASE("leave: v3 batch with a static member named by instance id only",
          "[group][leave][static]") {
  LogMode mode = LOG_MODES();
  INFO("log mode " << mode_name(mode));
  Fixture f(mode);
  auto sg = form_group(f, "g", 3, {std::nullopt, std::nullopt, std::string("inst-2")});
  LeaveResult r = f.c().leave("g", {{sg.member_ids[0], std::nullopt},
                                    {"", std::string("inst-2")},
                                    {"", std::string("inst-unknown")},
                                    {"nobody", std::nullopt}});
  REQUIRE(r.members.size() == 4);
  CHECK(r.members[0].second == ErrorCode::kNone);
  CHECK(r.members[1].second == ErrorCode::kNone);
  CHECK(r.members[2].second == ErrorCode::kUnknownMemberId);
  CHECK(r.members[3].second == ErrorCode::kUnknownMemberId);
  CHECK(r.members[1].first.group_instance_id == std::optional<std::string>("inst-2"));
  CHECK(f.members("g") == 1);
  CHECK(f.c().find("g")->static_members.empty());
  CHECK(f.state("g") == GroupState::kPreparingRebalance);
  // A pending (MEMBER_ID_REQUIRED) member can leave too.
  JoinRequest req = join_req("g");
  req.require_known_member_id = true;
  auto& pending = f.join(req);
  REQUIRE(pending->error == ErrorCode::kMemberIdRequired);
  CHECK(f.c().leave("g", {{pending->member_id, std::nullopt}}).members[0].second ==
        ErrorCode::kNone);
  CHECK(f.c().find("g")->pending_members.empty());
}

TEST_CASE("static: a restarted member takes its place without a rebalance, the old id is "
          "fenced", "[group][static]") {
  LogMode mode = LOG_MODES();
  INFO("log mode " << mode_name(mode));
  Fixture f(mode);
  auto sg = form_group(f, "g", 2, {std::string("inst-0"), std::string("inst-1")});
  REQUIRE(sg.leader == sg.member_ids[0]);
  const std::string old_id = sg.member_ids[1];
  const std::optional<std::string> inst = "inst-1";
  uint64_t rebalances = f.c().stats().rebalances;

  JoinRequest restart = join_req("g");  // empty member id, same protocols
  restart.group_instance_id = inst;
  restart.require_known_member_id = true;  // static members skip the handshake
  auto& r = f.join(restart);
  f.settle();
  REQUIRE(r.done());
  CHECK(r->error == ErrorCode::kNone);
  CHECK(r->member_id != old_id);
  CHECK(r->member_id.rfind("inst-1-", 0) == 0);
  CHECK(r->generation == sg.generation);
  CHECK(r->leader == sg.leader);
  CHECK(r->members.empty());
  CHECK(f.state("g") == GroupState::kStable);
  CHECK(f.c().stats().rebalances == rebalances);
  const std::string new_id = r->member_id;
  // The stored group names the new id, keeping the assignment.
  auto values = f.log.group_values("g");
  REQUIRE(!values.empty());
  bool found = false;
  for (const MemberRecord& m : values.back().members) {
    if (m.member_id == new_id) {
      found = true;
      CHECK(str_of(m.assignment) == "asg-" + old_id);
    }
    CHECK(m.member_id != old_id);
  }
  CHECK(found);

  // The new id works; the old one is fenced everywhere.
  CHECK(f.heartbeat("g", new_id, sg.generation, inst) == ErrorCode::kNone);
  CHECK(str_of(f.sync("g", sg.generation, new_id, {}, inst)->assignment) == "asg-" + old_id);
  CHECK(f.heartbeat("g", old_id, sg.generation, inst) == ErrorCode::kFencedInstanceId);
  auto& commit = f.commit("g", sg.generation, old_id, {{"t", 0, 1, -1, std::nullopt}}, inst);
  f.settle();
  CHECK(commit.value == std::vector<ErrorCode>{ErrorCode::kFencedInstanceId});
  CHECK(f.c().leave("g", {{old_id, inst}}).members[0].second == ErrorCode::kFencedInstanceId);
  CHECK(f.members("g") == 2);
}

TEST_CASE("static: the fenced old member id on SyncGroup and JoinGroup", "[group][static]") {
  Fixture f(LogMode::kSync);
  auto sg = form_group(f, "g", 2, {std::string("inst-0"), std::string("inst-1")});
  const std::string old_id = sg.member_ids[1];
  JoinRequest restart = join_req("g");
  restart.group_instance_id = "inst-1";
  auto& r = f.join(restart);
  REQUIRE(r->error == ErrorCode::kNone);
  // Kafka checks isStaticMemberFenced before group.has(memberId) in SyncGroup and JoinGroup:
  // a zombie with the old id learns it was fenced (and stops) rather than rejoining.
  CHECK(f.sync("g", sg.generation, old_id, {}, std::string("inst-1"))->error ==
        ErrorCode::kFencedInstanceId);
  JoinRequest zombie = join_req("g", old_id);
  zombie.group_instance_id = "inst-1";
  CHECK(f.join(zombie)->error == ErrorCode::kFencedInstanceId);
  CHECK(f.state("g") == GroupState::kStable);
}

TEST_CASE("static: a member whose session expired gets UNKNOWN_MEMBER_ID, not fenced",
          "[group][static]") {
  // Kafka fences only when the instance id is known and mapped to another member id; a
  // static member removed by its session timeout must get UNKNOWN_MEMBER_ID so that it
  // rejoins (FENCED_INSTANCE_ID is fatal to a Java consumer).
  Fixture f(LogMode::kSync);
  auto sg = form_group(f, "g", 2, {std::string("inst-0"), std::string("inst-1")});
  const std::optional<std::string> inst = "inst-1";
  for (int i = 0; i < 4; ++i) {
    f.advance_ms(3000);
    f.heartbeat("g", sg.member_ids[0], sg.generation, std::string("inst-0"));
  }
  REQUIRE(f.members("g") == 1);
  CHECK(f.heartbeat("g", sg.member_ids[1], sg.generation, inst) == ErrorCode::kUnknownMemberId);
  auto& commit = f.commit("g", sg.generation, sg.member_ids[1], {{"t", 0, 1, -1, {}}}, inst);
  CHECK(commit.value == std::vector<ErrorCode>{ErrorCode::kUnknownMemberId});
  CHECK(f.c().leave("g", {{sg.member_ids[1], inst}}).members[0].second ==
        ErrorCode::kUnknownMemberId);
  // It rejoins with an empty member id and gets a place again.
  JoinRequest back = join_req("g");
  back.group_instance_id = inst;
  auto& r = f.join(back);
  auto& a = f.join([&] {
    JoinRequest j = join_req("g", sg.member_ids[0]);
    j.group_instance_id = "inst-0";
    return j;
  }());
  REQUIRE(r.done());
  REQUIRE(a.done());
  CHECK(r->error == ErrorCode::kNone);
  CHECK(f.members("g") == 2);
}

TEST_CASE("static: a restart with changed protocols rebalances", "[group][static]") {
  LogMode mode = LOG_MODES();
  INFO("log mode " << mode_name(mode));
  Fixture f(mode);
  auto sg = form_group(f, "g", 2, {std::string("inst-0"), std::string("inst-1")});
  JoinRequest restart = join_req("g", "", {{"range", bytes_of("new-subscription")}});
  restart.group_instance_id = "inst-1";
  auto& r = f.join(restart);
  CHECK_FALSE(r.done());
  CHECK(f.state("g") == GroupState::kPreparingRebalance);
  JoinRequest a = join_req("g", sg.member_ids[0]);
  a.group_instance_id = "inst-0";
  auto& a2 = f.join(a);
  f.settle();
  REQUIRE(r.done());
  REQUIRE(a2.done());
  CHECK(r->generation == sg.generation + 1);
  CHECK(r->member_id != sg.member_ids[1]);
}

TEST_CASE("static: a restart while the old instance is parked in JoinGroup fences it",
          "[group][static]") {
  Fixture f(LogMode::kSync);
  auto sg = form_group(f, "g", 2, {std::string("inst-0"), std::string("inst-1")});
  // A dynamic newcomer starts a rebalance; inst-1 rejoins with its id and waits.
  auto& d = f.join(join_req("g"));
  JoinRequest old_join = join_req("g", sg.member_ids[1]);
  old_join.group_instance_id = "inst-1";
  auto& parked = f.join(old_join);
  CHECK_FALSE(parked.done());
  // inst-1 restarts (empty member id): the parked join is answered FENCED_INSTANCE_ID.
  JoinRequest restart = join_req("g");
  restart.group_instance_id = "inst-1";
  auto& fresh = f.join(restart);
  REQUIRE(parked.done());
  CHECK(parked->error == ErrorCode::kFencedInstanceId);
  JoinRequest a = join_req("g", sg.member_ids[0]);
  a.group_instance_id = "inst-0";
  auto& a2 = f.join(a);
  REQUIRE(fresh.done());
  REQUIRE(d.done());
  REQUIRE(a2.done());
  CHECK(fresh->error == ErrorCode::kNone);
  CHECK(fresh->generation == sg.generation + 1);
  CHECK(f.members("g") == 3);
}

}  // namespace
}  // namespace strata::group
