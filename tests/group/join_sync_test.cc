// JoinGroup and SyncGroup: Kafka's classic protocol (KIP-394 member-id handshake, protocol
// selection, the initial rebalance delay, rebalances and their deadlines, the leader's
// assignment stored before anyone sees it). Every scenario runs with the log completing
// appends synchronously and deferred.
#include <catch2/catch.hpp>

#include "tests/group/group_fixture.h"

namespace strata::group {
namespace {

using namespace testing;

#define LOG_MODES() GENERATE(LogMode::kSync, LogMode::kDeferred)

TEST_CASE("join: v4 handshake hands out a member id, then the join with it completes",
          "[group][join]") {
  LogMode mode = LOG_MODES();
  INFO("log mode " << mode_name(mode));
  Fixture f(mode);
  JoinRequest req = join_req("g");
  req.require_known_member_id = true;
  auto& first = f.join(req);
  REQUIRE(first.done());
  CHECK(first->error == ErrorCode::kMemberIdRequired);
  CHECK(first->member_id.rfind("client-", 0) == 0);  // client id, '-', a uuid
  CHECK(f.members("g") == 0);
  CHECK(f.heartbeat("g", first->member_id, 0) == ErrorCode::kUnknownMemberId);  // pending only

  req.member_id = first->member_id;
  auto& second = f.join(req);
  f.settle();
  REQUIRE(second.done());
  CHECK(second->error == ErrorCode::kNone);
  CHECK(second->member_id == first->member_id);
  CHECK(second->generation == 1);
  CHECK(second->leader == first->member_id);
  CHECK(second->protocol_name == "range");
  CHECK(f.state("g") == GroupState::kCompletingRebalance);

  // A handed-out id that is never used expires after the session timeout.
  JoinRequest another = join_req("g");
  another.require_known_member_id = true;
  auto& third = f.join(another);
  REQUIRE(third->error == ErrorCode::kMemberIdRequired);
  CHECK(f.c().find("g")->pending_members.size() == 1);
  f.advance_ms(10'001);
  CHECK(f.c().find("g")->pending_members.empty());
}

TEST_CASE("join: an unused MEMBER_ID_REQUIRED id leaves no group behind", "[group][join]") {
  Fixture f(LogMode::kSync);
  JoinRequest req = join_req("g");
  req.require_known_member_id = true;
  auto& first = f.join(req);
  REQUIRE(first->error == ErrorCode::kMemberIdRequired);
  f.advance_ms(10'001);
  CHECK(f.c().find("g") == nullptr);
  CHECK(f.c().list().empty());
}

TEST_CASE("join: request validation", "[group][join]") {
  Fixture f(LogMode::kSync);
  SECTION("empty group id") {
    auto& r = f.join(join_req(""));
    CHECK(r->error == ErrorCode::kInvalidGroupId);
  }
  SECTION("session timeout outside [min, max]") {
    JoinRequest low = join_req("g");
    low.session_timeout_ms = f.config.min_session_timeout_ms - 1;
    CHECK(f.join(low)->error == ErrorCode::kInvalidSessionTimeout);
    JoinRequest high = join_req("g");
    high.session_timeout_ms = f.config.max_session_timeout_ms + 1;
    CHECK(f.join(high)->error == ErrorCode::kInvalidSessionTimeout);
    CHECK(f.c().find("g") == nullptr);
  }
  SECTION("empty protocol type or no protocols") {
    JoinRequest no_type = join_req("g");
    no_type.protocol_type.clear();
    CHECK(f.join(no_type)->error == ErrorCode::kInconsistentGroupProtocol);
    CHECK(f.join(join_req("g", "", {}))->error == ErrorCode::kInconsistentGroupProtocol);
    CHECK(f.c().find("g") == nullptr);
  }
  SECTION("unknown member id on an unknown group") {
    CHECK(f.join(join_req("g", "nobody"))->error == ErrorCode::kUnknownMemberId);
  }
  SECTION("inconsistent protocol type and protocols with the current members") {
    auto sg = form_group(f, "g", 1);
    JoinRequest other_type = join_req("g");
    other_type.protocol_type = "connect";
    CHECK(f.join(other_type)->error == ErrorCode::kInconsistentGroupProtocol);
    CHECK(f.join(join_req("g", "", {{"roundrobin", bytes_of("x")}}))->error ==
          ErrorCode::kInconsistentGroupProtocol);
    CHECK(f.state("g") == GroupState::kStable);  // refusals do not disturb the group
    CHECK(f.members("g") == 1);
  }
}

TEST_CASE("join: the protocol all members support that most prefer is selected",
          "[group][join]") {
  GroupConfig c = test_config();
  c.initial_rebalance_delay_ms = 1000;
  Fixture f(LogMode::kSync, c);
  // A prefers range, B and C prefer roundrobin; sticky is not supported by C.
  auto& a = f.join(join_req("g", "", {{"range", bytes_of("a-range")},
                                      {"roundrobin", bytes_of("a-rr")},
                                      {"sticky", bytes_of("a-st")}}));
  auto& b = f.join(join_req("g", "", {{"sticky", bytes_of("b-st")},
                                      {"roundrobin", bytes_of("b-rr")},
                                      {"range", bytes_of("b-range")}}));
  auto& cc = f.join(join_req("g", "", {{"roundrobin", bytes_of("c-rr")},
                                       {"range", bytes_of("c-range")}}));
  CHECK_FALSE(a.done());
  f.advance_ms(2000);
  REQUIRE(a.done());
  REQUIRE(b.done());
  REQUIRE(cc.done());
  // Votes among {range, roundrobin}: A -> range, B -> roundrobin, C -> roundrobin.
  for (auto* r : {&a, &b, &cc}) {
    CHECK(r->value.error == ErrorCode::kNone);
    CHECK(r->value.protocol_name == "roundrobin");
    CHECK(r->value.generation == 1);
  }
  // The leader (the first member) sees every member with its roundrobin metadata;
  // followers see nobody.
  CHECK(a->leader == a->member_id);
  REQUIRE(a->members.size() == 3);
  std::map<std::string, std::string> metadata;
  for (const JoinMember& m : a->members) metadata[m.member_id] = str_of(m.metadata);
  CHECK(metadata[a->member_id] == "a-rr");
  CHECK(metadata[b->member_id] == "b-rr");
  CHECK(metadata[cc->member_id] == "c-rr");
  CHECK(b->members.empty());
  CHECK(cc->members.empty());
  CHECK(b->leader == a->member_id);
}

TEST_CASE("join: group.initial.rebalance.delay.ms waits, extends, never past the rebalance "
          "timeout", "[group][join]") {
  LogMode mode = LOG_MODES();
  INFO("log mode " << mode_name(mode));
  GroupConfig c = test_config();
  c.initial_rebalance_delay_ms = 3000;
  Fixture f(mode, c);
  auto req = [] {
    JoinRequest r = join_req("g");
    r.rebalance_timeout_ms = 10'000;
    return r;
  };
  SECTION("a lone member waits the delay") {
    auto& a = f.join(req());
    f.advance_ms(2999);
    CHECK_FALSE(a.done());
    CHECK(f.state("g") == GroupState::kPreparingRebalance);
    f.advance_ms(1);
    REQUIRE(a.done());
    CHECK(a->generation == 1);
  }
  SECTION("members arriving extend the wait; the rebalance timeout caps it") {
    std::vector<Reply<JoinResult>*> rs{&f.join(req())};
    // Joins at 2000, 5000, 8000, 9500: each restarts a 3000 ms wait, capped at 10000.
    for (int64_t at : {2000, 5000, 8000, 9500}) {
      f.advance_ms(at - f.rt.now().ms());
      CHECK_FALSE(rs.front()->done());
      rs.push_back(&f.join(req()));
    }
    f.advance_ms(9999 - f.rt.now().ms());
    CHECK_FALSE(rs.front()->done());
    f.advance_ms(1);  // t = 10000 = the rebalance timeout
    for (auto* r : rs) {
      REQUIRE(r->done());
      CHECK(r->value.error == ErrorCode::kNone);
      CHECK(r->value.generation == 1);
    }
    CHECK(f.members("g") == 5);
  }
  SECTION("no arrivals during the delay: completes at the delay") {
    auto& a = f.join(req());
    f.advance_ms(1000);
    auto& b = f.join(req());
    f.advance_ms(2000);  // t = 3000: B arrived, so wait another 3000
    CHECK_FALSE(a.done());
    f.advance_ms(3000);  // t = 6000
    CHECK(a.done());
    CHECK(b.done());
  }
}

TEST_CASE("join: a second member makes a Stable group rebalance", "[group][join]") {
  LogMode mode = LOG_MODES();
  INFO("log mode " << mode_name(mode));
  Fixture f(mode);
  auto sg = form_group(f, "g", 1);
  const std::string a = sg.member_ids[0];
  CHECK(sg.generation == 1);

  auto& b = f.join_v4(join_req("g"));
  CHECK_FALSE(b.done());
  CHECK(f.state("g") == GroupState::kPreparingRebalance);
  CHECK(f.heartbeat("g", a, 1) == ErrorCode::kRebalanceInProgress);
  // A sync of the old generation during the rebalance.
  CHECK(f.sync("g", 1, a)->error == ErrorCode::kRebalanceInProgress);
  // Offsets of the current generation may still be committed while preparing.
  auto& commit = f.commit("g", 1, a, {{"t", 0, 10, -1, std::nullopt}});
  f.settle();
  REQUIRE(commit.done());
  CHECK(commit.value == std::vector<ErrorCode>{ErrorCode::kNone});

  auto& a2 = f.join(join_req("g", a));
  f.settle();
  REQUIRE(a2.done());
  REQUIRE(b.done());
  CHECK(a2->generation == 2);
  CHECK(b->generation == 2);
  CHECK(a2->leader == a);  // the leader that rejoined stays leader
  CHECK(a2->members.size() == 2);
  CHECK(b->members.empty());
  CHECK(f.state("g") == GroupState::kCompletingRebalance);
  CHECK(f.heartbeat("g", a, 1) == ErrorCode::kIllegalGeneration);
  CHECK(f.heartbeat("g", a, 2) == ErrorCode::kNone);
  CHECK(f.c().stats().rebalances == 2);
}

TEST_CASE("join: members that do not rejoin before the rebalance timeout", "[group][join]") {
  LogMode mode = LOG_MODES();
  INFO("log mode " << mode_name(mode));
  Fixture f(mode);
  SECTION("dynamic members are removed") {
    auto sg = form_group(f, "g", 3);
    // A new member joins; only it and the first member rejoin.
    auto& d = f.join(join_req("g"));
    auto& a = f.join(join_req("g", sg.member_ids[0]));
    // The others keep heartbeating (REBALANCE_IN_PROGRESS) but never rejoin.
    for (int i = 0; i < 10 && !d.done(); ++i) {
      f.advance_ms(5000);
      if (d.done()) break;
      CHECK(f.heartbeat("g", sg.member_ids[1], sg.generation) == ErrorCode::kRebalanceInProgress);
      CHECK(f.heartbeat("g", sg.member_ids[2], sg.generation) == ErrorCode::kRebalanceInProgress);
    }
    REQUIRE(d.done());
    REQUIRE(a.done());
    CHECK(f.rt.now().ms() >= 30'000);  // the rebalance timeout
    CHECK(a->generation == sg.generation + 1);
    CHECK(f.members("g") == 2);
    CHECK(f.c().stats().members_removed_at_join == 2);
    CHECK(f.heartbeat("g", sg.member_ids[1], a->generation) == ErrorCode::kUnknownMemberId);
  }
  SECTION("static members are kept") {
    auto sg = form_group(f, "g", 2, {std::string("inst-0"), std::string("inst-1")});
    JoinRequest r = join_req("g", sg.member_ids[0]);
    r.group_instance_id = "inst-0";
    r.protocols = {{"range", bytes_of("changed")}};  // a subscription change: rebalance
    auto& a = f.join(r);
    CHECK(f.state("g") == GroupState::kPreparingRebalance);
    // inst-1 stays alive (heartbeats) but does not rejoin before the 30 s deadline.
    for (int i = 0; i < 10 && !a.done(); ++i) {
      f.advance_ms(5000);
      if (a.done()) break;
      CHECK(f.heartbeat("g", sg.member_ids[1], sg.generation, std::string("inst-1")) ==
            ErrorCode::kRebalanceInProgress);
    }
    f.settle();
    REQUIRE(a.done());
    CHECK(f.rt.now().ms() == 30'000);
    CHECK(a->error == ErrorCode::kNone);
    CHECK(a->generation == sg.generation + 1);
    CHECK(f.members("g") == 2);  // inst-1 stays, though it did not rejoin
    CHECK(f.c().stats().members_removed_at_join == 0);
  }
}

TEST_CASE("join: a repeated join from the same member answers the earlier one",
          "[group][join]") {
  GroupConfig c = test_config();
  c.initial_rebalance_delay_ms = 1000;
  Fixture f(LogMode::kSync, c);
  JoinRequest req = join_req("g");
  req.require_known_member_id = true;
  auto& handshake = f.join(req);
  REQUIRE(handshake->error == ErrorCode::kMemberIdRequired);
  req.member_id = handshake->member_id;
  auto& first = f.join(req);
  CHECK_FALSE(first.done());
  auto& again = f.join(req);
  REQUIRE(first.done());
  CHECK(first->error == ErrorCode::kRebalanceInProgress);
  f.advance_ms(1000);
  REQUIRE(again.done());
  CHECK(again->error == ErrorCode::kNone);
  CHECK(again->generation == 1);
}

TEST_CASE("sync: the leader's assignment reaches every member after it is stored",
          "[group][sync]") {
  LogMode mode = LOG_MODES();
  INFO("log mode " << mode_name(mode));
  GroupConfig c = test_config();
  c.initial_rebalance_delay_ms = 100;
  Fixture f(mode, c);
  auto& a = f.join(join_req("g"));
  auto& b = f.join(join_req("g"));
  auto& d = f.join(join_req("g"));
  f.advance_ms(500);
  REQUIRE(a.done());
  const std::string leader = a->leader;
  int32_t gen = a->generation;
  std::vector<std::string> followers;
  for (auto* r : {&a, &b, &d}) {
    if (r->value.member_id != leader) followers.push_back(r->value.member_id);
  }
  REQUIRE(followers.size() == 2);

  // Followers first: they wait.
  auto& s1 = f.sync("g", gen, followers[0]);
  auto& s2 = f.sync("g", gen, followers[1]);
  f.settle();
  CHECK_FALSE(s1.done());
  CHECK_FALSE(s2.done());
  size_t stored_before = f.log.group_values("g").size();

  std::map<std::string, Bytes> asg{{leader, bytes_of("L")},
                                   {followers[0], bytes_of("F0")},
                                   {followers[1], bytes_of("F1")},
                                   {"not-a-member", bytes_of("X")}};
  auto& sl = f.sync("g", gen, leader, asg);
  if (mode == LogMode::kDeferred) {
    // Nobody sees the assignment before the store completes.
    CHECK_FALSE(sl.done());
    CHECK_FALSE(s1.done());
    CHECK(f.state("g") == GroupState::kCompletingRebalance);
    CHECK(f.heartbeat("g", followers[0], gen) == ErrorCode::kNone);
    f.settle();
  }
  REQUIRE(sl.done());
  REQUIRE(s1.done());
  REQUIRE(s2.done());
  CHECK(str_of(sl->assignment) == "L");
  CHECK(str_of(s1->assignment) == "F0");
  CHECK(str_of(s2->assignment) == "F1");
  CHECK(f.state("g") == GroupState::kStable);

  // What was stored: this generation with every member's assignment and subscription.
  auto values = f.log.group_values("g");
  REQUIRE(values.size() == stored_before + 1);
  const GroupRecord& rec = values.back();
  CHECK(rec.generation == gen);
  CHECK(rec.protocol_type == "consumer");
  CHECK(rec.protocol == std::optional<std::string>("range"));
  CHECK(rec.leader == std::optional<std::string>(leader));
  REQUIRE(rec.members.size() == 3);
  for (const MemberRecord& m : rec.members) {
    std::string want = m.member_id == leader ? "L" : m.member_id == followers[0] ? "F0" : "F1";
    CHECK(str_of(m.assignment) == want);
    CHECK(str_of(m.subscription) == "sub");
    CHECK(m.session_timeout_ms == 10'000);
    CHECK(m.rebalance_timeout_ms == 30'000);
  }
  CHECK(f.log.stored.back().partition == f.c().partition_for("g"));

  // A late sync in Stable gets the stored assignment again.
  CHECK(str_of(f.sync("g", gen, followers[1])->assignment) == "F1");
  // Describe shows the assignment and metadata once Stable.
  GroupDescription desc = f.c().describe("g");
  CHECK(desc.state == "Stable");
  CHECK(desc.protocol == "range");
  REQUIRE(desc.members.size() == 3);
  for (const auto& m : desc.members) CHECK_FALSE(m.assignment.empty());
}

TEST_CASE("sync: fencing errors", "[group][sync]") {
  LogMode mode = LOG_MODES();
  INFO("log mode " << mode_name(mode));
  Fixture f(mode);
  auto sg = form_group(f, "g", 2);
  CHECK(f.sync("g", sg.generation + 1, sg.member_ids[0])->error ==
        ErrorCode::kIllegalGeneration);
  CHECK(f.sync("g", sg.generation - 1, sg.member_ids[0])->error ==
        ErrorCode::kIllegalGeneration);
  CHECK(f.sync("g", sg.generation, "stranger")->error == ErrorCode::kUnknownMemberId);
  CHECK(f.sync("other", 1, sg.member_ids[0])->error == ErrorCode::kUnknownMemberId);
  // A rebalance in progress.
  auto& newcomer = f.join(join_req("g"));
  CHECK(f.sync("g", sg.generation, sg.member_ids[1])->error ==
        ErrorCode::kRebalanceInProgress);
  newcomer.may_stay_pending = true;
}

TEST_CASE("sync: a failing store answers COORDINATOR_NOT_AVAILABLE and rebalances",
          "[group][sync]") {
  LogMode mode = LOG_MODES();
  INFO("log mode " << mode_name(mode));
  GroupConfig c = test_config();
  c.initial_rebalance_delay_ms = 100;
  Fixture f(mode, c);
  auto& a = f.join(join_req("g"));
  auto& b = f.join(join_req("g"));
  f.advance_ms(1000);
  REQUIRE(a.done());
  REQUIRE(b.done());
  std::string leader = a->leader;
  std::string follower = a->member_id == leader ? b->member_id : a->member_id;
  auto& sf = f.sync("g", a->generation, follower);
  f.log.fail_next = 1;
  auto& sl = f.sync("g", a->generation, leader, {{leader, bytes_of("L")},
                                                 {follower, bytes_of("F")}});
  f.settle();
  REQUIRE(sl.done());
  REQUIRE(sf.done());
  CHECK(sl->error == ErrorCode::kCoordinatorNotAvailable);
  CHECK(sf->error == ErrorCode::kCoordinatorNotAvailable);
  CHECK(f.state("g") == GroupState::kPreparingRebalance);
  CHECK(f.log.group_values("g").empty());
  // Both rejoin: a new generation, and this time the store succeeds.
  auto& a2 = f.join(join_req("g", a->member_id));
  auto& b2 = f.join(join_req("g", b->member_id));
  f.settle();
  REQUIRE(a2.done());
  REQUIRE(b2.done());
  CHECK(a2->generation == a->generation + 1);
  auto& s3 = f.sync("g", a2->generation, a2->leader, {{a->member_id, bytes_of("1")},
                                                      {b->member_id, bytes_of("2")}});
  auto& s4 = f.sync("g", a2->generation, a2->leader == a->member_id ? b->member_id
                                                                    : a->member_id);
  f.settle();
  CHECK(s3->error == ErrorCode::kNone);
  CHECK(s4->error == ErrorCode::kNone);
  CHECK(f.state("g") == GroupState::kStable);
}

TEST_CASE("sync: a deferred store overtaken by a rebalance", "[group][sync]") {
  GroupConfig c = test_config();
  c.initial_rebalance_delay_ms = 100;
  Fixture f(LogMode::kDeferred, c);
  auto& a = f.join(join_req("g"));
  auto& b = f.join(join_req("g"));
  f.advance_ms(1000);
  REQUIRE(b.done());
  std::string leader = a->leader;
  std::string follower = a->member_id == leader ? b->member_id : a->member_id;
  int32_t gen = a->generation;
  auto& sf = f.sync("g", gen, follower);
  auto& sl = f.sync("g", gen, leader, {{leader, bytes_of("L")}, {follower, bytes_of("F")}});
  REQUIRE(f.log.pending() == 1);
  // A third member arrives before the store completes: the syncs are answered now with
  // REBALANCE_IN_PROGRESS, and the store's late completion changes nothing.
  auto& d = f.join(join_req("g"));
  REQUIRE(sl.done());
  REQUIRE(sf.done());
  CHECK(sl->error == ErrorCode::kRebalanceInProgress);
  CHECK(sf->error == ErrorCode::kRebalanceInProgress);
  CHECK(f.state("g") == GroupState::kPreparingRebalance);
  f.settle();
  CHECK(f.state("g") == GroupState::kPreparingRebalance);
  for (const auto& [id, m] : f.c().find("g")->members) CHECK(m.assignment.empty());
  // Everyone rejoins: the next generation works.
  auto& a2 = f.join(join_req("g", leader));
  auto& b2 = f.join(join_req("g", follower));
  REQUIRE(d.done());
  CHECK(d->generation == gen + 1);
  CHECK(a2->generation == gen + 1);
  CHECK(b2->generation == gen + 1);
}

TEST_CASE("sync: a retried leader sync while the store is pending", "[group][sync]") {
  GroupConfig c = test_config();
  Fixture f(LogMode::kDeferred, c);
  auto& a = f.join(join_req("g"));
  REQUIRE(a.done());
  auto& s1 = f.sync("g", 1, a->member_id, {{a->member_id, bytes_of("one")}});
  // A client retrying sends the same assignment again.
  auto& s2 = f.sync("g", 1, a->member_id, {{a->member_id, bytes_of("one")}});
  REQUIRE(s1.done());  // superseded
  CHECK(s1->error == ErrorCode::kRebalanceInProgress);
  f.settle();
  REQUIRE(s2.done());
  CHECK(s2->error == ErrorCode::kNone);
  CHECK(f.state("g") == GroupState::kStable);
  // The assignment handed out is the one stored.
  auto values = f.log.group_values("g");
  REQUIRE(!values.empty());
  CHECK(str_of(values.back().members.at(0).assignment) == str_of(s2->assignment));
  CHECK(str_of(s2->assignment) == "one");
}

TEST_CASE("sync: members that joined but do not sync within the rebalance timeout are removed",
          "[group][sync]") {
  LogMode mode = LOG_MODES();
  INFO("log mode " << mode_name(mode));
  Fixture f(mode);
  SECTION("a follower that never syncs") {
    auto sg = form_group(f, "g", 3);
    // A fourth member joins; all rejoin; the new generation forms.
    auto& d = f.join(join_req("g"));
    std::vector<Reply<JoinResult>*> rejoins;
    for (const auto& id : sg.member_ids) rejoins.push_back(&f.join(join_req("g", id)));
    f.settle();
    REQUIRE(d.done());
    for (auto* r : rejoins) REQUIRE(r->done());
    int32_t gen = d->generation;
    REQUIRE(f.state("g") == GroupState::kCompletingRebalance);
    const std::string leader = (*rejoins[0])->leader;
    auto& ls = f.sync("g", gen, leader);
    f.settle();
    REQUIRE(ls.done());
    REQUIRE(f.state("g") == GroupState::kStable);
    // Every member but d syncs; everyone keeps heartbeating, so no session expires.
    for (const auto& id : sg.member_ids) {
      if (id != leader) REQUIRE(f.sync("g", gen, id).done());
    }
    auto d_is_member = [&] { return f.coord->find("g")->has_member(d->member_id); };
    for (int i = 0; i < 7 && d_is_member(); ++i) {
      f.advance_ms(5000);
      for (const auto& id : sg.member_ids) (void)f.heartbeat("g", id, gen);
      if (d_is_member()) CHECK(f.heartbeat("g", d->member_id, gen) == ErrorCode::kNone);
    }
    CHECK(f.rt.now().ms() >= 30'000);  // the rebalance timeout
    CHECK(f.c().stats().members_removed_at_sync == 1);
    CHECK(f.state("g") == GroupState::kPreparingRebalance);
    CHECK_FALSE(d_is_member());
    CHECK(f.heartbeat("g", d->member_id, gen) == ErrorCode::kUnknownMemberId);
    f.advance_ms(30'000);  // nobody rejoins: the group ends up without members
    f.settle();
    CHECK(f.members("g") == 0);
  }
  SECTION("a group whose members all sync keeps its generation") {
    auto sg = form_group(f, "g", 2);
    for (int i = 0; i < 12; ++i) {
      f.advance_ms(5000);
      for (const auto& id : sg.member_ids) {
        CHECK(f.heartbeat("g", id, sg.generation) == ErrorCode::kNone);
      }
    }
    CHECK(f.state("g") == GroupState::kStable);
    CHECK(f.generation("g") == sg.generation);
    CHECK(f.c().stats().members_removed_at_sync == 0);
  }
}

}  // namespace
}  // namespace strata::group
