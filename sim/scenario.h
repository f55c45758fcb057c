// Scenario: one simulated experiment as authored in scenarios/*.yaml — a cluster, topics,
// network defaults, a workload, a timed fault list, an optional seeded nemesis and the
// expectations that turn the run into a check. docs/scenarios.md describes the format field
// by field; this header is its in-memory form, consumed by sim/runner.h.
//
// Parsing never throws and never asserts on a bad file: every error is a Status whose
// message starts with "<file>:<line>: <field path>: ", e.g.
//   scenarios/x.yaml:14: workload.producers[0].rate: expected "<number>/s", got "fast"
// Unknown fields are errors too, so a typo cannot silently disable a fault.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/status.h"
#include "engine/broker/properties.h"
#include "sim/sim_disk.h"
#include "sim/sim_network.h"
#include "sim/workload.h"

namespace strata::sim {

struct TopicSpec {
  std::string name;
  int32_t partitions = 1;
  std::vector<std::pair<std::string, std::string>> config;  // topic keys, file order
};

// The fault vocabulary (docs/scenarios.md lists what each one does and how it reverts).
enum class FaultAction {
  kCrashBroker,
  kRestartBroker,
  kPause,
  kResume,
  kPartition,
  kHeal,
  kLinkDelay,
  kLinkLoss,
  kSlowDisk,
  kDiskFail,
  kClockSkew,
  kResetConnections,
  kCrashClient,  // a producer's or consumer's process dies; with `duration` it starts again
  kStall,        // a group member's application stops calling poll() for `duration`
};

std::string_view fault_action_name(FaultAction a);
std::optional<FaultAction> parse_fault_action(std::string_view name);

struct Fault {
  int line = 0;  // where the fault starts in the file, for messages
  Duration at{0};
  FaultAction action = FaultAction::kCrashBroker;
  std::string target;              // a node name; crash/restart default "broker-0"
  std::optional<Duration> duration;  // then the fault reverts by itself
  // crash_broker
  bool tear = false;
  bool machine = true;  // mode: machine (lose unsynced bytes) | process (page cache survives)
  // partition: node-name groups; one_way cuts only links from groups[0] to the others
  std::vector<std::vector<std::string>> groups;
  bool one_way = false;
  // link_delay / link_loss: `link.from` → `link.to` (and back unless one_way)
  std::string link_from, link_to;
  Duration latency{0}, jitter{0};
  double loss = 0;
  // slow_disk
  DiskLatency disk;
  // disk_fail: the next `ops` operations of `kinds` fail
  int32_t ops = 1;
  uint32_t op_kinds = 0;  // MemFileSystem fault bits; 0 = every kind
  // clock_skew
  int64_t skew_ms = 0;
  // reset_connections: between `target` and `peer`
  std::string peer;
};

// Seeded random faults, Jepsen-style: every `interval` one of `kinds` hits one of `targets`
// and heals after `duration`.
struct Nemesis {
  bool enabled = false;
  int line = 0;
  // crash_broker (machine) | kill_broker (process) | pause | partition | link_loss | slow_disk
  std::vector<std::string> kinds;
  Duration interval = std::chrono::seconds(10);
  Duration duration = std::chrono::seconds(3);
  Duration start = std::chrono::seconds(1);
  std::vector<std::string> targets;  // default: every broker
};

// "<name>: <op> <value>", e.g. lost_write == 0, acked > 0, ack_latency_p99 < 50 (ms).
struct Expectation {
  int line = 0;
  std::string name;
  std::string op;  // == != < <= > >=
  double value = 0;
  std::string text;  // as written, for messages
};

// Names an expectation may use: the anomaly kinds plus the measures the runner computes.
const std::vector<std::string>& expectation_names();

struct Scenario {
  std::string path;  // as given; prefixes every error
  std::string text;  // the file's full text
  std::string name;
  std::string title;
  std::string description;
  uint64_t seed = 1;
  Duration duration = std::chrono::seconds(10);  // the workload phase; then the final phase
  int32_t brokers = 1;
  std::vector<broker::PropertyEntry> broker_config;  // server.properties keys verbatim
  std::vector<TopicSpec> topics;
  LinkParams network;
  std::vector<ProducerSpec> producers;
  std::vector<ConsumerSpec> consumers;
  std::vector<Fault> faults;
  Nemesis nemesis;
  std::vector<Expectation> expectations;
};

// Parses scenario YAML text; `path` names the file in error messages.
Result<Scenario> parse_scenario(std::string_view text, std::string_view path);

// "250ms", "10s", "1m", "500us", "2ns", "1.5s", "0". Error text names the expected form.
Result<Duration> parse_duration(std::string_view text);
std::string format_duration(Duration d);

}  // namespace strata::sim
