// Scenario YAML parsing: the workload's producers and consumers (scenario_parser.h).
#include "engine/client/consumer.h"
#include "sim/scenario_parser.h"

namespace strata::sim::scenario_yaml {

Status Parser::node_name(const YAML::Node& n, const std::string& field, std::string& out) const {
  STRATA_ASSIGN_OR_RETURN(out, str(n, field));
  if (nodes.count(out)) return ok_status();
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
    if (!n[key]) return ok_status();
    STRATA_ASSIGN_OR_RETURN(Duration d, duration(n[key], join(f, key)));
    out = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
    return ok_status();
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
  if (n["idempotence"]) {
    STRATA_ASSIGN_OR_RETURN(c.enable_idempotence, boolean(n["idempotence"], f + ".idempotence"));
  }
  if (Status st = client::validate(c); !st) return error(n, f, st.message());
  return ok_status();
}

Status Parser::producer(const YAML::Node& n, const std::string& f, ProducerSpec& p) {
  STRATA_RETURN_IF_ERROR(expect_map(
      n, f, {"id", "topic", "rate", "keys", "record_size", "acks", "retries", "linger",
             "max_in_flight", "request_timeout", "delivery_timeout", "retry_backoff",
             "batch_size", "idempotence", "start", "stop"}));
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
    return ok_status();
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
    if (!n[key]) return ok_status();
    STRATA_ASSIGN_OR_RETURN(Duration d, duration(n[key], f + "." + key));
    auto v = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
    if (v < 1 || v > INT32_MAX) return error(n[key], f + "." + key, "expected 1ms..24d");
    out = int32_t(v);
    return ok_status();
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
  return ok_status();
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
  return ok_status();
}

}  // namespace strata::sim::scenario_yaml
