// Whole simulated runs: producer and consumer workloads (our real client) against the real
// broker on simulated nodes, a fault, then the checker over the history.
#include <catch2/catch.hpp>

#include "engine/broker/broker.h"
#include "sim/checker.h"
#include "sim/sim_network.h"
#include "sim/workload.h"

using namespace strata;
using namespace strata::sim;

namespace {

struct Run {
  SimWorld world;
  SimNetwork net{world};
  SimNode broker_node{world, net, 0, "broker-0"};
  SimNode producer_node{world, net, 1, "producer-0"};
  SimNode consumer_node{world, net, 2, "consumer-0"};

  broker::BrokerConfig config;
  std::unique_ptr<broker::Broker> broker;
  History history;
  std::vector<Endpoint> bootstrap{{"broker-0", 9092}};

  explicit Run(uint64_t seed, int64_t flush_messages) : world(seed) {
    net.add_host(&broker_node);
    net.add_host(&producer_node);
    net.add_host(&consumer_node);

    config.listeners = {broker::Listener{"PLAINTEXT", "broker-0", 9092}};
    config.log_dirs = {"/data"};
    config.num_partitions = 2;
    config.topic_defaults.flush_messages = flush_messages;
    start_broker();
  }
  void start_broker() {
    broker = std::make_unique<broker::Broker>(broker_node, config);
    REQUIRE(broker->start());
  }
  void run_for(Duration d) { world.run_until(world.now() + d); }

  CheckResult scenario_crash_and_restart() {
    ProducerSpec ps;
    ps.topic = "t";
    ps.rate_per_s = 2000;
    ps.config.acks = 1;
    ps.config.request_timeout_ms = 2000;
    ps.config.delivery_timeout_ms = 10000;
    ConsumerSpec cs;
    cs.topic = "t";
    cs.config.auto_offset_reset = client::OffsetReset::kEarliest;
    ProducerWorkload producer(producer_node, history, ps, bootstrap);
    ConsumerWorkload consumer(consumer_node, history, cs, bootstrap, 2);
    producer.start();
    run_for(std::chrono::milliseconds(100));  // let auto-creation happen first
    consumer.start();
    run_for(std::chrono::seconds(2));
    broker_node.crash(true);  // machine crash: only synced bytes survive
    broker.reset();
    run_for(std::chrono::seconds(1));
    broker_node.restart();
    start_broker();
    run_for(std::chrono::seconds(2));
    producer.stop();
    run_for(std::chrono::seconds(5));  // deliveries finish or time out

    consumer.stop();
    REQUIRE(final_read(world, consumer_node, history, "t", 2, bootstrap,
                       std::chrono::seconds(30)));
    return check_history(history);
  }
};

}  // namespace

TEST_CASE("sim run: a machine crash with acks=1 and no fsync loses acknowledged writes") {
  Run run(7, INT64_MAX);
  CheckResult r = run.scenario_crash_and_restart();
  INFO("seed 7: sent " << r.sent << " acked " << r.acked << " polled " << r.polled);
  CHECK(r.acked > 3000);
  CHECK(r.count(AnomalyKind::kLostWrite) > 0);
  // Consumers read records that the crash then erased, and later others took their offsets.
  CHECK(r.count(AnomalyKind::kInconsistentOffset) > 0);
}

TEST_CASE("sim run: with log.flush.interval.messages=1 no acknowledged write is lost") {
  Run run(7, 1);
  CheckResult r = run.scenario_crash_and_restart();
  INFO("seed 7: sent " << r.sent << " acked " << r.acked << " polled " << r.polled);
  for (const auto& a : r.anomalies) {
    INFO(anomaly_name(a.kind) << " " << a.value_id << " " << a.detail);
  }
  CHECK(r.acked > 3000);
  CHECK(r.count(AnomalyKind::kLostWrite) == 0);
  CHECK(r.count(AnomalyKind::kInconsistentOffset) == 0);
  CHECK(r.count(AnomalyKind::kOffsetBackwards) == 0);
}

TEST_CASE("sim run: the same seed reproduces the run exactly") {
  auto hash = [](uint64_t seed) {
    Run run(seed, INT64_MAX);
    CheckResult r = run.scenario_crash_and_restart();
    run.world.trace("acked " + std::to_string(r.acked) + " lost " +
                    std::to_string(r.count(AnomalyKind::kLostWrite)));
    return std::make_pair(run.world.trace_hash(), r.acked);
  };
  auto a = hash(11), b = hash(11), c = hash(12);
  CHECK(a == b);
  CHECK(a.first != c.first);
}
