// Scenario YAML parsing: timed faults, the nemesis and expectations (scenario_parser.h).
#include "engine/base/assert.h"
#include "sim/scenario_parser.h"

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
      "max_unowned_ms", "max_unowned_partitions", "members_expired", "producer_retries",
      "producer_id_resets", "duplicate_batches", "compacted_away"};
  return kNames;
}

namespace scenario_yaml {

namespace {

// The fields a fault of this action may have.
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

}  // namespace

Status Parser::fault(const YAML::Node& n, const std::string& f, Fault& out) {
  if (!n.IsMap()) return error(n, f, "expected a mapping");
  out.line = line_of(n.Mark());
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
  return ok_status();
}

Status Parser::nemesis(const YAML::Node& n, Nemesis& nem) {
  STRATA_RETURN_IF_ERROR(expect_map(n, "nemesis", {"kinds", "interval", "duration", "start",
                                                    "targets"}));
  nem.enabled = true;
  nem.line = line_of(n.Mark());
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
  return ok_status();
}

Status Parser::expectations(const YAML::Node& n, Scenario& s) {
  if (!n.IsMap()) return error(n, "expect", "expected a mapping of measure: condition");
  const auto& names = expectation_names();
  for (const auto& kv : n) {
    Expectation e;
    e.name = kv.first.Scalar();
    e.line = line_of(kv.first.Mark());
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
  return ok_status();
}

}  // namespace scenario_yaml

}  // namespace strata::sim
