// The controller as a state machine: broker sessions, fencing and elections, topics, and
// AlterPartition. Every scenario appends the controller's records to a log, and the log
// replayed into a fresh controller must give the same image.
#include "engine/controller/controller.h"

#include <catch2/catch.hpp>
#include <random>
#include <set>
#include <sstream>

namespace strata::controller {
namespace {

std::vector<NodeId> nodes(std::initializer_list<int32_t> ids) {
  std::vector<NodeId> out;
  for (int32_t i : ids) out.emplace_back(i);
  return out;
}

std::string dump(const MetadataImage& image) {
  std::ostringstream out;
  for (const auto& [id, b] : image.brokers()) {
    out << "broker " << id.value() << " epoch " << b.epoch << (b.fenced ? " fenced" : "") << "\n";
  }
  for (const auto& [id, t] : image.topics()) {
    out << "topic " << t.name << " " << to_hex(id) << "\n";
    for (const auto& [k, v] : t.configs) out << "  " << k << "=" << v << "\n";
    for (const PartitionRegistration& p : t.partitions) {
      out << "  replicas";
      for (NodeId n : p.replicas) out << " " << n.value();
      out << " isr";
      for (NodeId n : p.isr) out << " " << n.value();
      out << " leader " << p.leader.value() << " epochs " << p.leader_epoch.value() << "/"
          << p.partition_epoch << "\n";
    }
  }
  out << "next producer id " << image.next_producer_id() << "\n";
  return out.str();
}

struct Cluster {
  explicit Cluster(ControllerConfig config = {}) : controller(config) {}

  template <class Reply>
  Reply apply(ControllerResult<Reply> result) {
    for (MetadataRecord& r : result.records) log.push_back(std::move(r));
    return result.reply;
  }

  static IncarnationId incarnation(int32_t id, uint8_t generation) {
    IncarnationId inc{};
    inc[0] = uint8_t(id);
    inc[1] = generation;
    return inc;
  }

  BrokerRegistrationReply register_broker(int32_t id, uint8_t generation = 0) {
    return apply(controller.on_broker_registration(
        {NodeId(id), incarnation(id, generation), {{"PLAINTEXT", "b", uint16_t(9000 + id)}}, {}},
        now_ms));
  }
  BrokerHeartbeatReply heartbeat(int32_t id, BrokerHeartbeatRequest extra = {}) {
    extra.broker_id = NodeId(id);
    if (extra.broker_epoch == -1) extra.broker_epoch = controller.image().broker(NodeId(id))->epoch;
    if (extra.metadata_offset == Offset(-1)) extra.metadata_offset = Offset(int64_t(log.size()));
    return apply(controller.on_broker_heartbeat(extra, now_ms));
  }
  // Registers brokers 1..n and unfences them.
  void start(int32_t n) {
    for (int32_t id = 1; id <= n; ++id) REQUIRE(register_broker(id).error == ErrorCode::kNone);
    for (int32_t id = 1; id <= n; ++id) REQUIRE_FALSE(heartbeat(id).is_fenced);
  }
  // Heartbeats from every live broker but `silent`, then advances time and ticks.
  int advance(int64_t ms, std::set<int32_t> silent = {}) {
    int fenced = 0;
    for (int64_t t = 0; t < ms; t += 1000) {
      now_ms += 1000;
      for (const auto& [id, b] : controller.image().brokers()) {
        if (!silent.contains(id.value()) && !b.fenced) heartbeat(id.value());
      }
      fenced += apply(controller.on_tick(now_ms));
    }
    return fenced;
  }
  TopicReply create(const std::string& name, int32_t partitions, int16_t rf) {
    CreateTopicRequest req;
    req.name = name;
    req.partitions = partitions;
    req.replication_factor = rf;
    return apply(controller.on_create_topics({req}, seed++)).at(0);
  }
  const PartitionRegistration& partition(const std::string& topic, int32_t index) {
    return controller.image().topic(topic)->partitions.at(size_t(index));
  }
  // The log replayed into a new controller gives the same image.
  void check_replay() {
    Controller fresh(controller.config());
    for (size_t i = 0; i < log.size(); ++i) REQUIRE(fresh.replay(log[i], Offset(int64_t(i))));
    fresh.check_invariants();
    CHECK(dump(fresh.image()) == dump(controller.image()));
  }

  Controller controller;
  std::vector<MetadataRecord> log;
  int64_t now_ms = 0;
  uint64_t seed = 1;
};

TEST_CASE("brokers: register fenced, unfence once caught up, sessions and epochs",
          "[controller][brokers]") {
  Cluster c;
  auto reg = c.register_broker(1);
  REQUIRE(reg.error == ErrorCode::kNone);
  CHECK(reg.broker_epoch == 0);  // the registration record's offset
  CHECK(c.controller.image().broker(NodeId(1))->fenced);

  // Not caught up: the broker has not yet replayed its own registration.
  auto hb = c.heartbeat(1, {.metadata_offset = Offset(0)});
  CHECK_FALSE(hb.is_caught_up);
  CHECK(hb.is_fenced);
  hb = c.heartbeat(1);
  CHECK(hb.is_caught_up);
  CHECK_FALSE(hb.is_fenced);

  // A retried registration (same incarnation) changes nothing.
  size_t records = c.log.size();
  CHECK(c.register_broker(1).broker_epoch == reg.broker_epoch);
  CHECK(c.log.size() == records);
  // Another process claiming node id 1 while the first one's session lives is refused.
  CHECK(c.register_broker(1, 1).error == ErrorCode::kDuplicateBrokerRegistration);
  CHECK(c.heartbeat(1, {.broker_epoch = 77}).error == ErrorCode::kStaleBrokerEpoch);
  CHECK(c.heartbeat(9, {.broker_epoch = 0, .metadata_offset = Offset(0)}).error ==
        ErrorCode::kBrokerIdNotRegistered);

  // The first process goes silent: its session ends, it is fenced, and the new one registers
  // with a higher epoch.
  CHECK(c.advance(9000, {1}) == 1);
  CHECK(c.controller.image().broker(NodeId(1))->fenced);
  auto again = c.register_broker(1, 1);
  REQUIRE(again.error == ErrorCode::kNone);
  CHECK(again.broker_epoch > reg.broker_epoch);
  CHECK(c.heartbeat(1, {.broker_epoch = reg.broker_epoch}).error == ErrorCode::kStaleBrokerEpoch);
  c.check_replay();
}

TEST_CASE("topics: placement over active brokers, leader is the first replica",
          "[controller][topics]") {
  Cluster c;
  c.start(3);
  auto t = c.create("orders", 6, 3);
  REQUIRE(t.error == ErrorCode::kNone);
  CHECK(t.partitions == 6);
  CHECK(t.replication_factor == 3);
  std::map<NodeId, int> leaders;
  for (int32_t i = 0; i < 6; ++i) {
    const auto& p = c.partition("orders", i);
    CHECK(p.replicas.size() == 3);
    CHECK(p.isr == p.replicas);
    CHECK(p.leader == p.replicas[0]);
    ++leaders[p.leader];
  }
  CHECK(leaders == std::map<NodeId, int>{{NodeId(1), 2}, {NodeId(2), 2}, {NodeId(3), 2}});

  CHECK(c.create("orders", 1, 1).error == ErrorCode::kTopicAlreadyExists);
  CHECK(c.create("wide", 1, 4).error == ErrorCode::kInvalidReplicationFactor);
  CHECK(c.create("none", 0, 1).error == ErrorCode::kInvalidPartitions);
  CHECK(c.controller.image().topic("wide") == nullptr);

  // Two creations of one name in one request: the second finds the first.
  CreateTopicRequest a;
  a.name = "twice";
  auto replies = c.apply(c.controller.on_create_topics({a, a}, 5));
  CHECK(replies[0].error == ErrorCode::kNone);
  CHECK(replies[1].error == ErrorCode::kTopicAlreadyExists);

  // A client's own assignment.
  CreateTopicRequest manual;
  manual.name = "manual";
  manual.assignments = {{0, nodes({3, 1})}, {1, nodes({2, 3})}};
  manual.configs = {{"retention.ms", "60000"}};
  auto m = c.apply(c.controller.on_create_topics({manual}, 6)).at(0);
  REQUIRE(m.error == ErrorCode::kNone);
  CHECK(c.partition("manual", 0).leader == NodeId(3));
  CHECK(c.controller.image().topic("manual")->configs.at("retention.ms") == "60000");
  manual.name = "bad";
  manual.assignments = {{0, nodes({3, 3})}};
  CHECK(c.apply(c.controller.on_create_topics({manual}, 7)).at(0).error ==
        ErrorCode::kInvalidReplicaAssignment);
  manual.assignments = {{0, nodes({3})}, {2, nodes({1})}};
  CHECK(c.apply(c.controller.on_create_topics({manual}, 7)).at(0).error ==
        ErrorCode::kInvalidReplicaAssignment);
  manual.assignments = {{0, nodes({3})}, {1, nodes({1, 2})}};  // one replication factor
  CHECK(c.apply(c.controller.on_create_topics({manual}, 7)).at(0).error ==
        ErrorCode::kInvalidReplicaAssignment);
  manual.assignments = {{0, nodes({8})}};
  CHECK(c.apply(c.controller.on_create_topics({manual}, 7)).at(0).error ==
        ErrorCode::kInvalidReplicaAssignment);

  // More partitions keep the replication factor; fewer are refused.
  auto grown = c.apply(c.controller.on_create_partitions("orders", 8, 9));
  REQUIRE(grown.error == ErrorCode::kNone);
  CHECK(c.partition("orders", 7).replicas.size() == 3);
  CHECK(c.apply(c.controller.on_create_partitions("orders", 8, 9)).error ==
        ErrorCode::kInvalidPartitions);
  CHECK(c.apply(c.controller.on_create_partitions("nope", 8, 9)).error ==
        ErrorCode::kUnknownTopicOrPartition);

  // Config overrides are replaced as a set.
  REQUIRE(c.apply(c.controller.on_alter_topic_configs("manual", {{"segment.ms", "1000"}})).error ==
          ErrorCode::kNone);
  CHECK(c.controller.image().topic("manual")->configs ==
        std::map<std::string, std::string>{{"segment.ms", "1000"}});

  auto deleted = c.apply(c.controller.on_delete_topics({"orders", "nope"}));
  CHECK(deleted[0].error == ErrorCode::kNone);
  CHECK(deleted[1].error == ErrorCode::kUnknownTopicOrPartition);
  CHECK(c.controller.image().topic("orders") == nullptr);
  c.check_replay();
}

TEST_CASE("fencing: a dead leader's partitions move to the next ISR member in replica order",
          "[controller][election]") {
  Cluster c;
  c.start(3);
  CreateTopicRequest req;
  req.name = "t";
  req.assignments = {{0, nodes({1, 2, 3})}, {1, nodes({2, 1, 3})}};
  CreateTopicRequest single;
  single.name = "s";
  single.assignments = {{0, nodes({1})}};
  auto created = c.apply(c.controller.on_create_topics({req, single}, 1));
  REQUIRE(created.at(0).error == ErrorCode::kNone);
  REQUIRE(created.at(1).error == ErrorCode::kNone);

  // Broker 1 stops heartbeating: fenced after broker.session.timeout.ms.
  CHECK(c.advance(8000, {1}) == 0);
  CHECK(c.advance(1000, {1}) == 1);
  const auto& p0 = c.partition("t", 0);
  CHECK(p0.leader == NodeId(2));
  CHECK(p0.isr == nodes({2, 3}));
  CHECK(p0.leader_epoch == LeaderEpoch(1));
  const auto& p1 = c.partition("t", 1);
  CHECK(p1.leader == NodeId(2));  // led by 2 all along: only the ISR shrinks
  CHECK(p1.isr == nodes({2, 3}));
  CHECK(p1.leader_epoch == LeaderEpoch(0));
  CHECK(p1.partition_epoch == 1);
  // The only replica of s-0 is gone: offline, and broker 1 stays its ISR.
  const auto& p2 = c.partition("s", 0);
  CHECK(p2.leader == kNoNode);
  CHECK(p2.isr == nodes({1}));

  // Broker 1 restarts: registered, caught up, unfenced, and leads s-0 again (clean: it was
  // the last ISR member). It does not rejoin t-0's ISR; only t-0's leader can add it.
  REQUIRE(c.register_broker(1, 1).error == ErrorCode::kNone);
  CHECK(c.partition("s", 0).leader == kNoNode);  // fenced until caught up
  REQUIRE_FALSE(c.heartbeat(1).is_fenced);
  CHECK(c.partition("s", 0).leader == NodeId(1));
  CHECK(c.partition("s", 0).leader_epoch == LeaderEpoch(2));
  CHECK(c.partition("t", 0).isr == nodes({2, 3}));
  c.check_replay();
}

TEST_CASE("election: unclean election only when configured, for the cluster or the topic",
          "[controller][election]") {
  for (int mode : {0, 1, 2}) {
    // 0: off; 1: the cluster default is on; 2: only the topic's override is on.
    const bool unclean = mode != 0;
    INFO("mode " << mode);
    Cluster c(ControllerConfig{.unclean_leader_election_enable = mode == 1});
    c.start(2);
    CreateTopicRequest req;
    req.name = "t";
    req.assignments = {{0, nodes({1, 2})}};
    if (mode == 2) req.configs = {{"unclean.leader.election.enable", "true"}};
    REQUIRE(c.apply(c.controller.on_create_topics({req}, 1)).at(0).error == ErrorCode::kNone);
    // Broker 2 falls behind; the leader shrinks the ISR to itself.
    const auto p = c.partition("t", 0);
    REQUIRE(p.leader == NodeId(1));
    auto shrink = c.apply(c.controller.on_alter_partition(
        {NodeId(1), c.controller.image().broker(NodeId(1))->epoch,
         c.controller.image().topic("t")->id, 0, p.leader_epoch, p.partition_epoch, nodes({1})}));
    REQUIRE(shrink.error == ErrorCode::kNone);
    // Then broker 1, the only ISR member, dies.
    c.advance(9000, {1});
    const auto& after = c.partition("t", 0);
    if (unclean) {
      CHECK(after.leader == NodeId(2));  // records only broker 1 had are lost
      CHECK(after.isr == nodes({2}));
    } else {
      CHECK(after.leader == kNoNode);  // unavailable, but nothing acknowledged is lost
      CHECK(after.isr == nodes({1}));
    }
    c.check_replay();
  }
}

TEST_CASE("alter partition: epochs guard the ISR", "[controller][isr]") {
  Cluster c;
  c.start(3);
  CreateTopicRequest req;
  req.name = "t";
  req.assignments = {{0, nodes({1, 2, 3})}};
  REQUIRE(c.apply(c.controller.on_create_topics({req}, 1)).at(0).error == ErrorCode::kNone);
  const TopicId id = c.controller.image().topic("t")->id;
  auto epoch = [&](int32_t b) { return c.controller.image().broker(NodeId(b))->epoch; };
  auto alter = [&](int32_t b, int32_t leader_epoch, int32_t partition_epoch,
                   std::vector<NodeId> isr) {
    return c.apply(c.controller.on_alter_partition(
        {NodeId(b), epoch(b), id, 0, LeaderEpoch(leader_epoch), partition_epoch, isr}));
  };
  auto ok = alter(1, 0, 0, nodes({1, 2}));
  REQUIRE(ok.error == ErrorCode::kNone);
  CHECK(ok.partition.isr == nodes({1, 2}));
  CHECK(ok.partition.partition_epoch == 1);
  CHECK(ok.partition.leader_epoch == LeaderEpoch(0));

  CHECK(alter(1, 0, 0, nodes({1})).error == ErrorCode::kInvalidUpdateVersion);  // stale view
  CHECK(alter(2, 0, 1, nodes({2})).error == ErrorCode::kNotLeaderOrFollower);
  CHECK(alter(1, 0, 1, nodes({2})).error == ErrorCode::kInvalidRequest);     // leader left out
  CHECK(alter(1, 0, 1, nodes({1, 7})).error == ErrorCode::kInvalidRequest);  // not a replica
  // Broker 3 is fenced: it may not rejoin the ISR (KIP-841).
  c.advance(9000, {3});
  CHECK(alter(1, 0, 1, nodes({1, 2, 3})).error == ErrorCode::kIneligibleReplica);
  CHECK(alter(1, 0, 1, nodes({1, 2})).error == ErrorCode::kNone);  // no change, no record

  // Leadership moves: the old leader's next AlterPartition carries a stale leader epoch.
  c.advance(9000, {1, 3});
  REQUIRE(c.partition("t", 0).leader == NodeId(2));
  REQUIRE(c.register_broker(1, 1).error == ErrorCode::kNone);
  REQUIRE_FALSE(c.heartbeat(1).is_fenced);
  const auto& p = c.partition("t", 0);
  CHECK(alter(2, p.leader_epoch.value(), p.partition_epoch, nodes({2, 1})).error ==
        ErrorCode::kNone);
  CHECK(c.partition("t", 0).isr == nodes({2, 1}));
  c.check_replay();
}

TEST_CASE("controlled shutdown hands leadership over, then the broker may restart at once",
          "[controller][brokers]") {
  Cluster c;
  c.start(2);
  CreateTopicRequest req;
  req.name = "t";
  req.assignments = {{0, nodes({1, 2})}};
  CreateTopicRequest single;
  single.name = "s";
  single.assignments = {{0, nodes({1})}};
  auto created = c.apply(c.controller.on_create_topics({req, single}, 1));
  REQUIRE(created.at(1).error == ErrorCode::kNone);
  auto hb = c.heartbeat(1, {.want_shutdown = true});
  CHECK(hb.should_shut_down);
  CHECK(hb.is_fenced);
  CHECK(c.partition("t", 0).leader == NodeId(2));
  CHECK(c.partition("t", 0).isr == nodes({2}));
  CHECK(c.partition("s", 0).leader == kNoNode);
  // Ticks in between do not give the stopped broker a session back (a regression: they did,
  // and the restarted process was refused as a duplicate until it expired).
  c.advance(3000, {1});
  CHECK(c.register_broker(1, 1).error == ErrorCode::kNone);  // no 9 s wait for a clean stop
  c.check_replay();
}

TEST_CASE("producer id blocks never overlap, across a controller restart",
          "[controller][producer-ids]") {
  Cluster c;
  c.start(2);
  auto a = c.apply(c.controller.on_allocate_producer_ids(NodeId(1), 0));
  auto b = c.apply(c.controller.on_allocate_producer_ids(NodeId(2), 1));
  REQUIRE(a.error == ErrorCode::kNone);
  CHECK(b.first_producer_id == a.first_producer_id + a.count);
  CHECK(c.apply(c.controller.on_allocate_producer_ids(NodeId(2), 0)).error ==
        ErrorCode::kStaleBrokerEpoch);
  Controller fresh(c.controller.config());
  for (size_t i = 0; i < c.log.size(); ++i) REQUIRE(fresh.replay(c.log[i], Offset(int64_t(i))));
  auto next = fresh.on_allocate_producer_ids(NodeId(1), 0);
  CHECK(next.reply.first_producer_id == b.first_producer_id + b.count);
}

TEST_CASE("random operations keep every invariant, and the log rebuilds the same image",
          "[controller][random]") {
  std::map<std::string, int> seen;  // what the runs exercised, so the test cannot pass idle
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    INFO("seed " << seed);
    std::mt19937_64 rng(seed);
    Cluster c(ControllerConfig{.unclean_leader_election_enable = seed % 2 == 0});
    c.start(5);
    std::map<int32_t, uint8_t> generation;
    for (int step = 0; step < 300; ++step) {
      int32_t b = int32_t(1 + rng() % 5);
      switch (rng() % 7) {
        case 0:
          c.create("t" + std::to_string(rng() % 8), int32_t(1 + rng() % 4), int16_t(1 + rng() % 3));
          break;
        case 1:
          c.apply(c.controller.on_delete_topics({"t" + std::to_string(rng() % 8)}));
          break;
        case 2:
          c.advance(1000 * int64_t(1 + rng() % 10), {b});
          break;
        case 3:
          c.register_broker(b, ++generation[b]);
          c.heartbeat(b);
          break;
        case 4:
          c.heartbeat(b, {.want_shutdown = true});
          break;
        case 5: {
          // The leader of some partition drops a follower or takes back a replica.
          for (const auto& [id, t] : c.controller.image().topics()) {
            const PartitionRegistration& p = t.partitions[0];
            if (!p.has_leader()) continue;
            std::vector<NodeId> isr{p.leader};
            for (NodeId r : p.replicas) {
              if (r != p.leader && rng() % 2 == 0) isr.push_back(r);
            }
            c.apply(c.controller.on_alter_partition(
                {p.leader, c.controller.image().broker(p.leader)->epoch, id, 0, p.leader_epoch,
                 p.partition_epoch, isr}));
            break;
          }
          break;
        }
        default:
          c.advance(1000);
          break;
      }
    }
    c.check_replay();
    for (const MetadataRecord& r : c.log) {
      if (const auto* change = std::get_if<PartitionChangeRecord>(&r)) {
        if (change->leader) ++seen[*change->leader == kNoNode ? "offline" : "elected"];
        if (change->isr) ++seen["isr"];
      }
      if (std::holds_alternative<FenceBrokerRecord>(r)) ++seen["fenced"];
      if (std::holds_alternative<RemoveTopicRecord>(r)) ++seen["deleted"];
    }
  }
  for (const char* what : {"offline", "elected", "isr", "fenced", "deleted"}) {
    INFO(what);
    CHECK(seen[what] > 20);
  }
}

}  // namespace
}  // namespace strata::controller
