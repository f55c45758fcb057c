// ScenarioRun: one run of a scenario (runner.h), private to the runner's files — runner.cc
// (setup, workloads, history, measures, the run itself) and runner_faults.cc (faults, the
// nemesis, broker crash and restart). It owns the world and everything in it. Only ordered
// containers drive behaviour, so a (scenario, seed) pair replays exactly.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "engine/base/assert.h"
#include "engine/broker/broker.h"
#include "engine/broker/config.h"
#include "sim/group_workload.h"
#include "sim/invariants.h"
#include "sim/runner.h"

namespace strata::sim {

inline constexpr uint16_t kBrokerPort = 9092;
inline constexpr const char* kBrokerName = "broker-0";  // the controller when there are more
inline constexpr const char* kCheckerName = "checker";

// One broker node of the cluster: broker-N is node id N; broker-0 is the controller.
struct BrokerProcess {
  std::string name;
  broker::BrokerConfig config;
  std::unique_ptr<broker::Broker> broker;  // null while the process is down
  uint64_t incarnation = 0;  // bumped by every start: the invariants' epoch of truth
};

class ScenarioRun {
 public:
  ScenarioRun(const Scenario& s, uint64_t seed, const RunOptions& o)
      : s_(s), opt_(o), world_(seed), net_(world_), nemesis_rng_(world_.rng().fork(0x6e656d)) {}

  Result<RunOutcome> run();

 private:
  Status setup();
  Status start_broker(BrokerProcess& b);
  // Runs the world until every broker is registered and unfenced (several brokers only).
  Status await_cluster();
  BrokerProcess& broker_process(const std::string& name);
  // The replica that leads topic-partition on a live broker, if any.
  broker::PartitionReplica* leader_replica(const std::string& topic, int32_t partition);
  void schedule_workloads();
  void schedule_fault(const Fault& f);
  void apply(const Fault& f);
  void revert(const Fault& f);
  void crash_broker(const std::string& name, bool machine, bool tear);
  // Adds the counters of an incarnation about to end to the run's totals.
  void bank_broker_stats(BrokerProcess& b);
  void bank_producer_stats(const ProducerWorkload& p);
  void restart_broker(const std::string& name);
  void start_client(const std::string& id);
  void crash_client(const std::string& id);
  void restart_client(const std::string& id);
  void set_link(const std::string& a, const std::string& b, bool one_way, const LinkParams& p);
  void nemesis_tick();
  Fault nemesis_fault();
  void scan_history();
  int64_t total_lag();
  void sample();
  void final_phase();
  Status final_reads();
  Status final_committed(const std::string& group);
  void measure(RunOutcome& out);
  void evaluate(RunOutcome& out);
  void trace(const std::string& line) { world_.trace(line); }
  // A scenario time (`at:`, `start:`, `duration:`) as world time: they count from the moment
  // the cluster has formed (0 with one broker).
  MonoTime at(Duration scenario_time) const { return origin_ + scenario_time; }
  SimNode& node(const std::string& name) { return net_.node(host(name)); }
  int host(const std::string& name) const {
    int h = net_.host_of(name);
    STRATA_ASSERT(h >= 0, "the parser checks node names");
    return h;
  }
  int32_t partitions_of(const std::string& topic) const {
    for (const auto& t : s_.topics) {
      if (t.name == topic) return t.partitions;
    }
    return config_.num_partitions;  // auto-created
  }

  const Scenario& s_;
  const RunOptions& opt_;
  SimWorld world_;
  SimNetwork net_;
  Rng nemesis_rng_;
  std::vector<std::unique_ptr<SimNode>> nodes_;
  broker::BrokerConfig config_;          // the scenario's keys, before per-node settings
  std::vector<BrokerProcess> brokers_;  // index = node id
  MonoTime origin_{0};
  ClusterInvariants invariants_;
  std::unique_ptr<History> history_ = std::make_unique<History>();
  std::vector<std::unique_ptr<ProducerWorkload>> producers_;
  std::vector<std::unique_ptr<ConsumerWorkload>> consumers_;
  std::vector<std::unique_ptr<GroupMemberWorkload>> members_;  // by consumer index
  std::map<std::string, int64_t> next_seq_;  // producer → first sequence after a restart
  std::vector<std::string> groups_;          // the groups of the workload, sorted
  // A group member's polls move its group's position (lag is per group, as Kafka's).
  std::map<std::string, std::string> position_owner_;  // client → group or itself
  uint64_t members_expired_ = 0;  // over every broker incarnation
  uint64_t duplicate_batches_ = 0;
  uint64_t producer_retries_ = 0;  // over every producer incarnation
  uint64_t producer_id_resets_ = 0;
  std::vector<Endpoint> bootstrap_;  // every broker
  std::vector<std::string> topic_names_;
  std::vector<TraceLine> trace_;
  std::vector<MetricSample> metrics_;
  bool sampling_ = true;
  // Consumer positions and producer counts, folded incrementally from the history.
  size_t cursor_ = 0;
  std::map<std::string, int64_t> acked_, sent_;
  std::map<std::tuple<std::string, std::string, int32_t>, int64_t> position_;
  int64_t max_lag_ = 0;
  int64_t final_lag_ = 0;
};

}  // namespace strata::sim
