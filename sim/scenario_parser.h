// The scenario parser, shared by the files that read each part of a scenario: scenario.cc
// (the document, cluster, topics, network), scenario_workload.cc (producers and consumers)
// and scenario_faults.cc (faults, nemesis, expectations). yaml-cpp throws; every call into it
// stays inside these files, under parse_scenario()'s catch, and every failure becomes a
// Status naming file, line and field (scenario.h).
#pragma once

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "sim/scenario.h"

namespace strata::sim::scenario_yaml {

using Keys = std::vector<std::string_view>;

// The 1-based line of a YAML position; a position yaml-cpp does not know (an empty document)
// counts as line 1.
inline int line_of(const YAML::Mark& mark) { return std::max(mark.line + 1, 1); }

// Reads one YAML document into a Scenario. Each method takes the node and its field path.
class Parser {
 public:
  explicit Parser(std::string_view path) : path_(path) {}

  // "path:line: field: msg". A node without a position (an empty document) reports line 1;
  // a field path longer than a line (a mistyped key can swallow the lines after it as one
  // multi-line key) is cut short.
  Status error(const YAML::Node& n, const std::string& field, const std::string& msg) const {
    int line = n.IsDefined() ? line_of(n.Mark()) : 1;
    constexpr size_t kFieldMax = 80;
    std::string shown = field.size() <= kFieldMax ? field : field.substr(0, kFieldMax) + "...";
    return Status::invalid_argument(path_ + ":" + std::to_string(line) + ": " + shown + ": " +
                                    msg);
  }

  Status expect_map(const YAML::Node& n, const std::string& field, const Keys& allowed) const {
    if (field.empty() && (!n.IsDefined() || n.IsNull())) {
      return error(n, "(document)", "empty: expected a mapping with at least a name");
    }
    if (!n.IsMap()) return error(n, field.empty() ? "(document)" : field, "expected a mapping");
    for (const auto& kv : n) {
      std::string key = kv.first.Scalar();
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        std::string list;
        for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
        return error(kv.first, join(field, key), "unknown field (expected one of: " + list + ")");
      }
    }
    return ok_status();
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

}  // namespace strata::sim::scenario_yaml
