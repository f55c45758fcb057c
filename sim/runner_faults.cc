// ScenarioRun's faults (scenario_run.h): applying and reverting each fault action, broker
// crash and restart, and the seeded nemesis.
#include <string>

#include "sim/scenario_run.h"

namespace strata::sim {

void ScenarioRun::crash_broker(const std::string& name, bool machine, bool tear) {
  SimNode& n = node(name);
  BrokerProcess& b = broker_process(name);
  if (!n.up()) {
    trace("crash_broker skipped: " + name + " is down");
    return;
  }
  trace("crash_broker " + name + " mode=" + (machine ? "machine" : "process") +
        (tear ? " tear" : ""));
  bank_broker_stats(b);
  n.crash(tear, machine);
  b.broker.reset();
}

void ScenarioRun::restart_broker(const std::string& name) {
  SimNode& n = node(name);
  BrokerProcess& b = broker_process(name);
  if (n.up() && b.broker) {
    trace("restart_broker skipped: " + name + " is up");
    return;
  }
  if (!n.up()) n.restart();
  Status st = start_broker(b);
  trace(st ? name + " recovered" : name + " failed to start: " + st.message());
}

void ScenarioRun::set_link(const std::string& a, const std::string& b, bool one_way,
                           const LinkParams& p) {
  net_.set_params(host(a), host(b), p);
  if (!one_way) net_.set_params(host(b), host(a), p);
}

void ScenarioRun::apply(const Fault& f) {
  std::string name(fault_action_name(f.action));
  trace("fault " + name + " " + f.target + f.link_from + (f.link_to.empty() ? "" : "->") +
        f.link_to);
  SimNode* target = f.target.empty() ? nullptr : &node(f.target);
  switch (f.action) {
    case FaultAction::kCrashBroker: crash_broker(f.target, f.machine, f.tear); break;
    case FaultAction::kRestartBroker: restart_broker(f.target); break;
    case FaultAction::kPause:
      if (target->up() && !target->paused()) target->pause();
      break;
    case FaultAction::kResume:
      if (target->paused()) target->resume();
      break;
    case FaultAction::kPartition: {
      if (f.one_way) {
        for (const auto& from : f.groups[0]) {
          for (size_t g = 1; g < f.groups.size(); ++g) {
            for (const auto& to : f.groups[g]) net_.set_link_up(host(from), host(to), false);
          }
        }
      } else {
        std::vector<std::vector<int>> groups;
        for (const auto& g : f.groups) {
          groups.emplace_back();
          for (const auto& n : g) groups.back().push_back(host(n));
        }
        net_.partition(groups);
      }
      break;
    }
    case FaultAction::kHeal: net_.heal_all(); break;
    case FaultAction::kLinkDelay: {
      LinkParams p = s_.network;
      p.latency = f.latency;
      p.jitter = f.jitter;
      set_link(f.link_from, f.link_to, f.one_way, p);
      break;
    }
    case FaultAction::kLinkLoss: {
      LinkParams p = s_.network;
      p.loss = f.loss;
      set_link(f.link_from, f.link_to, f.one_way, p);
      break;
    }
    case FaultAction::kSlowDisk: target->set_disk_latency(f.disk); break;
    case FaultAction::kDiskFail:
      target->disk().fail_next_ops(f.ops, f.op_kinds ? f.op_kinds : MemFileSystem::kFaultAll);
      break;
    case FaultAction::kClockSkew: target->set_clock_skew_ms(f.skew_ms); break;
    case FaultAction::kResetConnections: net_.reset_connections(host(f.target), host(f.peer));
      break;
    case FaultAction::kCrashClient: crash_client(f.target); break;
    case FaultAction::kStall:
      for (size_t i = 0; i < s_.consumers.size(); ++i) {
        if (s_.consumers[i].id == f.target && members_[i]) members_[i]->stall(*f.duration);
      }
      break;
  }
}

void ScenarioRun::revert(const Fault& f) {
  std::string name(fault_action_name(f.action));
  trace("revert " + name + " " + f.target + f.link_from + (f.link_to.empty() ? "" : "->") +
        f.link_to);
  switch (f.action) {
    case FaultAction::kCrashBroker: restart_broker(f.target); break;
    case FaultAction::kPause:
      if (node(f.target).paused()) node(f.target).resume();
      break;
    case FaultAction::kPartition: net_.heal_all(); break;
    case FaultAction::kLinkDelay:
    case FaultAction::kLinkLoss: set_link(f.link_from, f.link_to, f.one_way, s_.network); break;
    case FaultAction::kSlowDisk: node(f.target).set_disk_latency(DiskLatency{}); break;
    case FaultAction::kClockSkew: node(f.target).set_clock_skew_ms(0); break;
    case FaultAction::kCrashClient: restart_client(f.target); break;
    case FaultAction::kStall: break;  // the member's loop resumes by itself
    default: STRATA_ASSERT(false, "the parser rejects a duration on this action");
  }
}

void ScenarioRun::schedule_fault(const Fault& f) {
  world_.schedule_at(at(f.at), [this, f] {
    apply(f);
    if (f.duration) world_.schedule(*f.duration, [this, f] { revert(f); });
  });
}

Fault ScenarioRun::nemesis_fault() {
  const Nemesis& nem = s_.nemesis;
  const std::string& kind = nem.kinds[nemesis_rng_.below(nem.kinds.size())];
  Fault f;
  f.target = nem.targets.empty() ? kBrokerName
                                 : nem.targets[nemesis_rng_.below(nem.targets.size())];
  f.duration = nem.duration;
  if (kind == "crash_broker" || kind == "kill_broker") {
    f.action = FaultAction::kCrashBroker;
    if (f.target.rfind("broker-", 0) != 0) f.target = kBrokerName;
    f.machine = kind == "crash_broker";
  } else if (kind == "crash_client" || kind == "stall") {
    // One of the targets that can take it (the parser made sure there is one).
    std::vector<std::string> eligible;
    for (const auto& p : s_.producers) {
      if (kind == "crash_client") eligible.push_back(p.id);
    }
    for (const auto& c : s_.consumers) {
      if (kind == "crash_client" || c.is_group_member()) eligible.push_back(c.id);
    }
    if (!nem.targets.empty()) {
      std::erase_if(eligible, [&](const std::string& id) {
        return std::find(nem.targets.begin(), nem.targets.end(), id) == nem.targets.end();
      });
    }
    STRATA_ASSERT(!eligible.empty(), "the parser checks nemesis targets");
    f.target = eligible[nemesis_rng_.below(eligible.size())];
    f.action = kind == "stall" ? FaultAction::kStall : FaultAction::kCrashClient;
  } else if (kind == "pause") {
    f.action = FaultAction::kPause;
  } else if (kind == "partition") {
    f.action = FaultAction::kPartition;  // isolate the target from every other node
    f.groups = {{f.target}, {}};
    for (const auto& n : nodes_) {
      if (n->name() != f.target) f.groups[1].push_back(n->name());
    }
  } else if (kind == "link_loss") {
    f.action = FaultAction::kLinkLoss;
    f.link_from = kBrokerName;
    f.link_to = f.target == kBrokerName ? nodes_[1]->name() : f.target;
    f.target.clear();
    f.loss = 0.3;
  } else {
    STRATA_ASSERT(kind == "slow_disk");
    f.action = FaultAction::kSlowDisk;
    f.target = kBrokerName;
    f.disk.sync = milliseconds(50);
    f.disk.write = milliseconds(5);
  }
  return f;
}

void ScenarioRun::nemesis_tick() {
  if (world_.now() + s_.nemesis.duration >= at(s_.duration)) return;
  Fault f = nemesis_fault();
  trace("nemesis");
  apply(f);
  world_.schedule(*f.duration, [this, f] { revert(f); });
  world_.schedule(s_.nemesis.interval, [this] { nemesis_tick(); });
}

}  // namespace strata::sim
