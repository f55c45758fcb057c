// Scenario YAML parsing: the document, cluster, topics and network, and the entry point.
// The parser and its error convention are in scenario_parser.h.
#include "sim/scenario.h"

#include <cmath>
#include <cstdlib>

#include <yaml-cpp/depthguard.h>

#include "sim/scenario_parser.h"

namespace strata::sim {

namespace scenario_yaml {

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
  return ok_status();
}

Status Parser::cluster(const YAML::Node& n, Scenario& s) {
  STRATA_RETURN_IF_ERROR(expect_map(n, "cluster", {"brokers", "config"}));
  if (n["brokers"]) {
    // broker-0 is the controller; the others register with it. Each partition has one
    // replica (no replication yet), placed over the brokers by the controller.
    STRATA_ASSIGN_OR_RETURN(int64_t b, integer(n["brokers"], "cluster.brokers", 1, 9));
    s.brokers = int32_t(b);
  }
  if (const YAML::Node c = n["config"]) {
    if (!c.IsMap()) {
      return error(c, "cluster.config", "expected a mapping of server.properties keys");
    }
    for (const auto& kv : c) {
      std::string field = "cluster.config." + kv.first.Scalar();
      STRATA_ASSIGN_OR_RETURN(std::string v, str(kv.second, field));
      s.broker_config.push_back({kv.first.Scalar(), v, line_of(kv.first.Mark())});
    }
  }
  return ok_status();
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
  return ok_status();
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
  return ok_status();
}

}  // namespace scenario_yaml

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

namespace {

// "path:line" for a yaml-cpp exception.
std::string at_line(std::string_view path, const YAML::Mark& mark) {
  return std::string(path) + ":" + std::to_string(scenario_yaml::line_of(mark));
}

}  // namespace

Result<Scenario> parse_scenario(std::string_view text, std::string_view path) {
  scenario_yaml::Parser parser(path);
  Scenario s;
  s.path = std::string(path);
  s.text = std::string(text);
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::DeepRecursion& e) {
    // yaml-cpp stops at a fixed nesting depth and says only "bad file".
    return Status::invalid_argument(at_line(path, e.mark) + ": (syntax): nested more than " +
                                    std::to_string(e.depth() - 1) + " levels deep");
  } catch (const YAML::Exception& e) {
    return Status::invalid_argument(at_line(path, e.mark) + ": (syntax): " + e.msg);
  }
  try {
    STRATA_RETURN_IF_ERROR(parser.top(root, s));
  } catch (const YAML::Exception& e) {
    return Status::invalid_argument(at_line(path, e.mark) + ": " + e.msg);
  }
  return s;
}

}  // namespace strata::sim
