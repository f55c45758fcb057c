// Scenario YAML parsing. yaml-cpp throws; every call into it stays inside this file and every
// failure becomes a Status naming file, line and field (scenario.h).
#include "sim/scenario.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <set>
#include <sstream>

#include "engine/base/assert.h"
#include "engine/client/consumer.h"

namespace strata::sim {

namespace {

constexpr std::pair<FaultAction, std::string_view> kActions[] = {
    {FaultAction::kCrashBroker, "crash_broker"},
    {FaultAction::kRestartBroker, "restart_broker"},
    {FaultAction::kPause, "pause"},
    {FaultAction::kResume, "resume"},
    {FaultAction::kPartition, "partition"},
    {FaultAction::kHeal, "heal"},
    {FaultAction::kLinkDelay, "link_delay"},
    {FaultAction::kLinkLoss, "link_loss"},
    {FaultAction::kSlowDisk, "slow_disk"},
    {FaultAction::kDiskFail, "disk_fail"},
    {FaultAction::kClockSkew, "clock_skew"},
    {FaultAction::kResetConnections, "reset_connections"},
    {FaultAction::kCrashClient, "crash_client"},
    {FaultAction::kStall, "stall"},
};

using Keys = std::vector<std::string_view>;

// Reads one YAML document into a Scenario. Each method takes the node and its field path.
class Parser {
 public:
  explicit Parser(std::string_view path) : path_(path) {}

  Status error(const YAML::Node& n, const std::string& field, const std::string& msg) const {
    int line = n.IsDefined() ? n.Mark().line + 1 : 0;
    return Status::invalid_argument(path_ + ":" + std::to_string(line) + ": " + field + ": " +
                                    msg);
  }

  Status expect_map(const YAML::Node& n, const std::string& field, const Keys& allowed) const {
    if (!n.IsMap()) return error(n, field.empty() ? "(document)" : field, "expected a mapping");
    for (const auto& kv : n) {
      std::string key = kv.first.Scalar();
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        std::string list;
        for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
        return error(kv.first, join(field, key), "unknown field (expected one of: " + list + ")");
      }
    }
    return Status::ok();
  }

  static std::string join(const std::string& field, std::string_view key) {
    return field.empty() ? std::string(key) : field + "." + std::string(key);
  }
  static std::string index(const std::string& field, size_t i) {
    return field + "[" + std::to_string(i) + "]";
  }

  Result<std::string> str(const YAML::Node& n, const std::string& field) const {
    if (!n.IsScalar()) return error(n, field, "expected a string");
    return n.Scalar();
  }
  Result<double> number(const YAML::Node& n, const std::string& field, double min,
                        double max) const {
    STRATA_ASSIGN_OR_RETURN(std::string s, str(n, field));
    char* end = nullptr;
    double v = std::strtod(s.c_str(), &end);
    if (s.empty() || *end != '\0' || !std::isfinite(v)) {
      return error(n, field, "expected a number, got \"" + s + "\"");
    }
    if (v < min || v > max) {
      std::ostringstream o;
      o << "must be in [" << min << ", " << max << "], got " << s;
      return error(n, field, o.str());
    }
    return v;
  }
  Result<int64_t> integer(const YAML::Node& n, const std::string& field, int64_t min,
                          int64_t max) const {
    STRATA_ASSIGN_OR_RETURN(std::string s, str(n, field));
    char* end = nullptr;
    long long v = std::strtoll(s.c_str(), &end, 10);
    if (s.empty() || *end != '\0') {
      return error(n, field, "expected an integer, got \"" + s + "\"");
    }
    if (v < min || v > max) {
      return error(n, field, "must be in [" + std::to_string(min) + ", " + std::to_string(max) +
                                 "], got " + s);
    }
    return int64_t(v);
  }
  Result<bool> boolean(const YAML::Node& n, const std::string& field) const {
    STRATA_ASSIGN_OR_RETURN(std::string s, str(n, field));
    if (s == "true") return true;
    if (s == "false") return false;
    return error(n, field, "expected true or false, got \"" + s + "\"");
  }
  Result<Duration> duration(const YAML::Node& n, const std::string& field) const {
    STRATA_ASSIGN_OR_RETURN(std::string s, str(n, field));
    auto d = parse_duration(s);
    if (!d) return error(n, field, d.status().message());
    return *d;
  }
  Result<std::string> choice(const YAML::Node& n, const std::string& field,
                             const Keys& options) const {
    STRATA_ASSIGN_OR_RETURN(std::string s, str(n, field));
    if (std::find(options.begin(), options.end(), s) != options.end()) return s;
    std::string list;
    for (auto o : options) list += (list.empty() ? "" : "|") + std::string(o);
    return error(n, field, "expected " + list + ", got \"" + s + "\"");
  }

  Status top(const YAML::Node& root, Scenario& s);
  Status cluster(const YAML::Node& n, Scenario& s);
  Status topics(const YAML::Node& n, Scenario& s);
  Status network(const YAML::Node& n, LinkParams& p);
  Status producer(const YAML::Node& n, const std::string& field, ProducerSpec& p);
  Status producer_client(const YAML::Node& n, const std::string& field, ProducerSpec& p);
  Status consumer(const YAML::Node& n, const std::string& field, ConsumerSpec& c);
  Status group_member(const YAML::Node& n, const std::string& field, ConsumerSpec& c);
  Status workload(const YAML::Node& n, Scenario& s);
  Status fault(const YAML::Node& n, const std::string& field, Fault& f);
  Status fault_params(const YAML::Node& n, const std::string& field, Fault& f);
  Status nemesis(const YAML::Node& n, Nemesis& nem);
  Status expectations(const YAML::Node& n, Scenario& s);
  Status node_name(const YAML::Node& n, const std::string& field, std::string& out) const;

  std::set<std::string> nodes;  // names a fault may target
  std::set<std::string> clients;        // producers and consumers (crash_client)
  std::set<std::string> group_members;  // consumers with a group (stall)

 private:
  std::string path_;
};

Status Parser::top(const YAML::Node& root, Scenario& s) {
  STRATA_RETURN_IF_ERROR(expect_map(root, "",
                                    {"name", "title", "description", "seed", "duration",
                                     "cluster", "topics", "network", "workload", "faults",
                                     "nemesis", "expect"}));
  if (!root["name"]) return error(root, "name", "required");
  STRATA_ASSIGN_OR_RETURN(s.name, str(root["name"], "name"));
  if (root["title"]) {
    STRATA_ASSIGN_OR_RETURN(s.title, str(root["title"], "title"));
  }
  if (root["description"]) {
    STRATA_ASSIGN_OR_RETURN(s.description, str(root["description"], "description"));
  }
  if (root["seed"]) {
    STRATA_ASSIGN_OR_RETURN(int64_t seed, integer(root["seed"], "seed", 0, INT64_MAX));
    s.seed = uint64_t(seed);
  }
  if (root["duration"]) {
    STRATA_ASSIGN_OR_RETURN(s.duration, duration(root["duration"], "duration"));
  }
  if (s.duration > std::chrono::hours(1)) {
    return error(root["duration"], "duration", "at most 1h of simulated time");
  }
  if (root["cluster"]) STRATA_RETURN_IF_ERROR(cluster(root["cluster"], s));
  for (int32_t b = 0; b < s.brokers; ++b) nodes.insert("broker-" + std::to_string(b));
  if (root["topics"]) STRATA_RETURN_IF_ERROR(topics(root["topics"], s));
  if (root["network"]) STRATA_RETURN_IF_ERROR(network(root["network"], s.network));
  if (root["workload"]) STRATA_RETURN_IF_ERROR(workload(root["workload"], s));
  if (const YAML::Node f = root["faults"]) {
    if (!f.IsSequence()) return error(f, "faults", "expected a list");
    for (size_t i = 0; i < f.size(); ++i) {
      Fault fault_spec;
      STRATA_RETURN_IF_ERROR(fault(f[i], index("faults", i), fault_spec));
      s.faults.push_back(std::move(fault_spec));
    }
  }
  if (root["nemesis"]) STRATA_RETURN_IF_ERROR(nemesis(root["nemesis"], s.nemesis));
  if (root["expect"]) STRATA_RETURN_IF_ERROR(expectations(root["expect"], s));
  return Status::ok();
}

Status Parser::cluster(const YAML::Node& n, Scenario& s) {
  STRATA_RETURN_IF_ERROR(expect_map(n, "cluster", {"brokers", "config"}));
  if (n["brokers"]) {
    STRATA_ASSIGN_OR_RETURN(int64_t b, integer(n["brokers"], "cluster.brokers", 1, 1));
    s.brokers = int32_t(b);
  }
  if (const YAML::Node c = n["config"]) {
    if (!c.IsMap()) {
      return error(c, "cluster.config", "expected a mapping of server.properties keys");
    }
    for (const auto& kv : c) {
      std::string field = "cluster.config." + kv.first.Scalar();
      STRATA_ASSIGN_OR_RETURN(std::string v, str(kv.second, field));
      s.broker_config.push_back({kv.first.Scalar(), v, kv.first.Mark().line + 1});
    }
  }
  return Status::ok();
}

Status Parser::topics(const YAML::Node& n, Scenario& s) {
  if (!n.IsSequence()) return error(n, "topics", "expected a list");
  for (size_t i = 0; i < n.size(); ++i) {
    std::string field = index("topics", i);
    const YAML::Node t = n[i];
    STRATA_RETURN_IF_ERROR(expect_map(t, field, {"name", "partitions", "config"}));
    TopicSpec spec;
    if (!t["name"]) return error(t, field + ".name", "required");
    STRATA_ASSIGN_OR_RETURN(spec.name, str(t["name"], field + ".name"));
    if (t["partitions"]) {
      STRATA_ASSIGN_OR_RETURN(int64_t p, integer(t["partitions"], field + ".partitions", 1, 1000));
      spec.partitions = int32_t(p);
    }
    if (const YAML::Node c = t["config"]) {
      if (!c.IsMap()) return error(c, field + ".config", "expected a mapping of topic keys");
      for (const auto& kv : c) {
        std::string key_field = field + ".config." + kv.first.Scalar();
        STRATA_ASSIGN_OR_RETURN(std::string v, str(kv.second, key_field));
        spec.config.emplace_back(kv.first.Scalar(), v);
      }
    }
    s.topics.push_back(std::move(spec));
  }
  return Status::ok();
}

Status Parser::network(const YAML::Node& n, LinkParams& p) {
  STRATA_RETURN_IF_ERROR(
      expect_map(n, "network", {"latency", "jitter", "tail", "loss", "retransmit"}));
  if (n["latency"]) {
    STRATA_ASSIGN_OR_RETURN(p.latency, duration(n["latency"], "network.latency"));
  }
  if (n["jitter"]) {
    STRATA_ASSIGN_OR_RETURN(p.jitter, duration(n["jitter"], "network.jitter"));
  }
  if (n["loss"]) {
    STRATA_ASSIGN_OR_RETURN(p.loss, number(n["loss"], "network.loss", 0, 0.99));
  }
  if (n["retransmit"]) {
    STRATA_ASSIGN_OR_RETURN(p.retransmit, duration(n["retransmit"], "network.retransmit"));
  }
  if (const YAML::Node t = n["tail"]) {
    STRATA_RETURN_IF_ERROR(expect_map(t, "network.tail", {"probability", "extra"}));
    if (t["probability"]) {
      STRATA_ASSIGN_OR_RETURN(p.tail_probability,
                              number(t["probability"], "network.tail.probability", 0, 1));
    }
    if (t["extra"]) {
      STRATA_ASSIGN_OR_RETURN(p.tail, duration(t["extra"], "network.tail.extra"));
    }
  }
  return Status::ok();
}

}  // namespace

std::string_view fault_action_name(FaultAction a) {
  for (const auto& [action, name] : kActions) {
    if (action == a) return name;
  }
  STRATA_ASSERT(false, "unnamed fault action");
  return "?";
}

std::optional<FaultAction> parse_fault_action(std::string_view name) {
  for (const auto& [action, n] : kActions) {
    if (n == name) return action;
  }
  return std::nullopt;
}

const std::vector<std::string>& expectation_names() {
  static const std::vector<std::string> kNames = {
      "lost_write", "duplicate", "reorder", "inconsistent_offset", "unreadable",
      "offset_backwards", "anomalies", "sent", "acked", "send_errors", "polled",
      "offset_resets", "ack_latency_p50", "ack_latency_p99", "ack_latency_max",
      "max_consumer_lag", "final_consumer_lag", "hot_partition_share", "final_records",
      "invariant_violations", "double_owner", "commit_backwards", "commit_undelivered",
      "redelivered", "commits", "commit_failures", "generations", "unowned_ms",
      "max_unowned_ms", "max_unowned_partitions", "members_expired"};
  return kNames;
}

Result<Duration> parse_duration(std::string_view text) {
  std::string s(text);
  auto bad = [&] {
    return Status::invalid_argument("expected a duration like 250ms, 10s, 1m, 500us; got \"" +
                                    s + "\"");
  };
  if (s == "0") return Duration{0};
  size_t unit = s.find_first_not_of("0123456789.");
  if (unit == 0 || unit == std::string::npos) return bad();
  char* end = nullptr;
  std::string num = s.substr(0, unit);
  double v = std::strtod(num.c_str(), &end);
  if (*end != '\0') return bad();
  std::string u = s.substr(unit);
  double ns_per;
  if (u == "ns") ns_per = 1;
  else if (u == "us") ns_per = 1e3;
  else if (u == "ms") ns_per = 1e6;
  else if (u == "s") ns_per = 1e9;
  else if (u == "m") ns_per = 60e9;
  else if (u == "h") ns_per = 3600e9;
  else return bad();
  double ns = v * ns_per;
  if (ns > 1e18) return bad();
  return Duration(int64_t(std::llround(ns)));
}

std::string format_duration(Duration d) {
  int64_t ns = d.count();
  if (ns == 0) return "0";
  if (ns % 1'000'000'000 == 0) return std::to_string(ns / 1'000'000'000) + "s";
  if (ns % 1'000'000 == 0) return std::to_string(ns / 1'000'000) + "ms";
  if (ns % 1'000 == 0) return std::to_string(ns / 1'000) + "us";
  return std::to_string(ns) + "ns";
}

}  // namespace strata::sim

namespace strata::sim {

namespace {

Status Parser::node_name(const YAML::Node& n, const std::string& field, std::string& out) const {
  STRATA_ASSIGN_OR_RETURN(out, str(n, field));
  if (nodes.count(out)) return Status::ok();
  std::string list;
  for (const auto& name : nodes) list += (list.empty() ? "" : ", ") + name;
  return error(n, field, "unknown node \"" + out + "\" (nodes: " + list + ")");
}

Status Parser::producer_client(const YAML::Node& n, const std::string& f, ProducerSpec& p) {
  client::ProducerConfig& c = p.config;
  if (n["acks"]) {
    STRATA_ASSIGN_OR_RETURN(std::string a, choice(n["acks"], f + ".acks", {"all", "-1", "1", "0"}));
    c.acks = (a == "all" || a == "-1") ? -1 : int16_t(std::stoi(a));
  }
  auto ms = [&](const char* key, int64_t& out) -> Status {
    if (!n[key]) return Status::ok();
    STRATA_ASSIGN_OR_RETURN(Duration d, duration(n[key], join(f, key)));
    out = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
    return Status::ok();
  };
  if (n["retries"]) {
    STRATA_ASSIGN_OR_RETURN(int64_t r, integer(n["retries"], f + ".retries", 0, INT32_MAX));
    c.retries = int32_t(r);
  }
  STRATA_RETURN_IF_ERROR(ms("linger", c.linger_ms));
  STRATA_RETURN_IF_ERROR(ms("request_timeout", c.request_timeout_ms));
  STRATA_RETURN_IF_ERROR(ms("delivery_timeout", c.delivery_timeout_ms));
  STRATA_RETURN_IF_ERROR(ms("retry_backoff", c.retry_backoff_ms));
  if (n["max_in_flight"]) {
    STRATA_ASSIGN_OR_RETURN(int64_t m, integer(n["max_in_flight"], f + ".max_in_flight", 1, 100));
    c.max_in_flight = int32_t(m);
  }
  if (n["batch_size"]) {
    STRATA_ASSIGN_OR_RETURN(int64_t b, integer(n["batch_size"], f + ".batch_size", 1, 1 << 24));
    c.batch_size = int32_t(b);
  }
  if (Status st = client::validate(c); !st) return error(n, f, st.message());
  return Status::ok();
}

Status Parser::producer(const YAML::Node& n, const std::string& f, ProducerSpec& p) {
  STRATA_RETURN_IF_ERROR(expect_map(
      n, f, {"id", "topic", "rate", "keys", "record_size", "acks", "retries", "linger",
             "max_in_flight", "request_timeout", "delivery_timeout", "retry_backoff",
             "batch_size", "start", "stop"}));
  if (!n["id"]) return error(n, f + ".id", "required");
  if (!n["topic"]) return error(n, f + ".topic", "required");
  STRATA_ASSIGN_OR_RETURN(p.id, str(n["id"], f + ".id"));
  STRATA_ASSIGN_OR_RETURN(p.topic, str(n["topic"], f + ".topic"));
  if (const YAML::Node r = n["rate"]) {
    STRATA_ASSIGN_OR_RETURN(std::string s, str(r, f + ".rate"));
    auto slash = s.find("/s");
    // The number must outlive strtod's end pointer, so it is a named string.
    std::string number = slash == std::string::npos ? std::string() : s.substr(0, slash);
    char* end = nullptr;
    double v = number.empty() ? 0 : std::strtod(number.c_str(), &end);
    if (slash == std::string::npos || slash + 2 != s.size() || end == nullptr || *end != '\0' ||
        v <= 0 || v > 1e6) {
      return error(r, f + ".rate", "expected \"<number>/s\" in (0, 1000000], got \"" + s + "\"");
    }
    p.rate_per_s = v;
  }
  if (const YAML::Node k = n["keys"]) {
    STRATA_RETURN_IF_ERROR(expect_map(k, f + ".keys", {"dist", "cardinality", "hot_fraction"}));
    if (k["dist"]) {
      STRATA_ASSIGN_OR_RETURN(std::string d, choice(k["dist"], f + ".keys.dist",
                                                    {"none", "uniform", "hot"}));
      p.keys = d == "none" ? KeyDistribution::kNone
                           : d == "hot" ? KeyDistribution::kHot : KeyDistribution::kUniform;
    }
    if (k["cardinality"]) {
      STRATA_ASSIGN_OR_RETURN(int64_t c, integer(k["cardinality"], f + ".keys.cardinality", 1,
                                                 1'000'000));
      p.key_cardinality = int32_t(c);
    }
    if (k["hot_fraction"]) {
      STRATA_ASSIGN_OR_RETURN(p.hot_fraction,
                              number(k["hot_fraction"], f + ".keys.hot_fraction", 0, 1));
    }
  }
  if (n["record_size"]) {
    STRATA_ASSIGN_OR_RETURN(int64_t rs, integer(n["record_size"], f + ".record_size", 16,
                                                1 << 20));
    p.record_size = int32_t(rs);
  }
  if (n["start"]) {
    STRATA_ASSIGN_OR_RETURN(p.start, duration(n["start"], f + ".start"));
  }
  if (n["stop"]) {
    STRATA_ASSIGN_OR_RETURN(p.stop, duration(n["stop"], f + ".stop"));
  }
  return producer_client(n, f, p);
}

Status Parser::consumer(const YAML::Node& n, const std::string& f, ConsumerSpec& c) {
  STRATA_RETURN_IF_ERROR(expect_map(n, f, {"id", "topic", "partitions", "from",
                                           "auto_offset_reset", "fetch_max_wait", "start",
                                           "stop", "group", "group_instance_id",
                                           "assignment_strategy", "session_timeout",
                                           "heartbeat_interval", "max_poll_interval", "commit",
                                           "auto_commit_interval", "poll_interval",
                                           "max_poll_records"}));
  if (!n["id"]) return error(n, f + ".id", "required");
  if (!n["topic"]) return error(n, f + ".topic", "required");
  STRATA_ASSIGN_OR_RETURN(c.id, str(n["id"], f + ".id"));
  STRATA_ASSIGN_OR_RETURN(c.topic, str(n["topic"], f + ".topic"));
  if (const YAML::Node ps = n["partitions"]) {
    if (!ps.IsSequence()) return error(ps, f + ".partitions", "expected a list of partitions");
    for (size_t i = 0; i < ps.size(); ++i) {
      STRATA_ASSIGN_OR_RETURN(int64_t p, integer(ps[i], index(f + ".partitions", i), 0, 999));
      c.partitions.push_back(int32_t(p));
    }
  }
  if (n["from"]) {
    STRATA_ASSIGN_OR_RETURN(std::string from, choice(n["from"], f + ".from",
                                                     {"earliest", "latest"}));
    c.from_beginning = from == "earliest";
  }
  c.config.auto_offset_reset = client::OffsetReset::kEarliest;
  if (n["auto_offset_reset"]) {
    STRATA_ASSIGN_OR_RETURN(std::string r, choice(n["auto_offset_reset"],
                                                  f + ".auto_offset_reset",
                                                  {"earliest", "latest", "none"}));
    c.config.auto_offset_reset = *client::parse_offset_reset(r);
  }
  if (n["fetch_max_wait"]) {
    STRATA_ASSIGN_OR_RETURN(Duration d, duration(n["fetch_max_wait"], f + ".fetch_max_wait"));
    c.config.fetch_max_wait_ms =
        int32_t(std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
  }
  if (n["start"]) {
    STRATA_ASSIGN_OR_RETURN(c.start, duration(n["start"], f + ".start"));
  }
  if (n["stop"]) {
    STRATA_ASSIGN_OR_RETURN(c.stop, duration(n["stop"], f + ".stop"));
  }
  return group_member(n, f, c);
}

// The group fields of a consumer: all of them need `group`, and a member gets its partitions
// from the group, so `partitions` and `from` (assign + seek) do not go with it.
Status Parser::group_member(const YAML::Node& n, const std::string& f, ConsumerSpec& c) {
  const char* group_keys[] = {"group_instance_id", "assignment_strategy", "session_timeout",
                              "heartbeat_interval", "max_poll_interval", "commit",
                              "auto_commit_interval", "poll_interval", "max_poll_records"};
  if (!n["group"]) {
    for (const char* k : group_keys) {
      if (n[k]) return error(n[k], f + "." + k, "only for group members (set group)");
    }
    return Status::ok();
  }
  STRATA_ASSIGN_OR_RETURN(c.group, str(n["group"], f + ".group"));
  if (c.group.empty()) return error(n["group"], f + ".group", "must not be empty");
  for (const char* k : {"partitions", "from"}) {
    if (n[k]) {
      return error(n[k], f + "." + k,
                   "a group member gets its partitions from the group (drop this or group)");
    }
  }
  client::GroupConsumerConfig& g = c.group_config;
  g.group_id = c.group;
  // Faster than Kafka's defaults, so that a scenario of seconds shows rebalances.
  g.session_timeout_ms = 10000;
  g.heartbeat_interval_ms = 1000;
  g.auto_commit_interval_ms = 1000;
  auto ms = [&](const char* key, int32_t& out) -> Status {
    if (!n[key]) return Status::ok();
    STRATA_ASSIGN_OR_RETURN(Duration d, duration(n[key], f + "." + key));
    auto v = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
    if (v < 1 || v > INT32_MAX) return error(n[key], f + "." + key, "expected 1ms..24d");
    out = int32_t(v);
    return Status::ok();
  };
  STRATA_RETURN_IF_ERROR(ms("session_timeout", g.session_timeout_ms));
  STRATA_RETURN_IF_ERROR(ms("heartbeat_interval", g.heartbeat_interval_ms));
  STRATA_RETURN_IF_ERROR(ms("max_poll_interval", g.max_poll_interval_ms));
  STRATA_RETURN_IF_ERROR(ms("auto_commit_interval", g.auto_commit_interval_ms));
  if (n["group_instance_id"]) {
    STRATA_ASSIGN_OR_RETURN(std::string id, str(n["group_instance_id"],
                                                f + ".group_instance_id"));
    g.group_instance_id = id;
  }
  if (n["assignment_strategy"]) {
    STRATA_ASSIGN_OR_RETURN(g.assignment_strategy, str(n["assignment_strategy"],
                                                       f + ".assignment_strategy"));
  }
  if (n["commit"]) {
    STRATA_ASSIGN_OR_RETURN(std::string m, choice(n["commit"], f + ".commit",
                                                  {"auto", "batch", "none"}));
    c.commit = m == "auto" ? CommitMode::kAuto : m == "batch" ? CommitMode::kBatch
                                                              : CommitMode::kNone;
  }
  if (n["poll_interval"]) {
    STRATA_ASSIGN_OR_RETURN(c.poll_interval, duration(n["poll_interval"], f + ".poll_interval"));
    if (c.poll_interval <= Duration{0}) {
      return error(n["poll_interval"], f + ".poll_interval", "must be positive");
    }
  }
  if (n["max_poll_records"]) {
    STRATA_ASSIGN_OR_RETURN(int64_t m, integer(n["max_poll_records"], f + ".max_poll_records",
                                               1, 1'000'000));
    c.max_poll_records = int32_t(m);
  }
  g.enable_auto_commit = c.commit == CommitMode::kAuto;
  g.consumer = c.config;
  Status valid = client::validate(g);
  if (!valid) return error(n["group"], f, valid.message());
  return Status::ok();
}

Status Parser::workload(const YAML::Node& n, Scenario& s) {
  STRATA_RETURN_IF_ERROR(expect_map(n, "workload", {"producers", "consumers"}));
  auto list = [&](const char* key) -> Result<YAML::Node> {
    const YAML::Node l = n[key];
    if (l && !l.IsSequence()) return error(l, join("workload", key), "expected a list");
    return l;
  };
  STRATA_ASSIGN_OR_RETURN(YAML::Node ps, list("producers"));
  STRATA_ASSIGN_OR_RETURN(YAML::Node cs, list("consumers"));
  for (size_t i = 0; ps && i < ps.size(); ++i) {
    ProducerSpec p;
    std::string f = index("workload.producers", i);
    STRATA_RETURN_IF_ERROR(producer(ps[i], f, p));
    if (!nodes.insert(p.id).second) return error(ps[i]["id"], f + ".id", "duplicate node name");
    clients.insert(p.id);
    s.producers.push_back(std::move(p));
  }
  for (size_t i = 0; cs && i < cs.size(); ++i) {
    ConsumerSpec c;
    std::string f = index("workload.consumers", i);
    STRATA_RETURN_IF_ERROR(consumer(cs[i], f, c));
    if (!nodes.insert(c.id).second) return error(cs[i]["id"], f + ".id", "duplicate node name");
    clients.insert(c.id);
    if (c.is_group_member()) group_members.insert(c.id);
    s.consumers.push_back(std::move(c));
  }
  return Status::ok();
}

Keys fault_keys(FaultAction a) {
  Keys k = {"at", "action", "target", "duration"};
  auto add = [&](Keys more) { k.insert(k.end(), more.begin(), more.end()); };
  switch (a) {
    case FaultAction::kCrashBroker: add({"tear", "mode"}); break;
    case FaultAction::kPartition: add({"groups", "one_way"}); break;
    case FaultAction::kLinkDelay: add({"link", "latency", "jitter", "one_way"}); break;
    case FaultAction::kLinkLoss: add({"link", "loss", "one_way"}); break;
    case FaultAction::kSlowDisk: add({"read", "write", "sync", "meta"}); break;
    case FaultAction::kDiskFail: add({"ops", "kinds"}); break;
    case FaultAction::kClockSkew: add({"skew"}); break;
    case FaultAction::kResetConnections: add({"peer"}); break;
    default: break;
  }
  return k;
}

Status Parser::fault(const YAML::Node& n, const std::string& f, Fault& out) {
  if (!n.IsMap()) return error(n, f, "expected a mapping");
  out.line = n.Mark().line + 1;
  if (!n["at"]) return error(n, f + ".at", "required");
  if (!n["action"]) return error(n, f + ".action", "required");
  STRATA_ASSIGN_OR_RETURN(out.at, duration(n["at"], f + ".at"));
  STRATA_ASSIGN_OR_RETURN(std::string name, str(n["action"], f + ".action"));
  auto action = parse_fault_action(name);
  if (!action) {
    std::string list;
    for (const auto& [a, nm] : kActions) list += (list.empty() ? "" : "|") + std::string(nm);
    return error(n["action"], f + ".action", "unknown action \"" + name + "\" (" + list + ")");
  }
  out.action = *action;
  STRATA_RETURN_IF_ERROR(expect_map(n, f, fault_keys(out.action)));
  bool broker_action = out.action == FaultAction::kCrashBroker ||
                       out.action == FaultAction::kRestartBroker ||
                       out.action == FaultAction::kSlowDisk ||
                       out.action == FaultAction::kDiskFail;
  bool client_action =
      out.action == FaultAction::kCrashClient || out.action == FaultAction::kStall;
  if (n["target"]) {
    STRATA_RETURN_IF_ERROR(node_name(n["target"], f + ".target", out.target));
    if (broker_action && out.target.rfind("broker-", 0) != 0) {
      return error(n["target"], f + ".target", name + " needs a broker node");
    }
    if (out.action == FaultAction::kCrashClient && !clients.count(out.target)) {
      return error(n["target"], f + ".target", "crash_client needs a producer or consumer");
    }
    if (out.action == FaultAction::kStall && !group_members.count(out.target)) {
      return error(n["target"], f + ".target", "stall needs a consumer with a group");
    }
  } else if (client_action) {
    return error(n, f + ".target", "required (a producer or consumer id)");
  } else if (broker_action || out.action == FaultAction::kPause ||
             out.action == FaultAction::kResume || out.action == FaultAction::kClockSkew ||
             out.action == FaultAction::kResetConnections) {
    out.target = "broker-0";
  }
  if (n["duration"]) {
    STRATA_ASSIGN_OR_RETURN(out.duration, duration(n["duration"], f + ".duration"));
    if (out.action == FaultAction::kRestartBroker || out.action == FaultAction::kResume ||
        out.action == FaultAction::kHeal || out.action == FaultAction::kResetConnections ||
        out.action == FaultAction::kDiskFail) {
      return error(n["duration"], f + ".duration", name + " does not revert");
    }
  }
  if (out.action == FaultAction::kStall && !out.duration) {
    return error(n, f + ".duration", "required (how long the application does not poll)");
  }
  return fault_params(n, f, out);
}

Status Parser::fault_params(const YAML::Node& n, const std::string& f, Fault& out) {
  if (n["tear"]) {
    STRATA_ASSIGN_OR_RETURN(out.tear, boolean(n["tear"], f + ".tear"));
  }
  if (n["mode"]) {
    STRATA_ASSIGN_OR_RETURN(std::string m, choice(n["mode"], f + ".mode", {"machine", "process"}));
    out.machine = m == "machine";
  }
  if (n["one_way"]) {
    STRATA_ASSIGN_OR_RETURN(out.one_way, boolean(n["one_way"], f + ".one_way"));
  }
  if (out.action == FaultAction::kPartition) {
    const YAML::Node g = n["groups"];
    if (!g || !g.IsSequence() || g.size() < 2) {
      return error(g ? g : n, f + ".groups", "expected a list of at least two node lists");
    }
    for (size_t i = 0; i < g.size(); ++i) {
      if (!g[i].IsSequence()) return error(g[i], index(f + ".groups", i), "expected a list");
      out.groups.emplace_back();
      for (size_t j = 0; j < g[i].size(); ++j) {
        std::string name;
        STRATA_RETURN_IF_ERROR(node_name(g[i][j], index(index(f + ".groups", i), j), name));
        out.groups.back().push_back(name);
      }
    }
  }
  if (out.action == FaultAction::kLinkDelay || out.action == FaultAction::kLinkLoss) {
    const YAML::Node l = n["link"];
    if (!l) return error(n, f + ".link", "required ({from, to})");
    STRATA_RETURN_IF_ERROR(expect_map(l, f + ".link", {"from", "to"}));
    if (!l["from"] || !l["to"]) return error(l, f + ".link", "needs from and to");
    STRATA_RETURN_IF_ERROR(node_name(l["from"], f + ".link.from", out.link_from));
    STRATA_RETURN_IF_ERROR(node_name(l["to"], f + ".link.to", out.link_to));
  }
  if (n["latency"]) {
    STRATA_ASSIGN_OR_RETURN(out.latency, duration(n["latency"], f + ".latency"));
  }
  if (n["jitter"]) {
    STRATA_ASSIGN_OR_RETURN(out.jitter, duration(n["jitter"], f + ".jitter"));
  }
  if (n["loss"]) {
    STRATA_ASSIGN_OR_RETURN(out.loss, number(n["loss"], f + ".loss", 0, 0.99));
  }
  if (n["read"]) {
    STRATA_ASSIGN_OR_RETURN(out.disk.read, duration(n["read"], f + ".read"));
  }
  if (n["write"]) {
    STRATA_ASSIGN_OR_RETURN(out.disk.write, duration(n["write"], f + ".write"));
  }
  if (n["sync"]) {
    STRATA_ASSIGN_OR_RETURN(out.disk.sync, duration(n["sync"], f + ".sync"));
  }
  if (n["meta"]) {
    STRATA_ASSIGN_OR_RETURN(out.disk.meta, duration(n["meta"], f + ".meta"));
  }
  if (n["ops"]) {
    STRATA_ASSIGN_OR_RETURN(int64_t ops, integer(n["ops"], f + ".ops", 1, 1'000'000));
    out.ops = int32_t(ops);
  }
  if (const YAML::Node k = n["kinds"]) {
    if (!k.IsSequence()) return error(k, f + ".kinds", "expected a list");
    for (size_t i = 0; i < k.size(); ++i) {
      STRATA_ASSIGN_OR_RETURN(std::string kind, choice(k[i], index(f + ".kinds", i),
                                                       {"read", "write", "sync", "meta"}));
      out.op_kinds |= kind == "read" ? 1u : kind == "write" ? 2u : kind == "sync" ? 4u : 8u;
    }
  }
  if (n["skew"]) {
    STRATA_ASSIGN_OR_RETURN(out.skew_ms, integer(n["skew"], f + ".skew (ms)", -86'400'000,
                                                 86'400'000));
  }
  if (out.action == FaultAction::kResetConnections) {
    if (!n["peer"]) return error(n, f + ".peer", "required");
    STRATA_RETURN_IF_ERROR(node_name(n["peer"], f + ".peer", out.peer));
  }
  return Status::ok();
}

Status Parser::nemesis(const YAML::Node& n, Nemesis& nem) {
  STRATA_RETURN_IF_ERROR(expect_map(n, "nemesis", {"kinds", "interval", "duration", "start",
                                                    "targets"}));
  nem.enabled = true;
  nem.line = n.Mark().line + 1;
  const YAML::Node k = n["kinds"];
  if (!k || !k.IsSequence() || k.size() == 0) {
    return error(k ? k : n, "nemesis.kinds", "expected a non-empty list of actions");
  }
  for (size_t i = 0; i < k.size(); ++i) {
    STRATA_ASSIGN_OR_RETURN(std::string s, choice(k[i], index("nemesis.kinds", i),
                                                  {"crash_broker", "kill_broker", "pause",
                                                   "partition", "link_loss", "slow_disk",
                                                   "crash_client", "stall"}));
    nem.kinds.push_back(s);
  }
  if (n["interval"]) {
    STRATA_ASSIGN_OR_RETURN(nem.interval, duration(n["interval"], "nemesis.interval"));
  }
  if (n["duration"]) {
    STRATA_ASSIGN_OR_RETURN(nem.duration, duration(n["duration"], "nemesis.duration"));
  }
  if (n["start"]) {
    STRATA_ASSIGN_OR_RETURN(nem.start, duration(n["start"], "nemesis.start"));
  }
  if (nem.interval <= nem.duration) {
    return error(n, "nemesis.interval", "must be longer than nemesis.duration");
  }
  if (const YAML::Node t = n["targets"]) {
    if (!t.IsSequence()) return error(t, "nemesis.targets", "expected a list of node names");
    for (size_t i = 0; i < t.size(); ++i) {
      std::string name;
      STRATA_RETURN_IF_ERROR(node_name(t[i], index("nemesis.targets", i), name));
      nem.targets.push_back(name);
    }
  }
  // crash_client and stall hit clients: the targets that are (or, without targets, any).
  for (const auto& [kind, eligible] :
       {std::pair<std::string, const std::set<std::string>*>{"crash_client", &clients},
        {"stall", &group_members}}) {
    if (std::find(nem.kinds.begin(), nem.kinds.end(), kind) == nem.kinds.end()) continue;
    bool any = nem.targets.empty() ? !eligible->empty()
                                   : std::any_of(nem.targets.begin(), nem.targets.end(),
                                                 [&](const auto& t) { return eligible->count(t); });
    if (!any) {
      return error(n, "nemesis.kinds",
                   kind + (kind == "stall" ? " needs a group member" : " needs a client") +
                       (nem.targets.empty() ? " in the workload" : " among nemesis.targets"));
    }
  }
  return Status::ok();
}

Status Parser::expectations(const YAML::Node& n, Scenario& s) {
  if (!n.IsMap()) return error(n, "expect", "expected a mapping of measure: condition");
  const auto& names = expectation_names();
  for (const auto& kv : n) {
    Expectation e;
    e.name = kv.first.Scalar();
    e.line = kv.first.Mark().line + 1;
    std::string f = "expect." + e.name;
    if (std::find(names.begin(), names.end(), e.name) == names.end()) {
      std::string list;
      for (const auto& nm : names) list += (list.empty() ? "" : ", ") + nm;
      return error(kv.first, f, "unknown measure (expected one of: " + list + ")");
    }
    STRATA_ASSIGN_OR_RETURN(e.text, str(kv.second, f));
    std::string rest = e.text;
    e.op = "==";
    for (std::string_view op : {"==", "!=", "<=", ">=", "<", ">"}) {
      if (rest.rfind(op, 0) == 0) {
        e.op = std::string(op);
        rest = rest.substr(op.size());
        break;
      }
    }
    rest.erase(0, rest.find_first_not_of(' '));
    char* end = nullptr;
    double v = std::strtod(rest.c_str(), &end);
    if (rest.empty() || *end != '\0') {
      auto d = parse_duration(rest);  // latencies may be written with units; compared in ms
      if (!d) {
        return error(kv.second, f, "expected [op] number or duration (e.g. 0, \">0\", "
                                   "\"<50ms\"), got \"" + e.text + "\"");
      }
      v = double(d->count()) / 1e6;
    }
    e.value = v;
    s.expectations.push_back(std::move(e));
  }
  return Status::ok();
}

}  // namespace

Result<Scenario> parse_scenario(std::string_view text, std::string_view path) {
  Parser parser(path);
  Scenario s;
  s.path = std::string(path);
  s.text = std::string(text);
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return Status::invalid_argument(std::string(path) + ":" + std::to_string(e.mark.line + 1) +
                                    ": (syntax): " + e.msg);
  }
  try {
    STRATA_RETURN_IF_ERROR(parser.top(root, s));
  } catch (const YAML::Exception& e) {
    return Status::invalid_argument(std::string(path) + ":" + std::to_string(e.mark.line + 1) +
                                    ": " + e.msg);
  }
  return s;
}

}  // namespace strata::sim
