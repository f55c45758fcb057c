// strata_sim_bench: how fast the simulator runs the standard scenario — one broker
// with 4 partitions, one producer at 10,000 records/s (acks=1, linger.ms=5, 100-byte values,
// uniform keys), one consumer — for --sim-seconds of simulated time, built directly with the
// workload API as tests/sim/workload_test.cc does. Prints simulated events, records and
// simulated seconds per wall second (the time-compression ratio), medians over --runs.
//
// Two settings keep a long run's memory bounded without changing what is simulated: the
// history is emptied every simulated second (operations are still recorded, as a scenario run
// records them, just not kept), and partitions keep 128 MiB in 32 MiB segments.
//
// Page faults are a large share of the time on this machine (results/sim-speed.md):
// GLIBC_TUNABLES=glibc.malloc.hugetlb=1 lets glibc's heap use transparent huge pages.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "engine/broker/broker.h"
#include "sim/sim_network.h"
#include "sim/workload.h"

using namespace strata;
using namespace strata::sim;

namespace {

struct Options {
  int64_t sim_seconds = 600;
  int runs = 3;
  uint64_t seed = 1;
  int64_t segment_mib = 32;
  int64_t retention_mib = 128;  // per partition
};

struct Figures {
  double wall_s = 0;
  uint64_t events = 0;
  int64_t acked = 0;
  int64_t polled = 0;
  uint64_t trace_hash = 0;
};

// Counts acks and polls as the history is emptied, so the figures cover the whole run.
void drain(History& h, Figures& f) {
  for (const OpRecord& op : h.records()) {
    if (op.type == OpType::kAck) ++f.acked;
    if (op.type == OpType::kPoll) ++f.polled;
  }
  h.clear_records();
}

Figures run_once(const Options& o, uint64_t seed) {
  SimWorld world(seed);
  SimNetwork net(world);
  SimNode broker_node(world, net, 0, "broker-0");
  SimNode producer_node(world, net, 1, "producer-0");
  SimNode consumer_node(world, net, 2, "consumer-0");
  net.add_host(&broker_node);
  net.add_host(&producer_node);
  net.add_host(&consumer_node);

  broker::BrokerConfig config;
  config.listeners = {broker::Listener{"PLAINTEXT", "broker-0", 9092}};
  config.log_dirs = {"/data"};
  config.num_partitions = 4;
  config.topic_defaults.segment_bytes = int32_t(o.segment_mib << 20);
  config.topic_defaults.retention_bytes = o.retention_mib << 20;
  config.log_retention_check_interval_ms = 30000;
  broker::Broker broker(broker_node, config);
  if (!broker.start()) std::abort();

  History history;
  std::vector<Endpoint> bootstrap{{"broker-0", 9092}};
  ProducerSpec ps;
  ps.topic = "t";
  ps.rate_per_s = 10000;
  ps.keys = KeyDistribution::kUniform;
  ps.record_size = 100;
  ps.config.acks = 1;
  ps.config.linger_ms = 5;
  ConsumerSpec cs;
  cs.topic = "t";
  cs.config.auto_offset_reset = client::OffsetReset::kEarliest;
  ProducerWorkload producer(producer_node, history, ps, bootstrap);
  ConsumerWorkload consumer(consumer_node, history, cs, bootstrap, 4);

  Figures f;
  auto t0 = std::chrono::steady_clock::now();  // a benchmark may read the real clock
  producer.start();
  world.run_until(world.now() + std::chrono::milliseconds(100));  // topic auto-creation
  consumer.start();
  const Duration slice = std::chrono::seconds(1);
  MonoTime end{int64_t(o.sim_seconds) * 1'000'000'000};
  while (world.now() < end) {
    world.run_until(std::min(end, world.now() + slice));
    drain(history, f);
  }
  f.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  f.events = world.events_run();
  f.trace_hash = world.trace_hash();
  return f;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

bool parse(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    bool has_value = i + 1 < argc;
    if (a == "--sim-seconds" && has_value) {
      o.sim_seconds = std::atoll(argv[++i]);
    } else if (a == "--runs" && has_value) {
      o.runs = std::atoi(argv[++i]);
    } else if (a == "--seed" && has_value) {
      o.seed = std::strtoull(argv[++i], nullptr, 10);
    } else if (a == "--segment-mib" && has_value) {
      o.segment_mib = std::atoll(argv[++i]);
    } else if (a == "--retention-mib" && has_value) {
      o.retention_mib = std::atoll(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: strata_sim_bench [--sim-seconds N (600)] [--runs N (3)] "
                           "[--seed S (1)]\n"
                           "                        [--segment-mib N (32)] "
                           "[--retention-mib N (128, per partition)]\n");
      return false;
    }
  }
  return o.sim_seconds > 0 && o.runs > 0 && o.segment_mib > 0 && o.segment_mib < 2048 &&
         o.retention_mib >= o.segment_mib;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!parse(argc, argv, o)) return 2;
  std::vector<double> events_per_s, records_per_s, ratio;
  std::printf("run  wall_s  events      acked      polled     events/s    records/s  "
              "sim_s/wall_s\n");
  for (int r = 0; r < o.runs; ++r) {
    Figures f = run_once(o, o.seed + uint64_t(r));
    double ev = double(f.events) / f.wall_s;
    double rec = double(f.acked) / f.wall_s;
    double x = double(o.sim_seconds) / f.wall_s;
    events_per_s.push_back(ev);
    records_per_s.push_back(rec);
    ratio.push_back(x);
    std::printf("%-4d %7.2f %-11llu %-10lld %-10lld %-11.0f %-10.0f %8.1fx\n", r + 1, f.wall_s,
                static_cast<unsigned long long>(f.events), static_cast<long long>(f.acked),
                static_cast<long long>(f.polled), ev, rec, x);
    std::fflush(stdout);
  }
  std::printf("median over %d runs of %lld simulated s: %.0f events/s, %.0f records/s, "
              "%.1fx real time\n",
              o.runs, static_cast<long long>(o.sim_seconds), median(events_per_s),
              median(records_per_s), median(ratio));
  return 0;
}
