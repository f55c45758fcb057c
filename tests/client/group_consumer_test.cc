// GroupConsumer against a real in-process broker with its group coordinator: members share a
// topic, closing and killed members hand over their partitions, commits resume a restarted
// member, groups are independent, cooperative-sticky moves only what must move, and the
// admin calls see it all. Small timeouts keep each scenario within a few seconds.
#include "engine/client/group_consumer.h"

#include <catch2/catch.hpp>
#include <set>

#include "tests/client/client_harness.h"

using namespace strata;
using namespace strata::testing;
using client::GroupConsumer;
using client::MemberState;
using client::TopicPartition;

namespace {

// A broker whose coordinator does not wait before the first rebalance and accepts short
// sessions.
struct GroupBroker : BrokerFixture {
  GroupBroker() {
    config.group.min_session_timeout_ms = 200;
    config.group.initial_rebalance_delay_ms = 0;
    config.group.offsets_topic_num_partitions = 3;
    restart();
  }
};

client::GroupConsumerConfig group_config(const std::string& group,
                                         const std::string& strategy = "range") {
  client::GroupConsumerConfig c;
  c.group_id = group;
  c.assignment_strategy = strategy;
  c.session_timeout_ms = 1000;
  c.heartbeat_interval_ms = 100;
  c.max_poll_interval_ms = 5000;
  c.auto_commit_interval_ms = 200;
  c.consumer.auto_offset_reset = client::OffsetReset::kEarliest;
  c.consumer.fetch_max_wait_ms = 50;
  c.consumer.retry_backoff_ms = 50;
  return c;
}

// One member plus what it saw.
struct Member {
  std::unique_ptr<GroupConsumer> c;
  std::vector<client::ConsumerRecord> got;
  std::vector<std::vector<TopicPartition>> assigned, revoked, lost;
  std::vector<Status> errors;

  Member(PosixRuntime& rt, const Endpoint& ep, client::GroupConsumerConfig config,
         std::vector<std::string> topics) {
    REQUIRE(client::validate(config));
    c = std::make_unique<GroupConsumer>(rt, client_options(ep), config);
    c->set_rebalance_listener({[this](const auto& tps) { revoked.push_back(tps); },
                               [this](const auto& tps) { assigned.push_back(tps); },
                               [this](const auto& tps) { lost.push_back(tps); }});
    c->set_error_callback([this](const Status& s) { errors.push_back(s); });
    REQUIRE(c->subscribe(std::move(topics)));
  }
  void poll() {
    if (!c) return;
    for (auto& r : c->poll(10000)) got.push_back(std::move(r));
  }
  bool stable() const { return c && c->state() == MemberState::kStable; }
  size_t revoked_count() const {
    size_t n = 0;
    for (const auto& v : revoked) n += v.size();
    return n;
  }
};

// Runs the loop, polling every member, until `done`.
bool pump(PosixRuntime& rt, std::vector<Member*> ms, const std::function<bool()>& done,
          Duration timeout = std::chrono::seconds(8)) {
  return rt.run_until(
      [&] {
        for (auto* m : ms) m->poll();
        return done();
      },
      timeout);
}

// Every member stable in one generation, owning disjoint partitions that cover `partitions`.
bool settled(std::vector<Member*> ms, size_t partitions) {
  std::set<TopicPartition> all;
  size_t owned = 0;
  int32_t gen = ms.front()->c->generation();
  for (auto* m : ms) {
    if (!m->stable() || m->c->generation() != gen) return false;
    for (const auto& tp : m->c->assignment()) all.insert(tp);
    owned += m->c->assignment().size();
  }
  return owned == partitions && all.size() == partitions;
}

void produce(PosixRuntime& rt, const Endpoint& ep, const std::string& topic, int32_t partitions,
             int per_partition, const std::string& prefix = "v") {
  client::Producer producer(rt, client_options(ep), {});
  int done = 0, want = partitions * per_partition;
  for (int32_t p = 0; p < partitions; ++p) {
    for (int i = 0; i < per_partition; ++i) {
      client::ProducerRecord r{
          topic,        PartitionId(p),
          std::nullopt, bytes_of(prefix + std::to_string(p) + "-" + std::to_string(i)),
          {},           {}};
      REQUIRE(producer.send(std::move(r), [&](auto md) {
        REQUIRE(md);
        ++done;
      }));
    }
  }
  REQUIRE(rt.run_until([&] { return done == want; }, std::chrono::seconds(5)));
  close_client(rt, producer.network());
}

void close_member(PosixRuntime& rt, Member& m, std::vector<Member*> others = {}) {
  bool closed = false;
  m.c->close([&] { closed = true; });
  others.push_back(&m);
  REQUIRE(pump(
      rt, others, [&] { return closed; }, std::chrono::seconds(5)));
  CHECK(m.c->state() == MemberState::kClosed);
  close_client(rt, m.c->network());
}

std::set<std::string> values(const std::vector<Member*>& ms) {
  std::set<std::string> out;
  for (auto* m : ms) {
    for (const auto& r : m->got) out.insert(str(r.value));
  }
  return out;
}

size_t records(const std::vector<Member*>& ms) {
  size_t n = 0;
  for (auto* m : ms) n += m->got.size();
  return n;
}

}  // namespace

TEST_CASE("three members share a 6-partition topic, and a closing member hands its partitions on") {
  GroupBroker f;
  create_topic(*f.rt, f.endpoint(), "g6", 6);
  produce(*f.rt, f.endpoint(), "g6", 6, 10);
  Member a(*f.rt, f.endpoint(), group_config("share"), {"g6"});
  Member b(*f.rt, f.endpoint(), group_config("share"), {"g6"});
  Member c(*f.rt, f.endpoint(), group_config("share"), {"g6"});
  std::vector<Member*> all = {&a, &b, &c};
  REQUIRE(pump(*f.rt, all, [&] { return settled(all, 6) && records(all) >= 60; }));
  for (auto* m : all) CHECK(m->c->assignment().size() == 2);  // range: 6 over 3
  CHECK(records(all) == 60);
  CHECK(values(all).size() == 60);  // each record once: every partition has one owner
  CHECK(a.c->protocol_name() == "range");
  CHECK(int(a.c->is_leader()) + int(b.c->is_leader()) + int(c.c->is_leader()) == 1);

  int32_t gen = a.c->generation();
  auto c_had = c.c->assignment();
  close_member(*f.rt, c, {&a, &b});
  CHECK(c.revoked_count() == 2);
  std::vector<Member*> rest = {&a, &b};
  REQUIRE(pump(*f.rt, rest, [&] { return settled(rest, 6) && a.c->generation() > gen; }));
  CHECK(a.c->assignment().size() == 3);
  CHECK(b.c->assignment().size() == 3);
  produce(*f.rt, f.endpoint(), "g6", 6, 1, "late");
  auto late = [&] {
    size_t n = 0;
    for (const auto& v : values(rest)) n += v.rfind("late", 0) == 0 ? 1 : 0;
    return n;
  };
  REQUIRE(pump(*f.rt, rest, [&] { return late() >= 6; }));
  CHECK(late() == 6);
  for (const auto& tp : c_had) {
    bool moved = false;
    for (auto* m : rest) {
      for (const auto& r : m->got)
        moved = moved || (r.partition == tp.partition && str(r.value).rfind("late", 0) == 0);
    }
    CHECK(moved);
  }
  close_member(*f.rt, a, {&b});
  close_member(*f.rt, b);
}

TEST_CASE("a member killed without leaving loses its partitions after session.timeout.ms") {
  GroupBroker f;
  create_topic(*f.rt, f.endpoint(), "kill", 4);
  auto a = std::make_unique<Member>(*f.rt, f.endpoint(), group_config("kill"),
                                    std::vector<std::string>{"kill"});
  Member b(*f.rt, f.endpoint(), group_config("kill"), {"kill"});
  REQUIRE(pump(*f.rt, {a.get(), &b}, [&] { return settled({a.get(), &b}, 4); }));
  int32_t gen = b.c->generation();
  a.reset();  // a crash: no commit, no LeaveGroup
  REQUIRE(pump(*f.rt, {&b}, [&] { return settled({&b}, 4) && b.c->generation() > gen; }));
  CHECK(b.c->assignment().size() == 4);
  CHECK(b.lost.empty());
  close_member(*f.rt, b);
}

TEST_CASE("committed offsets resume a restarted member, and two groups read independently") {
  GroupBroker f;
  create_topic(*f.rt, f.endpoint(), "resume", 2);
  produce(*f.rt, f.endpoint(), "resume", 2, 15);
  auto manual = group_config("g1");
  manual.enable_auto_commit = false;
  {
    Member m(*f.rt, f.endpoint(), manual, {"resume"});
    REQUIRE(pump(*f.rt, {&m}, [&] { return m.got.size() >= 30; }));
    std::optional<Status> committed;
    m.c->commit([&](const Status& s) { committed = s; });
    REQUIRE(pump(*f.rt, {&m}, [&] { return committed.has_value(); }));
    CHECK(*committed);
    CHECK(m.c->committed().at({"resume", PartitionId(0)}) == Offset(15));
    close_member(*f.rt, m);
  }
  produce(*f.rt, f.endpoint(), "resume", 2, 5, "new");
  Member again(*f.rt, f.endpoint(), manual, {"resume"});
  Member other(*f.rt, f.endpoint(), group_config("g2"), {"resume"});
  REQUIRE(pump(*f.rt, {&again, &other},
               [&] { return again.got.size() >= 10 && other.got.size() >= 40; }));
  CHECK(again.got.size() == 10);
  for (const auto& r : again.got) CHECK(str(r.value).rfind("new", 0) == 0);
  CHECK(other.got.size() == 40);  // the other group has no commits: from the beginning
  close_member(*f.rt, again, {&other});
  close_member(*f.rt, other);
}

TEST_CASE("cooperative-sticky moves only what must move, in two rebalances") {
  GroupBroker f;
  create_topic(*f.rt, f.endpoint(), "coop", 6);
  auto config = group_config("coop", "cooperative-sticky");
  Member a(*f.rt, f.endpoint(), config, {"coop"});
  REQUIRE(pump(*f.rt, {&a}, [&] { return settled({&a}, 6); }));
  CHECK(a.c->rebalance_protocol() == client::RebalanceProtocol::kCooperative);
  auto before = a.c->assignment();
  Member b(*f.rt, f.endpoint(), config, {"coop"});
  REQUIRE(pump(*f.rt, {&a, &b}, [&] {
    return settled({&a, &b}, 6) && b.c->assignment().size() == 3;
  }));
  CHECK(a.c->assignment().size() == 3);
  CHECK(a.revoked_count() == 3);  // only the three that moved, never all six
  CHECK(a.lost.empty());
  for (const auto& tp : a.c->assignment()) {
    CHECK(std::binary_search(before.begin(), before.end(), tp));
  }
  CHECK(b.c->stats().rebalances >= 2);  // nothing at first, its share in the follow-up
  close_member(*f.rt, a, {&b});
  close_member(*f.rt, b);
}

TEST_CASE("admin lists, describes, reads offsets of, resets and deletes groups") {
  GroupBroker f;
  create_topic(*f.rt, f.endpoint(), "adm", 2);
  produce(*f.rt, f.endpoint(), "adm", 2, 3);
  Member m(*f.rt, f.endpoint(), group_config("admin-g"), {"adm"});
  REQUIRE(pump(*f.rt, {&m}, [&] { return m.stable() && m.got.size() >= 6; }));
  std::optional<Status> committed;
  m.c->commit([&](const Status& s) { committed = s; });
  REQUIRE(pump(*f.rt, {&m}, [&] { return committed.has_value(); }));
  REQUIRE(*committed);

  client::Admin admin(*f.rt, client_options(f.endpoint()));
  auto groups =
      wait_for<std::vector<client::GroupListing>>(*f.rt, [&](auto cb) { admin.list_groups(cb); });
  REQUIRE(groups);
  REQUIRE(groups->size() == 1);
  CHECK((*groups)[0].group_id == "admin-g");
  CHECK((*groups)[0].protocol_type == "consumer");

  auto desc = wait_for<std::vector<client::GroupDescription>>(*f.rt, [&](auto cb) {
    admin.describe_groups({"admin-g", "nobody"}, cb);
  });
  REQUIRE(desc);
  REQUIRE(desc->size() == 2);
  CHECK((*desc)[0].state == "Stable");
  CHECK((*desc)[0].protocol == "range");
  REQUIRE((*desc)[0].members.size() == 1);
  CHECK((*desc)[0].members[0].member_id == m.c->member_id());
  CHECK((*desc)[0].members[0].assignment.size() == 2);
  CHECK((*desc)[1].state == "Dead");

  auto offsets = wait_for<std::vector<client::CommittedOffset>>(
      *f.rt, [&](auto cb) { admin.list_group_offsets("admin-g", std::nullopt, cb); });
  REQUIRE(offsets);
  REQUIRE(offsets->size() == 2);
  CHECK((*offsets)[0].offset == 3);

  auto busy = wait_for<std::vector<client::TopicResult>>(
      *f.rt, [&](auto cb) { admin.delete_groups({"admin-g"}, cb); });
  REQUIRE(busy);
  CHECK((*busy)[0].status().message().rfind("NON_EMPTY_GROUP", 0) == 0);

  close_member(*f.rt, m);
  auto reset = wait_for<std::vector<client::CommittedOffset>>(*f.rt, [&](auto cb) {
    admin.alter_group_offsets("admin-g", {{{"adm", PartitionId(0)}, 1}}, cb);
  });
  REQUIRE(reset);
  REQUIRE(reset->size() == 1);
  CHECK((*reset)[0].error_code == 0);
  auto after = wait_for<std::vector<client::CommittedOffset>>(*f.rt, [&](auto cb) {
    admin.list_group_offsets("admin-g", std::vector<TopicPartition>{{"adm", PartitionId(0)}}, cb);
  });
  REQUIRE(after);
  CHECK((*after)[0].offset == 1);
  auto deleted = wait_for<std::vector<client::TopicResult>>(
      *f.rt, [&](auto cb) { admin.delete_groups({"admin-g"}, cb); });
  REQUIRE(deleted);
  CHECK((*deleted)[0].status());
  close_client(*f.rt, admin.network());
}

TEST_CASE("a member that stops polling leaves the group and rejoins on its next poll") {
  GroupBroker f;
  create_topic(*f.rt, f.endpoint(), "slow", 2);
  auto config = group_config("slow");
  config.max_poll_interval_ms = 600;
  Member lazy(*f.rt, f.endpoint(), config, {"slow"});
  Member busy(*f.rt, f.endpoint(), config, {"slow"});
  REQUIRE(pump(*f.rt, {&lazy, &busy}, [&] { return settled({&lazy, &busy}, 2); }));
  // Only `busy` polls now.
  REQUIRE(pump(*f.rt, {&busy},
               [&] { return lazy.c->state() == MemberState::kLeft && settled({&busy}, 2); }));
  CHECK(lazy.c->stats().poll_timeouts == 1);
  REQUIRE(lazy.lost.size() == 1);  // out of the group: lost, not revoked
  CHECK(lazy.lost[0].size() == 1);
  // The application comes back with a processed batch: its commit fails without being sent.
  std::optional<Status> commit;
  std::vector<std::string> observed;
  lazy.c->set_commit_observer([&](const GroupConsumer::CommitOutcome& c) {
    observed.push_back(std::to_string(c.offsets.size()) + " " + c.status.message().substr(0, 13));
  });
  lazy.c->commit({{TopicPartition{"slow", PartitionId(0)}, Offset(1)}},
                 [&](const Status& s) { commit = s; });
  REQUIRE(pump(*f.rt, {&busy}, [&] { return commit.has_value(); }));
  CHECK(commit->message().rfind("COMMIT_FAILED: member left group", 0) == 0);
  CHECK(observed == std::vector<std::string>{"1 COMMIT_FAILED"});
  REQUIRE(pump(*f.rt, {&lazy, &busy}, [&] { return settled({&lazy, &busy}, 2); }));
  close_member(*f.rt, lazy, {&busy});
  close_member(*f.rt, busy);
}

TEST_CASE("group consumer configuration is validated with precise messages") {
  client::GroupConsumerConfig c;
  CHECK(client::validate(c).message() == "group.id must not be empty");
  c.group_id = "g";
  CHECK(client::validate(c));
  c.assignment_strategy = "sticky";
  CHECK(client::validate(c).message().find("unknown assignor 'sticky'") != std::string::npos);
  c.assignment_strategy = "range";
  c.heartbeat_interval_ms = c.session_timeout_ms;
  CHECK(client::validate(c).message() ==
        "heartbeat.interval.ms must be lower than session.timeout.ms");
}

TEST_CASE("a static member restarts without a rebalance: no LeaveGroup, same partitions") {
  GroupBroker f;
  create_topic(*f.rt, f.endpoint(), "static", 4);
  auto config = group_config("static");
  config.session_timeout_ms = 5000;  // the restart must come well within the session
  auto a_config = config;
  a_config.group_instance_id = "instance-a";
  // b first, so that it leads: a restarted leader makes the coordinator rebalance (it must
  // run the assignment again), a restarted follower does not.
  Member b(*f.rt, f.endpoint(), config, {"static"});
  REQUIRE(pump(*f.rt, {&b}, [&] { return settled({&b}, 4); }));
  auto a = std::make_unique<Member>(*f.rt, f.endpoint(), a_config,
                                    std::vector<std::string>{"static"});
  REQUIRE(pump(*f.rt, {a.get(), &b}, [&] { return settled({a.get(), &b}, 4); }));
  REQUIRE(b.c->is_leader());
  auto a_had = a->c->assignment();
  int32_t gen = b.c->generation();
  b.revoked.clear();  // from the rebalance that let a in
  close_member(*f.rt, *a, {&b});
  a = std::make_unique<Member>(*f.rt, f.endpoint(), a_config, std::vector<std::string>{"static"});
  REQUIRE(pump(*f.rt, {a.get(), &b}, [&] { return a->stable(); }));
  pump(*f.rt, {a.get(), &b}, [] { return false; }, std::chrono::milliseconds(300));
  CHECK(a->c->assignment() == a_had);
  CHECK(a->c->generation() == gen);
  CHECK(b.c->generation() == gen);
  CHECK(b.revoked.empty());
  close_member(*f.rt, *a, {&b});
  close_member(*f.rt, b);
}

TEST_CASE("a paused member is fenced: its commit fails with the Kafka error and it rejoins") {
  GroupBroker f;
  create_topic(*f.rt, f.endpoint(), "fence", 2);
  produce(*f.rt, f.endpoint(), "fence", 2, 5);
  // The paused member runs on a runtime of its own that the test stops driving.
  auto paused_rt = PosixRuntime::create({.log_level_min = LogLevel::kError});
  REQUIRE(paused_rt);
  PosixRuntime& prt = **paused_rt;
  auto config = group_config("fence");
  config.enable_auto_commit = false;
  // Longer than the 1 s of the other tests: on a loaded machine (a CI build beside the
  // suite) a stall of a second could fence a member before the test pauses it.
  config.session_timeout_ms = 3000;
  Member a(prt, f.endpoint(), config, {"fence"});
  Member b(*f.rt, f.endpoint(), config, {"fence"});
  // Both runtimes in turn: the broker lives on f.rt.
  auto both = [&](const std::function<bool()>& done, int rounds) {
    for (int i = 0; i < rounds; ++i) {
      a.poll();
      b.poll();
      if (done()) return true;
      prt.run_until(done, std::chrono::milliseconds(5));
      f.rt->run_until(done, std::chrono::milliseconds(5));
    }
    return done();
  };
  // a must hold delivered positions of its own partition: with none, its commit below would
  // be an empty one, which succeeds without asking the coordinator (a CI run saw that).
  REQUIRE(both(
      [&] {
        return settled({&a, &b}, 2) && a.got.size() + b.got.size() >= 10 &&
               !a.c->consumer().delivered_positions().empty();
      },
      2000));
  int32_t gen = b.c->generation();
  // Only the broker and b run: a misses its session and is removed.
  REQUIRE(pump(*f.rt, {&b}, [&] { return settled({&b}, 2) && b.c->generation() > gen; }));
  std::optional<Status> committed;
  a.c->commit([&](const Status& s) { committed = s; });
  REQUIRE(both([&] { return committed.has_value(); }, 2000));
  REQUIRE_FALSE(*committed);
  std::string msg = committed->message();
  CHECK((msg.rfind("UNKNOWN_MEMBER_ID", 0) == 0 || msg.rfind("ILLEGAL_GENERATION", 0) == 0));
  REQUIRE(both([&] { return settled({&a, &b}, 2); }, 2000));
  CHECK(a.lost.size() == 1);
  CHECK(a.c->stats().commit_failures == 1);
  bool a_closed = false;
  a.c->close([&] { a_closed = true; });
  REQUIRE(both([&] { return a_closed; }, 1000));
  close_client(prt, a.c->network());
  close_member(*f.rt, b);
}

TEST_CASE("members find the coordinator again after the broker restarts") {
  GroupBroker f;
  create_topic(*f.rt, f.endpoint(), "restart", 2);
  Member a(*f.rt, f.endpoint(), group_config("restart"), {"restart"});
  REQUIRE(pump(*f.rt, {&a}, [&] { return settled({&a}, 2); }));
  uint64_t lookups = a.c->stats().coordinator_lookups;
  f.restart();
  produce(*f.rt, f.endpoint(), "restart", 2, 3, "after");
  REQUIRE(pump(*f.rt, {&a}, [&] { return settled({&a}, 2) && a.got.size() >= 6; }));
  CHECK(a.c->stats().coordinator_lookups > lookups);
  close_member(*f.rt, a);
}
