// Clusters in the simulator: several brokers, broker-0 the controller, the others talking
// to it over the simulated network exactly as real brokers do.
#include <catch2/catch.hpp>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "engine/group/offsets_codec.h"
#include "sim/runner.h"
#include "sim/scenario.h"

namespace strata::sim {
namespace {

const TraceLine* find_line(const RunRecord& r, const std::string& text, int64_t after_ns = 0) {
  for (const TraceLine& l : r.trace) {
    if (l.t_ns >= after_ns && l.line.find(text) != std::string::npos) return &l;
  }
  return nullptr;
}

TEST_CASE(
    "a broker cut off from the controller is fenced, loses its leaderships, and gets "
    "them back after the heal") {
  const std::string text =
      "name: cut-off\nseed: 5\nduration: 30s\ncluster:\n  brokers: 3\n"
      "topics:\n  - {name: t, partitions: 6}\n"
      "workload:\n  producers:\n"
      "    - {id: p1, topic: t, rate: 300/s, acks: 1, request_timeout: 2s, "
      "delivery_timeout: 4s}\n"
      "  consumers:\n    - {id: c1, topic: t, start: 100ms}\n"
      "faults:\n"
      "  - {at: 5s, action: partition, groups: [[broker-1], [broker-0]], duration: 15s}\n";
  auto s = parse_scenario(text, "cut-off.yaml");
  REQUIRE(s.is_ok());
  RunOptions opts;
  auto run = run_scenario(*s, s->seed, opts);
  REQUIRE(run.is_ok());
  const RunRecord& r = run->record;
  INFO("seed " << s->seed);
  // Registered and unfenced before the scenario's time starts.
  const TraceLine* formed = find_line(r, "cluster: 3 brokers registered and unfenced");
  REQUIRE(formed != nullptr);
  // broker.session.timeout.ms (9 s) after the cut, the controller fences broker 1 ...
  const TraceLine* fenced = find_line(r, "[controller] fenced broker 1:");
  REQUIRE(fenced != nullptr);
  int64_t cut_ns = formed->t_ns + 5'000'000'000;
  CHECK(fenced->t_ns > cut_ns + 7'000'000'000);
  CHECK(fenced->t_ns < cut_ns + 10'000'000'000);
  // ... and once the link heals, broker 1's next heartbeat shows it caught up: unfenced, it
  // leads its partitions again. (It never learnt it had been fenced: it was cut off.)
  const TraceLine* back = find_line(r, "[controller] unfenced broker 1:", fenced->t_ns);
  REQUIRE(back != nullptr);
  CHECK(back->t_ns > cut_ns + 15'000'000'000);
  CHECK(back->t_ns < cut_ns + 20'000'000'000);
  CHECK(run->check->count(AnomalyKind::kLostWrite) == 0);
  CHECK(run->check->count(AnomalyKind::kInconsistentOffset) == 0);
  CHECK(run->measures.at("invariant_violations") == 0);
  CHECK(run->check->acked > 5000);
  // The same seed gives the same run.
  auto again = run_scenario(*s, s->seed, opts);
  REQUIRE(again.is_ok());
  CHECK(again->record.trace_hash == r.trace_hash);
}

TEST_CASE(
    "__consumer_offsets is spread over the brokers: only the groups of the dead broker's "
    "partitions stop committing") {
  std::ifstream in(STRATA_SOURCE_DIR "/scenarios/group-cluster-controller-down.yaml");
  std::stringstream text;
  text << in.rdbuf();
  auto s = parse_scenario(text.str(), "scenarios/group-cluster-controller-down.yaml");
  REQUIRE(s.is_ok());
  int stopped_somewhere = 0, carried_on_somewhere = 0;
  for (uint64_t seed : {s->seed, uint64_t(3), uint64_t(4)}) {
    INFO("seed " << seed);
    auto run = run_scenario(*s, seed, RunOptions{});
    REQUIRE(run.is_ok());
    // Which broker holds each partition: the one that took its groups on ("coordinating the
    // groups of __consumer_offsets partitions 1,3"). Every partition has exactly one.
    std::map<int32_t, std::string> holder;
    const std::string marker = "coordinating the groups of __consumer_offsets partitions ";
    for (const TraceLine& l : run->record.trace) {
      size_t at = l.line.find(marker);
      if (at == std::string::npos) continue;
      std::string broker = l.line.substr(0, l.line.find(' '));
      std::stringstream list(l.line.substr(at + marker.size()));
      for (std::string p; std::getline(list, p, ',');) {
        CHECK(holder.emplace(std::stoi(p), broker).first->second == broker);
      }
    }
    CHECK(holder.size() == 4);
    std::set<std::string> holders;
    for (const auto& [p, broker] : holder) holders.insert(broker);
    CHECK(holders.size() == 3);  // 4 partitions over 3 brokers: every broker holds one
    for (const auto& [group, g] : run->check->groups) {
      INFO("group " << group);
      int32_t p = group::partition_for_group(group, 4);
      REQUIRE(holder.count(p) == 1);
      if (holder[p] == "broker-0") {  // the broker that is down for 12 s
        CHECK(g.commit_failures > 0);
        ++stopped_somewhere;
      } else {
        CHECK(g.commit_failures == 0);
        CHECK(g.commits > 100);
        ++carried_on_somewhere;
      }
    }
  }
  CHECK(stopped_somewhere >= 3);  // at least one group per seed
  CHECK(carried_on_somewhere >= 3);
}

}  // namespace
}  // namespace strata::sim
