// The real broker on simulated nodes: the same code that serves sockets, under virtual time,
// a simulated network and a disk that loses unsynced bytes on a crash.
#include <catch2/catch.hpp>

#include <functional>
#include <memory>
#include <vector>

#include "engine/broker/broker.h"
#include "engine/protocol/framing.h"
#include "engine/protocol/messages.h"
#include "engine/protocol/record_batch.h"
#include "sim/invariants.h"
#include "sim/sim_network.h"
#include "tests/support/wire_client.h"

using namespace strata;
using namespace strata::sim;

namespace {

// Drives a simulated client node for WireClient: its transport, and the world stepped until
// a condition holds or the simulated timeout passes.
struct SimLoop {
  SimWorld& world;
  SimNode& node;
  Transport& transport() { return node.transport(); }
  bool run_until(const std::function<bool()>& done, Duration timeout) {
    MonoTime limit = world.now() + timeout;
    while (!done() && world.now() < limit && world.step()) {
    }
    return done();
  }
};

struct SimCluster {
  SimWorld world;
  SimNetwork net{world};
  SimNode broker_node{world, net, 0, "broker-0"};
  SimNode client_node{world, net, 1, "client-0"};
  SimLoop loop{world, client_node};
  broker::BrokerConfig config;
  std::unique_ptr<broker::Broker> broker;
  std::vector<std::string> log;

  explicit SimCluster(uint64_t seed) : world(seed) {
    REQUIRE(net.add_host(&broker_node) == 0);
    REQUIRE(net.add_host(&client_node) == 1);
    config.listeners = {broker::Listener{"PLAINTEXT", "broker-0", 9092}};
    config.log_dirs = {"/data"};
    broker_node.set_log_sink([this](std::string_view l) { log.emplace_back(l); });
    broker_node.set_log_level(LogLevel::kWarn);
    start_broker();
  }
  void start_broker() {
    broker = std::make_unique<broker::Broker>(broker_node, config);
    REQUIRE(broker->start());
  }
  void crash_broker(bool tear) {
    broker_node.crash(tear);
    broker.reset();  // the process is gone; no shutdown runs
  }
  void restart_broker() {
    broker_node.restart();
    start_broker();
  }
  Endpoint endpoint() const { return {"broker-0", 9092}; }
};

Bytes batch_of(int n) {
  RecordBatchBuilder b;
  for (int i = 0; i < n; ++i) {
    std::string v = "r" + std::to_string(i);
    b.add(0, std::nullopt, as_bytes(v));
  }
  return *b.build();
}

proto::ProduceRequest produce(const std::string& topic, const Bytes& batch) {
  proto::ProduceRequest req;
  req.acks = -1;
  req.timeout_ms = 1000;
  auto& t = req.topic_data.emplace_back();
  t.name = topic;
  t.partition_data.push_back({0, ByteSpan(batch)});
  return req;
}

int64_t high_watermark(SimLoop& loop, const Endpoint& to, const std::string& topic) {
  testing::WireClient client(loop, to, std::chrono::seconds(60));
  proto::ListOffsetsRequest req;
  req.replica_id = -1;
  auto& t = req.topics.emplace_back();
  t.name = topic;
  t.partitions.push_back({0, -1, -1});
  client.send(req, 5);
  return client.receive<proto::ListOffsetsResponse>(5).topics.at(0).partitions.at(0).offset;
}
int64_t high_watermark(SimCluster& c, const std::string& topic) {
  return high_watermark(c.loop, c.endpoint(), topic);
}

// Creates the topic unless it exists, then produces `batches` batches of 10 records;
// returns how many were acked.
int produce_acked(SimLoop& loop, const Endpoint& to, const std::string& topic, int batches) {
  testing::WireClient client(loop, to, std::chrono::seconds(60));
  proto::CreateTopicsRequest ct;
  ct.topics.push_back({topic, 1, 1, {}, {}});
  client.send(ct, 4);
  int16_t created = client.receive<proto::CreateTopicsResponse>(4).topics.at(0).error_code;
  REQUIRE((created == 0 || created == int16_t(proto::ErrorCode::kTopicAlreadyExists)));
  int acked = 0;
  for (int i = 0; i < batches; ++i) {
    Bytes b = batch_of(10);
    client.send(produce(topic, b), 7);
    auto r = client.receive<proto::ProduceResponse>(7);
    if (r.responses.at(0).partition_responses.at(0).error_code == 0) ++acked;
  }
  return acked;
}
int produce_acked(SimCluster& c, const std::string& topic, int batches) {
  return produce_acked(c.loop, c.endpoint(), topic, batches);
}

// Several broker processes on one simulated network (hosts 0..n-1) and a client (host n).
// Without replication, which strata does not have yet, each broker is a cluster of its own;
// this fixture checks what the runtime gives every node: its own disk, process and links.
struct SimBrokers {
  SimWorld world;
  SimNetwork net{world};
  std::vector<std::unique_ptr<SimNode>> nodes;
  std::vector<std::unique_ptr<broker::Broker>> brokers;
  SimNode client_node;
  SimLoop loop{world, client_node};

  SimBrokers(uint64_t seed, int n) : world(seed), client_node(world, net, n, "client-0") {
    for (int b = 0; b < n; ++b) {
      nodes.push_back(std::make_unique<SimNode>(world, net, b, name(b)));
      REQUIRE(net.add_host(nodes.back().get()) == b);
      nodes.back()->set_log_level(LogLevel::kError);
      brokers.emplace_back();
      start(b);
    }
    REQUIRE(net.add_host(&client_node) == n);
  }
  static std::string name(int b) { return "broker-" + std::to_string(b); }
  Endpoint endpoint(int b) const { return {name(b), 9092}; }
  void start(int b) {
    broker::BrokerConfig config;
    config.node_id = NodeId(b);
    config.listeners = {broker::Listener{"PLAINTEXT", name(b), 9092}};
    config.log_dirs = {"/data"};  // the same path on every machine, each its own disk
    brokers[size_t(b)] = std::make_unique<broker::Broker>(*nodes[size_t(b)], config);
    REQUIRE(brokers[size_t(b)]->start());
  }
  void crash_and_restart(int b) {
    nodes[size_t(b)]->crash(false);
    brokers[size_t(b)].reset();
    nodes[size_t(b)]->restart();
    start(b);
  }
};

}  // namespace

TEST_CASE("sim: the broker serves a client over the simulated network") {
  SimCluster c(1);
  CHECK(produce_acked(c, "t", 5) == 5);
  CHECK(high_watermark(c, "t") == 50);
  CHECK(c.world.now() > MonoTime{0});
}

TEST_CASE("sim: a machine crash loses acknowledged but unsynced records (acks without fsync)") {
  SimCluster c(2);
  CHECK(produce_acked(c, "t", 5) == 5);
  c.crash_broker(false);
  c.restart_broker();
  // Default log.flush.interval.messages: nothing was synced, so the records are gone —
  // the lesson of acks without replication. The topic itself was synced (metadata log).
  CHECK(high_watermark(c, "t") == 0);
}

TEST_CASE("sim: with log.flush.interval.messages=1 every acknowledged record survives") {
  SimCluster c(3);
  c.config.topic_defaults.flush_messages = 1;
  c.crash_broker(false);
  c.restart_broker();
  CHECK(produce_acked(c, "t", 5) == 5);
  c.crash_broker(true);  // even with a torn last write
  c.restart_broker();
  CHECK(high_watermark(c, "t") == 50);
}

TEST_CASE("sim: a partition between client and broker stalls requests until it heals") {
  SimCluster c(4);
  CHECK(produce_acked(c, "t", 1) == 1);
  testing::WireClient client(c.loop, c.endpoint(), std::chrono::seconds(60));
  c.net.partition({{0}, {1}});
  Bytes b = batch_of(10);
  client.send(produce("t", b), 7);
  c.world.run_until(c.world.now() + std::chrono::seconds(5));
  CHECK(c.broker->stats().records_in == 10);  // only the first batch arrived
  c.net.heal_all();
  auto r = client.receive<proto::ProduceResponse>(7);
  CHECK(r.responses.at(0).partition_responses.at(0).base_offset == 10);
}

TEST_CASE("sim: the same seed gives the same trace and another seed differs") {
  auto run = [](uint64_t seed) {
    SimCluster c(seed);
    c.net.set_default_params({std::chrono::microseconds(300), std::chrono::microseconds(500)});
    produce_acked(c, "t", 20);
    c.crash_broker(true);
    c.restart_broker();
    high_watermark(c, "t");
    c.world.trace("hw " + std::to_string(c.world.now().ns));
    return c.world.trace_hash();
  };
  uint64_t a = run(42), b = run(42), other = run(43);
  CHECK(a == b);
  CHECK(a != other);
}

TEST_CASE("sim: link graph components follow partitions") {
  SimWorld w(1);
  SimNetwork net(w);
  SimNode a(w, net, 0, "a"), b(w, net, 1, "b"), c(w, net, 2, "c");
  net.add_host(&a);
  net.add_host(&b);
  net.add_host(&c);
  CHECK(net.components().size() == 1);
  net.partition({{0}, {1, 2}});
  CHECK(net.components() == std::vector<std::vector<int>>{{0}, {1, 2}});
  net.set_link_up(0, 1, true);  // one-way: a reaches b, b does not reach a
  CHECK(net.link_up(0, 1));
  CHECK_FALSE(net.link_up(1, 0));
  CHECK(net.components().size() == 2);
  net.heal_all();
  CHECK(net.components().size() == 1);
}

TEST_CASE("sim: a slow disk stalls the broker and raises produce latency") {
  auto produce_time = [](Duration sync_latency) {
    SimCluster c(5);
    c.config.topic_defaults.flush_messages = 1;  // every append syncs
    c.crash_broker(false);
    c.restart_broker();
    c.broker_node.set_disk_latency({Duration(0), Duration(0), sync_latency, Duration(0)});
    testing::WireClient client(c.loop, c.endpoint(), std::chrono::seconds(60));
    proto::CreateTopicsRequest ct;
    ct.topics.push_back({"t", 1, 1, {}, {}});
    client.send(ct, 4);
    (void)client.receive<proto::CreateTopicsResponse>(4);
    Bytes b = batch_of(10);
    MonoTime start = c.world.now();
    client.send(produce("t", b), 7);
    auto r = client.receive<proto::ProduceResponse>(7);
    CHECK(r.responses.at(0).partition_responses.at(0).error_code == 0);
    return c.world.now() - start;
  };
  Duration fast = produce_time(Duration(0));
  Duration slow = produce_time(std::chrono::milliseconds(40));
  CHECK(fast < std::chrono::milliseconds(5));
  CHECK(slow >= std::chrono::milliseconds(40));
}

TEST_CASE("sim invariants: a machine crash loses unsynced writes in a new leader epoch") {
  SimCluster c(1);
  ClusterInvariants inv;
  uint64_t incarnation = 1;
  auto check = [&] {
    if (c.broker) inv.check(c.world.now(), "broker-0", incarnation, *c.broker);
  };
  check();
  REQUIRE(produce_acked(c, "t", 5) == 5);
  check();
  auto* p = c.broker->topics().find("t", 0);
  REQUIRE(p != nullptr);
  int32_t epoch_before = p->leader_epoch.value();
  // No fsync: the crash takes the 50 records back, the high watermark drops to 0 — allowed,
  // because the restarted broker leads in a new epoch.
  c.crash_broker(false);
  c.restart_broker();
  ++incarnation;
  check();
  p = c.broker->topics().find("t", 0);
  REQUIRE(p != nullptr);
  CHECK(p->high_watermark().value() == 0);
  CHECK(p->leader_epoch.value() > epoch_before);
  CHECK(inv.violation_count() == 0);
  CHECK(inv.checks() == 3);
}

TEST_CASE("sim invariants: the high watermark going down within an epoch is reported") {
  SimCluster c(1);
  ClusterInvariants inv;
  REQUIRE(produce_acked(c, "t", 3) == 3);
  inv.check(c.world.now(), "broker-0", 1, *c.broker);
  // What a bug would do: truncate the leader's log under its own epoch.
  auto* p = c.broker->topics().find("t", 0);
  REQUIRE(p->log->truncate_to(Offset(10)));
  inv.check(c.world.now(), "broker-0", 1, *c.broker);
  REQUIRE(inv.violation_count() == 1);
  CHECK(inv.violations()[0].invariant == "hw-monotonic");
  CHECK(inv.violations()[0].detail.find("t-0: high watermark went from 30 to 10") !=
        std::string::npos);
}

TEST_CASE("sim invariants: a group deleted and joined again starts over at generation 0") {
  // Found by fuzz_broker: the generation check remembered groups that were gone.
  SimCluster c(1);
  ClusterInvariants inv;
  c.world.set_after_event([&] {
    if (c.broker) inv.check(c.world.now(), "broker-0", 1, *c.broker);
  });
  group::GroupCoordinator& groups = c.broker->groups();
  auto join = [&] {
    group::JoinRequest req;
    req.group_id = "g";
    req.client_id = "c";
    req.session_timeout_ms = 10000;
    req.rebalance_timeout_ms = 30000;
    req.protocol_type = "consumer";
    req.protocols.push_back({"range", Bytes{}});
    std::string member;
    groups.join(std::move(req), [&member](group::JoinResult r) { member = r.member_id; });
    c.world.run_until(c.world.now() + std::chrono::seconds(4));  // past the initial delay
    return member;
  };
  std::string member = join();
  REQUIRE(groups.find("g")->generation == 1);
  groups.leave("g", {{member, std::nullopt}});  // an empty generation 2 follows at once
  REQUIRE(groups.find("g")->generation == 2);
  group::ErrorCode deleted = group::ErrorCode::kUnknownServerError;
  groups.delete_group("g", [&](group::ErrorCode e) { deleted = e; });
  c.world.run_until(c.world.now() + std::chrono::seconds(1));
  REQUIRE(deleted == group::ErrorCode::kNone);
  REQUIRE(groups.find("g") == nullptr);
  join();
  CHECK(groups.find("g")->generation == 1);
  CHECK(inv.violation_count() == 0);
  c.world.set_after_event(nullptr);
}

TEST_CASE("sim: several brokers on one network keep their own disks and crashes and links") {
  SimBrokers c(11, 3);
  for (int b = 0; b < 3; ++b) CHECK(produce_acked(c.loop, c.endpoint(b), "t", 2 + b) == 2 + b);

  // A machine crash takes broker 1's unsynced records and nothing of the others'.
  c.crash_and_restart(1);
  CHECK(high_watermark(c.loop, c.endpoint(0), "t") == 20);
  CHECK(high_watermark(c.loop, c.endpoint(1), "t") == 0);
  CHECK(high_watermark(c.loop, c.endpoint(2), "t") == 40);

  // Cut broker 2 off from everyone: its client's request waits, broker 0 serves on.
  testing::WireClient to2(c.loop, c.endpoint(2), std::chrono::seconds(60));
  c.net.partition({{2}, {0, 1, 3}});
  Bytes batch = batch_of(10);
  to2.send(produce("t", batch), 7);
  CHECK(produce_acked(c.loop, c.endpoint(0), "t", 1) == 1);
  c.world.run_until(c.world.now() + std::chrono::seconds(5));
  CHECK(c.brokers[2]->stats().records_in == 40);
  CHECK(c.brokers[0]->stats().records_in == 30);
  c.net.heal_all();
  auto r = to2.receive<proto::ProduceResponse>(7);
  CHECK(r.responses.at(0).partition_responses.at(0).base_offset == 40);
  CHECK(c.brokers[2]->stats().records_in == 50);
}
