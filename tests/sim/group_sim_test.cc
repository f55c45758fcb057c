// The group coordinator and our GroupConsumer, unchanged, on simulated nodes: three members
// share six partitions; a member's machine crashes and its partitions move to the others
// only once its session timeout has passed in simulated time; the run is deterministic.
#include <catch2/catch.hpp>

#include "engine/broker/broker.h"
#include "engine/client/group_consumer.h"
#include "sim/invariants.h"
#include "sim/sim_network.h"

using namespace strata;
using namespace strata::sim;
using client::GroupConsumer;
using client::TopicPartition;

namespace {

constexpr int kMembers = 3;
constexpr int32_t kPartitions = 6;

struct GroupRun {
  SimWorld world;
  SimNetwork net{world};
  SimNode broker_node{world, net, 0, "broker-0"};
  std::vector<std::unique_ptr<SimNode>> member_nodes;
  std::unique_ptr<broker::Broker> broker;
  std::vector<std::unique_ptr<GroupConsumer>> members;
  std::vector<TimerId> pumps;
  ClusterInvariants invariants;
  std::vector<std::string> log;  // (time, member, generation, assignment) as it changes

  explicit GroupRun(uint64_t seed) : world(seed) {
    net.add_host(&broker_node);
    for (int i = 0; i < kMembers; ++i) {
      member_nodes.push_back(
          std::make_unique<SimNode>(world, net, i + 1, "member-" + std::to_string(i)));
      net.add_host(member_nodes.back().get());
    }
    broker::BrokerConfig config;
    config.listeners = {broker::Listener{"PLAINTEXT", "broker-0", 9092}};
    config.log_dirs = {"/data"};
    config.group.initial_rebalance_delay_ms = 0;
    config.group.offsets_topic_num_partitions = 3;
    broker = std::make_unique<broker::Broker>(broker_node, config);
    REQUIRE(broker->start());
    broker::CreateTopicSpec spec;
    spec.name = "events";
    spec.partitions = kPartitions;
    REQUIRE(broker->topics().create_topic(spec).ok());
    world.set_after_event([this] {
      if (broker) invariants.check(world.now(), "broker-0", 1, *broker);
    });
    for (int i = 0; i < kMembers; ++i) {
      client::ClientOptions opts;
      opts.bootstrap_servers = {{"broker-0", 9092}};
      opts.client_id = "member-" + std::to_string(i);
      client::GroupConsumerConfig cfg;
      cfg.group_id = "g";
      cfg.session_timeout_ms = 6000;
      cfg.heartbeat_interval_ms = 1000;
      cfg.consumer.auto_offset_reset = client::OffsetReset::kEarliest;
      members.push_back(std::make_unique<GroupConsumer>(*member_nodes[i], opts, cfg));
      REQUIRE(members.back()->subscribe({"events"}));
      pumps.push_back(TimerId{0});
      pump(i);
    }
  }
  ~GroupRun() { world.set_after_event(nullptr); }

  // The application loop of member i: poll every 50 ms (max.poll.interval.ms is satisfied).
  void pump(int i) {
    pumps[i] = member_nodes[i]->schedule(std::chrono::milliseconds(50), [this, i] {
      if (!members[i]) return;
      (void)members[i]->poll(1000);
      std::string line = std::to_string(world.now().ms()) + " member-" + std::to_string(i) +
                         " gen " + std::to_string(members[i]->generation()) + ":";
      for (const TopicPartition& tp : members[i]->assignment()) {
        line += " " + std::to_string(tp.partition.value());
      }
      if (last_line(i) != line.substr(line.find(' ') + 1)) log.push_back(line);
      pump(i);
    });
  }
  std::string last_line(int i) const {
    std::string who = "member-" + std::to_string(i) + " ";
    for (auto it = log.rbegin(); it != log.rend(); ++it) {
      if (it->find(who) != std::string::npos) return it->substr(it->find(' ') + 1);
    }
    return "";
  }

  // partition -> number of live members that own it
  std::map<int32_t, int> owners() const {
    std::map<int32_t, int> out;
    for (int32_t p = 0; p < kPartitions; ++p) out[p] = 0;
    for (const auto& m : members) {
      if (!m) continue;
      for (const TopicPartition& tp : m->assignment()) ++out[tp.partition.value()];
    }
    return out;
  }
  bool each_owned_once() const {
    for (const auto& [p, n] : owners()) {
      if (n != 1) return false;
    }
    return true;
  }
  void run_for(Duration d) { world.run_until(world.now() + d); }

  // The member's machine goes down: the process is gone (no LeaveGroup, no commit).
  void crash_member(int i) {
    members[i].reset();
    member_nodes[i]->crash(false);
  }
};

}  // namespace

TEST_CASE("sim groups: a crashed member's partitions move only after its session timeout") {
  GroupRun run(11);
  run.run_for(std::chrono::seconds(5));
  REQUIRE(run.each_owned_once());
  for (const auto& m : run.members) CHECK(m->state() == client::MemberState::kStable);
  const group::Group* g = run.broker->groups().find("g");
  REQUIRE(g != nullptr);
  CHECK(g->members.size() == 3);
  int32_t generation = g->generation;

  run.crash_member(2);
  int64_t crashed_ms = run.world.now().ms();
  run.run_for(std::chrono::seconds(4));
  // Within the session timeout the coordinator still counts the dead member: its two
  // partitions are owned by nobody alive.
  CHECK(run.broker->groups().find("g")->members.size() == 3);
  auto owners = run.owners();
  int unowned = 0;
  for (const auto& [p, n] : owners) unowned += n == 0 ? 1 : 0;
  CHECK(unowned == 2);

  run.run_for(std::chrono::seconds(6));
  REQUIRE(run.each_owned_once());
  g = run.broker->groups().find("g");
  CHECK(g->members.size() == 2);
  CHECK(g->generation > generation);
  CHECK(run.broker->groups().stats().members_expired == 1);
  CHECK(run.world.now().ms() - crashed_ms >= 6000);
  CHECK(run.invariants.violation_count() == 0);
  CHECK(run.invariants.checks() > 1000);
}

TEST_CASE("sim groups: the same seed gives the same rebalances at the same times") {
  auto history = [](uint64_t seed) {
    GroupRun run(seed);
    run.run_for(std::chrono::seconds(3));
    run.crash_member(0);
    run.run_for(std::chrono::seconds(10));
    return std::make_pair(run.log, run.world.events_run());
  };
  auto a = history(5);
  auto b = history(5);
  CHECK(a == b);
  CHECK(a.second > 0);
}
