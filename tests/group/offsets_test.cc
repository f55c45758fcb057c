// OffsetCommit / OffsetFetch, Describe / List / DeleteGroups, rebuilding from the log
// (replay + finish_load), and offset expiry.
#include <catch2/catch.hpp>

#include "tests/group/group_fixture.h"

namespace strata::group {
namespace {

using namespace testing;

#define LOG_MODES() GENERATE(LogMode::kSync, LogMode::kDeferred)

OffsetCommitEntry entry(std::string topic, int32_t partition, int64_t offset,
                        std::optional<std::string> metadata = std::nullopt, int32_t epoch = -1) {
  return {std::move(topic), partition, offset, epoch, std::move(metadata)};
}

using Parts = std::vector<std::pair<std::string, int32_t>>;

TEST_CASE("offsets: a member commits with its generation, fetch returns it", "[group][offsets]") {
  LogMode mode = LOG_MODES();
  INFO("log mode " << mode_name(mode));
  Fixture f(mode);
  auto sg = form_group(f, "g", 2);
  auto& c = f.commit("g", sg.generation, sg.member_ids[0],
                     {entry("orders", 0, 100, "m0", 3), entry("orders", 1, 200)});
  if (mode == LogMode::kDeferred) {
    CHECK_FALSE(c.done());
    // Not visible before it is stored.
    CHECK(f.c().fetch_offsets("g", Parts{{"orders", 0}}).offsets.at(0).offset == -1);
    f.settle();
  }
  REQUIRE(c.done());
  CHECK(c.value == std::vector<ErrorCode>{ErrorCode::kNone, ErrorCode::kNone});
  CHECK(f.c().stats().offset_commits == 2);
  CHECK(f.log.offset_values("g") == 2);

  OffsetFetchResult listed = f.c().fetch_offsets("g", Parts{{"orders", 0}, {"orders", 5},
                                                            {"other", 0}});
  CHECK(listed.error == ErrorCode::kNone);
  REQUIRE(listed.offsets.size() == 3);
  CHECK(listed.offsets[0].offset == 100);
  CHECK(listed.offsets[0].leader_epoch == 3);
  CHECK(listed.offsets[0].metadata == std::optional<std::string>("m0"));
  CHECK(listed.offsets[1].topic == "orders");
  CHECK(listed.offsets[1].partition == 5);
  CHECK(listed.offsets[1].offset == -1);
  CHECK(listed.offsets[1].error == ErrorCode::kNone);
  CHECK(listed.offsets[2].offset == -1);

  OffsetFetchResult all = f.c().fetch_offsets("g", std::nullopt);
  REQUIRE(all.offsets.size() == 2);
  CHECK(all.offsets[0].partition == 0);
  CHECK(all.offsets[1].offset == 200);
  CHECK(all.offsets[1].metadata == std::optional<std::string>(""));

  // Unknown group: listed partitions answer -1, "all" answers nothing.
  CHECK(f.c().fetch_offsets("nope", Parts{{"t", 0}}).offsets.at(0).offset == -1);
  CHECK(f.c().fetch_offsets("nope", std::nullopt).offsets.empty());

  // A newer commit replaces the older.
  auto& c2 = f.commit("g", sg.generation, sg.member_ids[1], {entry("orders", 0, 150)});
  f.settle();
  CHECK(c2.value == std::vector<ErrorCode>{ErrorCode::kNone});
  CHECK(f.c().fetch_offsets("g", Parts{{"orders", 0}}).offsets.at(0).offset == 150);
}

TEST_CASE("offsets: fencing errors", "[group][offsets]") {
  LogMode mode = LOG_MODES();
  INFO("log mode " << mode_name(mode));
  Fixture f(mode);
  auto sg = form_group(f, "g", 1);
  const std::string& a = sg.member_ids[0];
  auto one = [&](int32_t gen, const std::string& member) {
    auto& r = f.commit("g", gen, member, {entry("t", 0, 1)});
    f.settle();
    REQUIRE(r.done());
    REQUIRE(r.value.size() == 1);
    return r.value[0];
  };
  CHECK(one(sg.generation + 1, a) == ErrorCode::kIllegalGeneration);
  CHECK(one(sg.generation, "stranger") == ErrorCode::kUnknownMemberId);
  CHECK(one(-1, "") == ErrorCode::kUnknownMemberId);  // not Empty: no simple commits
  // CompletingRebalance: the member has the new generation but no assignment yet.
  auto& b = f.join(join_req("g"));
  auto& a2 = f.join(join_req("g", a));
  REQUIRE(a2.done());
  REQUIRE(f.state("g") == GroupState::kCompletingRebalance);
  CHECK(one(a2->generation, a) == ErrorCode::kRebalanceInProgress);
  CHECK(f.log.offset_values("g") == 0);
  CHECK(b.done());
  // An empty group id.
  auto& bad = f.commit("", -1, "", {entry("t", 0, 1), entry("t", 1, 1)});
  CHECK(bad.value == std::vector<ErrorCode>(2, ErrorCode::kInvalidGroupId));
}

TEST_CASE("offsets: commits outside group management", "[group][offsets]") {
  LogMode mode = LOG_MODES();
  INFO("log mode " << mode_name(mode));
  Fixture f(mode);
  // A nonexistent group: generation -1 creates it; a real generation is refused.
  auto& refused = f.commit("simple", 3, "m", {entry("t", 0, 1)});
  CHECK(refused.value == std::vector<ErrorCode>{ErrorCode::kIllegalGeneration});
  CHECK(f.c().find("simple") == nullptr);
  auto& ok = f.commit("simple", -1, "", {entry("t", 0, 5), entry("t", 1, 6)});
  f.settle();
  CHECK(ok.value == std::vector<ErrorCode>(2, ErrorCode::kNone));
  CHECK(f.state("simple") == GroupState::kEmpty);
  CHECK(f.c().fetch_offsets("simple", std::nullopt).offsets.size() == 2);
  CHECK(f.c().describe("simple").state == "Empty");
  CHECK(f.c().describe("simple").protocol_type.empty());
  // An Empty group that once had members accepts them too.
  auto sg = form_group(f, "g", 1);
  f.c().leave("g", {{sg.member_ids[0], std::nullopt}});
  f.settle();
  REQUIRE(f.state("g") == GroupState::kEmpty);
  auto& ok2 = f.commit("g", -1, "", {entry("t", 0, 7)});
  f.settle();
  CHECK(ok2.value == std::vector<ErrorCode>{ErrorCode::kNone});
  CHECK(f.c().fetch_offsets("g", Parts{{"t", 0}}).offsets.at(0).offset == 7);
}

TEST_CASE("offsets: metadata too large fails only that partition", "[group][offsets]") {
  LogMode mode = LOG_MODES();
  INFO("log mode " << mode_name(mode));
  Fixture f(mode);
  std::string big(static_cast<size_t>(f.config.offset_metadata_max_bytes) + 1, 'x');
  std::string max(static_cast<size_t>(f.config.offset_metadata_max_bytes), 'y');
  auto& r = f.commit("g", -1, "", {entry("t", 0, 1, big), entry("t", 1, 2, max),
                                   entry("t", 2, 3)});
  f.settle();
  CHECK(r.value == std::vector<ErrorCode>{ErrorCode::kOffsetMetadataTooLarge, ErrorCode::kNone,
                                          ErrorCode::kNone});
  auto fetched = f.c().fetch_offsets("g", Parts{{"t", 0}, {"t", 1}, {"t", 2}});
  CHECK(fetched.offsets[0].offset == -1);
  CHECK(fetched.offsets[1].offset == 2);
  CHECK(fetched.offsets[2].offset == 3);
  CHECK(f.log.offset_values("g") == 2);
  // Only too-large partitions: nothing stored, and no empty group left behind.
  auto& r2 = f.commit("h", -1, "", {entry("t", 0, 1, big)});
  CHECK(r2.value == std::vector<ErrorCode>{ErrorCode::kOffsetMetadataTooLarge});
  CHECK(f.c().find("h") == nullptr);
}

TEST_CASE("offsets: a failing store answers COORDINATOR_NOT_AVAILABLE", "[group][offsets]") {
  LogMode mode = LOG_MODES();
  INFO("log mode " << mode_name(mode));
  Fixture f(mode);
  auto sg = form_group(f, "g", 1);
  f.log.fail_next = 1;
  auto& r = f.commit("g", sg.generation, sg.member_ids[0], {entry("t", 0, 1)});
  f.settle();
  CHECK(r.value == std::vector<ErrorCode>{ErrorCode::kCoordinatorNotAvailable});
  CHECK(f.c().fetch_offsets("g", Parts{{"t", 0}}).offsets.at(0).offset == -1);
}

TEST_CASE("describe and list: Kafka's state names, Dead for unknown", "[group][describe]") {
  GroupConfig c = test_config();
  c.initial_rebalance_delay_ms = 1000;
  Fixture f(LogMode::kSync, c);
  GroupDescription unknown = f.c().describe("nope");
  CHECK(unknown.error == ErrorCode::kNone);
  CHECK(unknown.state == "Dead");
  CHECK(unknown.members.empty());

  auto& a = f.join(join_req("g"));
  CHECK(f.c().describe("g").state == "PreparingRebalance");
  f.advance_ms(1000);
  REQUIRE(a.done());
  GroupDescription completing = f.c().describe("g");
  CHECK(completing.state == "CompletingRebalance");
  CHECK(completing.protocol.empty());
  REQUIRE(completing.members.size() == 1);
  CHECK(completing.members[0].metadata.empty());
  CHECK(completing.members[0].client_id == "client");
  CHECK(completing.members[0].client_host == "/127.0.0.1");
  f.sync("g", a->generation, a->member_id, {{a->member_id, bytes_of("x")}});
  GroupDescription stable = f.c().describe("g");
  CHECK(stable.state == "Stable");
  CHECK(stable.protocol_type == "consumer");
  CHECK(stable.protocol == "range");
  CHECK(str_of(stable.members.at(0).metadata) == "sub");
  CHECK(str_of(stable.members.at(0).assignment) == "x");

  f.commit("simple", -1, "", {entry("t", 0, 1)});
  auto listed = f.c().list();
  REQUIRE(listed.size() == 2);
  CHECK(listed[0].group_id == "g");
  CHECK(listed[0].state == "Stable");
  CHECK(listed[0].protocol_type == "consumer");
  CHECK(listed[1].group_id == "simple");
  CHECK(listed[1].state == "Empty");
  CHECK(listed[1].protocol_type.empty());
}

TEST_CASE("delete: refuses non-empty groups, writes tombstones", "[group][delete]") {
  LogMode mode = LOG_MODES();
  INFO("log mode " << mode_name(mode));
  Fixture f(mode);
  auto& unknown = f.delete_group("nope");
  CHECK(unknown.value == ErrorCode::kGroupIdNotFound);

  auto sg = form_group(f, "g", 1);
  auto& c = f.commit("g", sg.generation, sg.member_ids[0], {entry("t", 0, 1), entry("u", 3, 9)});
  f.settle();
  REQUIRE(c.done());
  auto& busy = f.delete_group("g");
  CHECK(busy.value == ErrorCode::kNonEmptyGroup);

  f.c().leave("g", {{sg.member_ids[0], std::nullopt}});
  f.settle();
  REQUIRE(f.state("g") == GroupState::kEmpty);
  auto& del = f.delete_group("g");
  if (mode == LogMode::kDeferred) {
    CHECK_FALSE(del.done());
    CHECK(f.c().describe("g").state == "Dead");
    auto& join = f.join(join_req("g"));
    CHECK(join->error == ErrorCode::kCoordinatorNotAvailable);
    f.settle();
  }
  REQUIRE(del.done());
  CHECK(del.value == ErrorCode::kNone);
  CHECK(f.c().find("g") == nullptr);
  CHECK(f.log.group_tombstones("g") == 1);
  CHECK(f.log.offset_tombstones("g") == 2);
  CHECK(f.c().describe("g").state == "Dead");
  CHECK(f.c().list().empty());
  auto& again = f.delete_group("g");
  CHECK(again.value == ErrorCode::kGroupIdNotFound);
}

TEST_CASE("delete: a failing store keeps the group", "[group][delete]") {
  LogMode mode = LOG_MODES();
  INFO("log mode " << mode_name(mode));
  Fixture f(mode);
  f.commit("g", -1, "", {entry("t", 0, 1)});
  f.settle();
  f.log.fail_next = 1;
  auto& del = f.delete_group("g");
  f.settle();
  CHECK(del.value == ErrorCode::kCoordinatorNotAvailable);
  CHECK(f.state("g") == GroupState::kEmpty);
  CHECK(f.c().fetch_offsets("g", Parts{{"t", 0}}).offsets.at(0).offset == 1);
}

// Feeds everything `from` stored into a fresh coordinator on `to`.
void replay_into(const FakeGroupLog& from, GroupCoordinator& to) {
  for (const StoredRecord& r : from.stored) {
    std::optional<ByteSpan> value;
    if (r.record.value) value = ByteSpan(*r.record.value);
    to.replay(r.record.key, value);
  }
  to.finish_load();
}

TEST_CASE("replay: offsets and groups come back", "[group][replay]") {
  LogMode mode = LOG_MODES();
  INFO("log mode " << mode_name(mode));
  Fixture before(mode);
  auto sg = form_group(before, "g", 2);
  before.commit("g", sg.generation, sg.member_ids[0], {entry("t", 0, 42, "md", 7)});
  before.commit("simple", -1, "", {entry("t", 1, 9)});
  // A group that emptied and one that was deleted.
  auto gone = form_group(before, "gone", 1);
  before.commit("gone", gone.generation, gone.member_ids[0], {entry("t", 0, 1)});
  before.settle();
  before.c().leave("gone", {{gone.member_ids[0], std::nullopt}});
  before.settle();
  auto& del = before.delete_group("gone");
  before.settle();
  REQUIRE(del.value == ErrorCode::kNone);

  Fixture after(mode);
  replay_into(before.log, after.c());
  CHECK(after.c().stats().corrupt_records == 0);
  CHECK(after.c().stats().records_replayed == before.log.stored.size());
  CHECK(after.c().find("gone") == nullptr);
  CHECK(after.state("simple") == GroupState::kEmpty);
  CHECK(after.c().fetch_offsets("simple", Parts{{"t", 1}}).offsets.at(0).offset == 9);
  auto o = after.c().fetch_offsets("g", Parts{{"t", 0}}).offsets.at(0);
  CHECK(o.offset == 42);
  CHECK(o.leader_epoch == 7);
  CHECK(o.metadata == std::optional<std::string>("md"));

  // The group with members is Stable with its generation, leader and assignments.
  REQUIRE(after.state("g") == GroupState::kStable);
  CHECK(after.generation("g") == sg.generation);
  CHECK(after.members("g") == 2);
  GroupDescription d = after.c().describe("g");
  CHECK(d.protocol == "range");
  for (const auto& m : d.members) CHECK(str_of(m.assignment) == "asg-" + m.member_id);
  CHECK(after.heartbeat("g", sg.member_ids[0], sg.generation) == ErrorCode::kNone);
  CHECK(str_of(after.sync("g", sg.generation, sg.member_ids[1])->assignment) ==
        "asg-" + sg.member_ids[1]);
  // A rejoin with the same subscription in Stable: the same generation again.
  auto& rejoin = after.join(join_req("g", sg.member_ids[1]));
  REQUIRE(rejoin.done());
  CHECK(rejoin->generation == sg.generation);
  CHECK(after.state("g") == GroupState::kStable);
  // Members must heartbeat: member 0 does, member 1 does not.
  for (int i = 0; i < 4; ++i) {
    after.advance_ms(3000);
    after.heartbeat("g", sg.member_ids[0], sg.generation);
  }
  CHECK(after.members("g") == 1);
  CHECK(after.state("g") == GroupState::kPreparingRebalance);
}

TEST_CASE("replay: members that never come back are removed", "[group][replay]") {
  Fixture before(LogMode::kSync);
  auto sg = form_group(before, "g", 2);
  Fixture after(LogMode::kSync);
  replay_into(before.log, after.c());
  REQUIRE(after.state("g") == GroupState::kStable);
  after.advance_ms(9999);
  CHECK(after.members("g") == 2);
  after.advance_ms(1);
  after.settle();
  CHECK(after.members("g") == 0);
  CHECK(after.state("g") == GroupState::kEmpty);
  CHECK(after.generation("g") == sg.generation + 1);
}

TEST_CASE("replay: tombstones remove, corrupt records are skipped and counted",
          "[group][replay]") {
  Fixture f(LogMode::kSync);
  GroupCoordinator& c = f.c();
  Bytes k1 = encode_offset_key("g", "t", 0);
  Bytes k2 = encode_offset_key("g", "t", 1);
  Bytes v = encode_offset_value(CommittedOffset{5, -1, "", f.rt.wall_clock_ms()});
  c.replay(k1, ByteSpan(v));
  c.replay(k2, ByteSpan(v));
  c.replay(k1, std::nullopt);  // tombstone
  Bytes junk_key{0, 9, 1, 2};
  Bytes junk_value{0, 3, 0};
  c.replay(junk_key, ByteSpan(v));
  c.replay(k2, ByteSpan(junk_value));  // a corrupt value does not erase the good one
  c.replay(encode_group_key("g"), ByteSpan(junk_value));
  Bytes empty;
  c.replay(empty, std::nullopt);
  // A group tombstone for a group with members.
  GroupRecord rec;
  rec.protocol_type = "consumer";
  rec.generation = 4;
  rec.protocol = "range";
  rec.leader = "m";
  rec.members.push_back({"m", std::nullopt, "c", "/h", 30000, 10000, {}, {}});
  Bytes gv = encode_group_value(rec);
  c.replay(encode_group_key("h"), ByteSpan(gv));
  c.replay(encode_group_key("h"), std::nullopt);
  c.finish_load();
  CHECK(c.stats().corrupt_records == 4);
  CHECK(c.find("h") == nullptr);
  auto offsets = c.fetch_offsets("g", std::nullopt).offsets;
  REQUIRE(offsets.size() == 1);
  CHECK(offsets[0].partition == 1);
  CHECK(offsets[0].offset == 5);
  CHECK(f.state("g") == GroupState::kEmpty);
}

TEST_CASE("offset expiry: counted from when the group became empty", "[group][expiry]") {
  LogMode mode = LOG_MODES();
  INFO("log mode " << mode_name(mode));
  GroupConfig cfg = test_config();
  cfg.offsets_retention_ms = 100'000;
  cfg.offsets_retention_check_interval_ms = 1000;
  Fixture f(mode, cfg);
  auto sg = form_group(f, "g", 1);
  f.commit("g", sg.generation, sg.member_ids[0], {entry("t", 0, 1), entry("t", 1, 2)});
  f.settle();
  // Stable for longer than the retention: nothing expires while members are there.
  for (int i = 0; i < 40; ++i) {
    f.advance_ms(3000);
    f.heartbeat("g", sg.member_ids[0], sg.generation);
  }
  f.settle();
  CHECK(f.c().fetch_offsets("g", std::nullopt).offsets.size() == 2);
  // Empty from now (t = 120 s): expires at 220 s, not 100 s after the commit.
  f.c().leave("g", {{sg.member_ids[0], std::nullopt}});
  f.settle();
  REQUIRE(f.state("g") == GroupState::kEmpty);
  f.advance_ms(98'000);
  f.settle();
  CHECK(f.c().fetch_offsets("g", std::nullopt).offsets.size() == 2);
  CHECK(f.log.offset_tombstones("g") == 0);
  f.advance_ms(3000);
  f.settle();
  CHECK(f.c().find("g") == nullptr);  // every offset expired: the group is gone
  CHECK(f.c().stats().offsets_expired == 2);
  CHECK(f.log.offset_tombstones("g") == 2);
  CHECK(f.log.group_tombstones("g") == 1);
  CHECK(f.c().describe("g").state == "Dead");
}

TEST_CASE("offset expiry: a simple group's offsets expire from their commit, partially",
          "[group][expiry]") {
  GroupConfig cfg = test_config();
  cfg.offsets_retention_ms = 100'000;
  cfg.offsets_retention_check_interval_ms = 1000;
  Fixture f(LogMode::kSync, cfg);
  f.commit("s", -1, "", {entry("t", 0, 1)});
  f.advance_ms(50'000);
  f.commit("s", -1, "", {entry("t", 1, 1)});
  f.advance_ms(51'000);  // t = 101 s: partition 0 expired, partition 1 not
  auto left = f.c().fetch_offsets("s", std::nullopt).offsets;
  REQUIRE(left.size() == 1);
  CHECK(left[0].partition == 1);
  CHECK(f.log.offset_tombstones("s") == 1);
  CHECK(f.log.group_tombstones("s") == 0);
  f.advance_ms(50'000);
  CHECK(f.c().find("s") == nullptr);
  CHECK(f.log.group_tombstones("s") == 1);
}

TEST_CASE("offsets: a deferred commit keeps the new group it created", "[group][offsets]") {
  // A commit outside group management creates the group and waits for the log; a LeaveGroup
  // for an unknown member meanwhile used to drop the (still offset-less) group, and the
  // commit's completion then answered COORDINATOR_NOT_AVAILABLE although its records were
  // stored. Kafka keeps a group with pending offset commits.
  Fixture f(LogMode::kDeferred);
  auto& c = f.commit("s", -1, "", {entry("t", 0, 1)});
  f.c().leave("s", {{"nobody", std::nullopt}});
  f.settle();
  CHECK(c.value == std::vector<ErrorCode>{ErrorCode::kNone});
  CHECK(f.c().fetch_offsets("s", Parts{{"t", 0}}).offsets.at(0).offset == 1);
  // A failed commit on a new group leaves nothing behind.
  f.log.fail_next = 1;
  auto& failed = f.commit("t", -1, "", {entry("t", 0, 1)});
  CHECK(f.c().find("t") != nullptr);
  f.settle();
  CHECK(failed.value == std::vector<ErrorCode>{ErrorCode::kCoordinatorNotAvailable});
  CHECK(f.c().find("t") == nullptr);
}

}  // namespace
}  // namespace strata::group
