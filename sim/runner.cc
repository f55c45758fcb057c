// Scenario runner (runner.h): setting up a run, its workloads, history scanning, measures and
// the run itself. The ScenarioRun class is in scenario_run.h, its faults in runner_faults.cc.
#include "sim/runner.h"

#include <algorithm>
#include <set>
#include <tuple>

#include "engine/base/assert.h"
#include "engine/broker/broker.h"
#include "engine/broker/config.h"
#include "engine/client/admin.h"
#include "sim/scenario_run.h"

namespace strata::sim {

namespace {

using std::chrono::milliseconds;

std::string tp_label(const std::string& topic, int32_t p) {
  return "topic=" + topic + ",partition=" + std::to_string(p);
}

double percentile_ms(std::vector<int64_t>& v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = std::min(v.size() - 1, size_t(q * double(v.size() - 1) + 0.5));
  return double(v[i]) / 1e6;
}

bool compare(double got, const std::string& op, double want) {
  if (op == "==") return got == want;
  if (op == "!=") return got != want;
  if (op == "<") return got < want;
  if (op == "<=") return got <= want;
  if (op == ">") return got > want;
  return got >= want;
}

}  // namespace

Status ScenarioRun::setup() {
  if (opt_.keep_trace) {
    world_.set_trace_sink([this](MonoTime t, std::string_view line) {
      trace_.push_back({t.ns, std::string(line)});
    });
  }
  std::vector<std::string> names;
  for (int32_t b = 0; b < s_.brokers; ++b) names.push_back("broker-" + std::to_string(b));
  for (const auto& p : s_.producers) names.push_back(p.id);
  for (const auto& c : s_.consumers) {
    names.push_back(c.id);
    position_owner_[c.id] = c.is_group_member() ? c.group : c.id;
    if (c.is_group_member()) groups_.push_back(c.group);
  }
  std::sort(groups_.begin(), groups_.end());
  groups_.erase(std::unique(groups_.begin(), groups_.end()), groups_.end());
  names.push_back(kCheckerName);
  for (size_t i = 0; i < names.size(); ++i) {
    nodes_.push_back(std::make_unique<SimNode>(world_, net_, int(i), names[i]));
    STRATA_ASSERT(net_.add_host(nodes_.back().get()) == int(i));
  }
  net_.set_default_params(s_.network);
  // Group scenarios: the coordinator's and the members' [group] log lines go into the trace
  // (generations, expired members, poll timeouts), which is how a reader follows a rebalance.
  // The brokers' log cleaner lines (a pass done, an interrupted clean settled) and their
  // controller and cluster lines (registrations, fencing) go in always; they are rare.
  // Other nodes get no sink without groups, so they build no log lines.
  bool group_lines = !groups_.empty();
  for (auto& n : nodes_) {
    if (!group_lines && n->name().rfind("broker-", 0) != 0) continue;
    n->set_log_sink([this, group_lines](std::string_view line) {
      bool wanted = line.find(" [cleaner] ") != std::string_view::npos ||
                    line.find(" [controller] ") != std::string_view::npos ||
                    line.find(" [cluster] ") != std::string_view::npos ||
                    (group_lines && line.find(" [group] ") != std::string_view::npos);
      if (wanted) trace(std::string(line.substr(line.find(' ') + 1)));
    });
  }
  auto load = broker::load_broker_config(s_.broker_config, s_.path);
  if (!load) return load.status();
  config_ = load->config;
  for (int32_t id = 0; id < s_.brokers; ++id) {
    BrokerProcess b;
    b.name = "broker-" + std::to_string(id);
    b.config = config_;
    b.config.node_id = NodeId(id);
    b.config.listeners = {broker::Listener{"PLAINTEXT", b.name, kBrokerPort}};
    b.config.advertised_listeners.clear();
    b.config.log_dirs = {"/data"};
    if (s_.brokers > 1) {
      b.config.controller = broker::ControllerVoter{NodeId(0), Endpoint{kBrokerName, kBrokerPort}};
    }
    bootstrap_.push_back({b.name, kBrokerPort});
    brokers_.push_back(std::move(b));
  }
  for (BrokerProcess& b : brokers_) STRATA_RETURN_IF_ERROR(start_broker(b));
  STRATA_RETURN_IF_ERROR(await_cluster());
  for (size_t i = 0; i < s_.topics.size(); ++i) {
    const TopicSpec& t = s_.topics[i];
    broker::CreateTopicSpec spec;
    spec.name = t.name;
    spec.partitions = t.partitions;
    spec.replication_factor = 1;
    for (const auto& [k, v] : t.config) spec.configs[k] = v;
    broker::AdminError e = brokers_.front().broker->topics().create_topic(spec);
    if (!e.ok()) {
      return Status::invalid_argument(s_.path + ": topics[" + std::to_string(i) + "]: " +
                                      e.message);
    }
    topic_names_.push_back(t.name);
  }
  for (const auto& p : s_.producers) {
    if (std::find(topic_names_.begin(), topic_names_.end(), p.topic) == topic_names_.end()) {
      topic_names_.push_back(p.topic);
    }
  }
  return ok_status();
}

Status ScenarioRun::start_broker(BrokerProcess& b) {
  b.broker = std::make_unique<broker::Broker>(node(b.name), b.config);
  ++b.incarnation;
  Status st = b.broker->start();
  if (!st) b.broker.reset();
  return st;
}

Status ScenarioRun::await_cluster() {
  if (brokers_.size() == 1) return ok_status();
  MonoTime limit = world_.now() + std::chrono::seconds(30);
  auto all_active = [this] {
    const auto& image = brokers_.front().broker->topics().image();
    return std::all_of(brokers_.begin(), brokers_.end(), [&](const BrokerProcess& b) {
      return image.is_active(b.config.node_id);
    });
  };
  while (!all_active()) {
    if (world_.now() >= limit || !world_.step()) {
      return Status::timed_out("the brokers did not all register with the controller");
    }
  }
  trace("cluster: " + std::to_string(brokers_.size()) + " brokers registered and unfenced");
  origin_ = world_.now();
  return ok_status();
}

BrokerProcess& ScenarioRun::broker_process(const std::string& name) {
  for (BrokerProcess& b : brokers_) {
    if (b.name == name) return b;
  }
  STRATA_ASSERT(false, "the parser checks broker names");
  return brokers_.front();
}

broker::PartitionReplica* ScenarioRun::leader_replica(const std::string& topic,
                                                      int32_t partition) {
  for (BrokerProcess& b : brokers_) {
    if (!b.broker || !node(b.name).up()) continue;
    broker::PartitionReplica* r = b.broker->topics().find(topic, partition);
    if (r != nullptr && r->is_leader) return r;
  }
  return nullptr;
}

void ScenarioRun::schedule_workloads() {
  producers_.resize(s_.producers.size());
  consumers_.resize(s_.consumers.size());
  members_.resize(s_.consumers.size());
  for (size_t i = 0; i < s_.producers.size(); ++i) {
    const ProducerSpec& spec = s_.producers[i];
    world_.schedule_at(at(spec.start), [this, &spec] {
      start_client(spec.id);
      trace("workload start " + spec.id);
    });
    Duration stop = std::min(spec.stop.value_or(s_.duration), s_.duration);
    world_.schedule_at(at(stop), [this, i, &spec] {
      if (producers_[i]) producers_[i]->stop();
      trace("workload stop " + spec.id);
    });
  }
  for (size_t i = 0; i < s_.consumers.size(); ++i) {
    const ConsumerSpec& spec = s_.consumers[i];
    world_.schedule_at(at(spec.start), [this, &spec] {
      start_client(spec.id);
      trace("workload start " + spec.id);
    });
    if (spec.stop) {
      world_.schedule_at(at(*spec.stop), [this, i, &spec] {
        if (consumers_[i]) consumers_[i]->stop();
        if (members_[i]) members_[i]->stop();
        trace("workload stop " + spec.id);
      });
    }
  }
}

// Creates and starts the workload of client `id` on its node (at its start, or again after
// a crash_client with a duration).
void ScenarioRun::start_client(const std::string& id) {
  for (size_t i = 0; i < s_.producers.size(); ++i) {
    const ProducerSpec& spec = s_.producers[i];
    if (spec.id != id) continue;
    producers_[i] = std::make_unique<ProducerWorkload>(node(id), *history_, spec, bootstrap_,
                                                       next_seq_[id]);
    producers_[i]->start();
    return;
  }
  for (size_t i = 0; i < s_.consumers.size(); ++i) {
    const ConsumerSpec& spec = s_.consumers[i];
    if (spec.id != id) continue;
    if (spec.is_group_member()) {
      members_[i] = std::make_unique<GroupMemberWorkload>(node(id), *history_, spec, bootstrap_);
      members_[i]->start();
    } else {
      consumers_[i] = std::make_unique<ConsumerWorkload>(node(id), *history_, spec, bootstrap_,
                                                         partitions_of(spec.topic));
      consumers_[i]->start();
    }
    return;
  }
  STRATA_ASSERT(false, "the parser checks client names");
}

// The client's process dies: no close, no LeaveGroup, no commit; records in flight have an
// unknown outcome. The history gets a kCrash so the checker forgets its positions.
void ScenarioRun::crash_client(const std::string& id) {
  SimNode& n = node(id);
  if (!n.up()) {
    trace("crash_client skipped: " + id + " is down");
    return;
  }
  trace("crash_client " + id);
  OpRecord op;
  op.t_ns = world_.now().ns;
  op.type = OpType::kCrash;
  op.client = history_->intern(id);
  history_->add(op);
  for (size_t i = 0; i < s_.producers.size(); ++i) {
    if (s_.producers[i].id != id || !producers_[i]) continue;
    next_seq_[id] = producers_[i]->sent();
    bank_producer_stats(*producers_[i]);
    producers_[i].reset();
  }
  for (size_t i = 0; i < s_.consumers.size(); ++i) {
    if (s_.consumers[i].id != id) continue;
    consumers_[i].reset();
    members_[i].reset();
  }
  n.crash(false, true);
}

void ScenarioRun::restart_client(const std::string& id) {
  SimNode& n = node(id);
  if (n.up()) {
    trace("restart_client skipped: " + id + " is up");
    return;
  }
  n.restart();
  start_client(id);
  trace("restart_client " + id);
}

void ScenarioRun::bank_broker_stats(BrokerProcess& b) {
  if (!b.broker) return;
  members_expired_ += b.broker->groups().stats().members_expired;
  duplicate_batches_ += b.broker->stats().duplicate_batches;
}

void ScenarioRun::bank_producer_stats(const ProducerWorkload& p) {
  producer_retries_ += p.client_stats().retries;
  producer_id_resets_ += p.client_stats().producer_id_resets;
}

void ScenarioRun::scan_history() {
  const History& h = *history_;
  const auto& ops = h.records();
  for (; cursor_ < ops.size(); ++cursor_) {
    const OpRecord& op = ops[cursor_];
    if (op.type == OpType::kSend) ++sent_[std::string(h.name(op.client))];
    if (op.type == OpType::kAck) ++acked_[std::string(h.name(op.client))];
    if (op.type != OpType::kPoll && op.type != OpType::kSeek) continue;
    std::string client(h.name(op.client));
    auto owner = position_owner_.find(client);
    std::tuple<std::string, std::string, int32_t> where{
        owner == position_owner_.end() ? client : owner->second, h.name(op.topic), op.partition};
    position_[where] = op.type == OpType::kPoll ? op.offset + 1 : op.offset;
  }
}

// Records behind the high watermark over every running consumer's partitions; needs the
// partition's leader (its log is the truth), so a partition without one counts 0.
int64_t ScenarioRun::total_lag() {
  int64_t lag = 0;
  std::set<std::string> groups_seen;
  for (size_t i = 0; i < s_.consumers.size(); ++i) {
    const ConsumerSpec& c = s_.consumers[i];
    // A group's lag counts once, while any of its members runs.
    if (c.is_group_member() ? !members_[i] || !groups_seen.insert(c.group).second
                            : !consumers_[i]) {
      continue;
    }
    const std::string& owner = c.is_group_member() ? c.group : c.id;
    bool from_beginning =
        c.is_group_member() ? c.config.auto_offset_reset != client::OffsetReset::kLatest
                            : c.from_beginning;
    for (int32_t p = 0; p < partitions_of(c.topic); ++p) {
      if (!c.partitions.empty() &&
          std::find(c.partitions.begin(), c.partitions.end(), p) == c.partitions.end()) {
        continue;
      }
      broker::PartitionReplica* r = leader_replica(c.topic, p);
      if (!r) continue;
      int64_t hw = r->high_watermark().value();
      int64_t start = r->log->log_start_offset().value();
      auto it = position_.find({owner, c.topic, p});
      int64_t pos = it == position_.end() ? (from_beginning ? start : hw) : it->second;
      lag += std::max<int64_t>(0, hw - std::max(pos, start));
    }
  }
  return lag;
}

void ScenarioRun::sample() {
  if (!sampling_) return;
  scan_history();
  int64_t lag = total_lag();
  max_lag_ = std::max(max_lag_, lag);
  if (opt_.keep_metrics) {
    int64_t t = world_.now().ns;
    for (const BrokerProcess& b : brokers_) {
      SimNode& n = node(b.name);
      metrics_.push_back({t, "broker_up", "node=" + b.name, n.up() && b.broker ? 1.0 : 0.0});
      metrics_.push_back({t, "broker_paused", "node=" + b.name, n.paused() ? 1.0 : 0.0});
    }
    for (const auto& topic : topic_names_) {
      for (int32_t p = 0; p < partitions_of(topic); ++p) {
        broker::PartitionReplica* r = leader_replica(topic, p);
        if (!r) continue;
        double leo = double(r->log->log_end_offset().value());
        metrics_.push_back({t, "log_end_offset", tp_label(topic, p), leo});
        metrics_.push_back({t, "high_watermark", tp_label(topic, p),
                            double(r->high_watermark().value())});
      }
    }
    for (const auto& p : s_.producers) {
      metrics_.push_back({t, "producer_sent", "producer=" + p.id, double(sent_[p.id])});
      metrics_.push_back({t, "producer_acked", "producer=" + p.id, double(acked_[p.id])});
    }
    metrics_.push_back({t, "consumer_lag", "consumer=all", double(lag)});
    for (const auto& g : groups_) {
      const group::Group* grp = nullptr;
      for (const BrokerProcess& b : brokers_) {
        if (b.broker && !grp) grp = b.broker->groups().find(g);
      }
      metrics_.push_back({t, "group_generation", "group=" + g,
                          grp ? double(grp->generation) : 0.0});
      metrics_.push_back({t, "group_members", "group=" + g,
                          grp ? double(grp->members.size()) : 0.0});
    }
  }
  world_.schedule(opt_.sample_interval, [this] { sample(); });
}

// Heal everything, bring the broker back, stop producing, then let deliveries finish and
// consumers catch up (or the phase time out).
void ScenarioRun::final_phase() {
  trace("final phase: heal all");
  net_.heal_all();
  for (const auto& a : nodes_) {
    for (const auto& b : nodes_) net_.set_params(a->host(), b->host(), s_.network);
    if (a->paused()) a->resume();
    a->set_clock_skew_ms(0);
    a->set_disk_latency(DiskLatency{});
  }
  for (const BrokerProcess& b : brokers_) {
    if (!node(b.name).up() || !b.broker) restart_broker(b.name);
  }
  for (auto& p : producers_) {
    if (p) p->stop();
  }
  MonoTime limit = world_.now() + opt_.final_phase_max;
  while (world_.now() < limit) {
    world_.run_until(world_.now() + milliseconds(100));
    scan_history();
    bool drained = std::all_of(producers_.begin(), producers_.end(),
                               [](const auto& p) { return !p || p->drained(); });
    final_lag_ = total_lag();
    if (drained && final_lag_ == 0) break;
  }
  for (auto& c : consumers_) {
    if (c) c->stop();
  }
  for (auto& m : members_) {
    if (m) m->stop();
  }
  trace("final phase: done, lag " + std::to_string(final_lag_));
}

Status ScenarioRun::final_reads() {
  sampling_ = false;
  for (const auto& topic : topic_names_) {
    STRATA_RETURN_IF_ERROR(final_read(world_, node(kCheckerName), *history_, topic,
                                      partitions_of(topic), bootstrap_, std::chrono::seconds(30)));
  }
  for (const auto& g : groups_) STRATA_RETURN_IF_ERROR(final_committed(g));
  return ok_status();
}

// After the run: the group's committed offsets as the coordinator has them (kFinalCommitted),
// so that the checker sees a commit the broker lost.
Status ScenarioRun::final_committed(const std::string& group) {
  client::ClientOptions options;
  options.bootstrap_servers = bootstrap_;
  options.client_id = "final-committed";
  client::Admin admin(node(kCheckerName), options);
  std::optional<Result<std::vector<client::CommittedOffset>>> got;
  admin.list_group_offsets(group, std::nullopt, [&](auto r) { got = std::move(r); });
  MonoTime limit = world_.now() + std::chrono::seconds(30);
  while (!got && world_.now() < limit && world_.step()) {
  }
  if (!got) return Status::timed_out("reading the committed offsets of group " + group);
  if (!*got) return got->status();
  NameId client = history_->intern("final");
  NameId group_name = history_->intern(group);
  for (const client::CommittedOffset& c : **got) {
    if (c.error_code != 0 || c.offset < 0) continue;
    OpRecord op;
    op.t_ns = world_.now().ns;
    op.type = OpType::kFinalCommitted;
    op.client = client;
    op.topic = history_->intern(c.tp.topic);
    op.partition = c.tp.partition.value();
    op.offset = c.offset;
    op.set_group(group_name, -1);
    history_->add(op);
  }
  return ok_status();
}

void ScenarioRun::measure(RunOutcome& out) {
  const CheckResult& c = *out.check;
  auto& m = out.measures;
  int64_t total = 0;
  for (auto k : {AnomalyKind::kLostWrite, AnomalyKind::kDuplicate, AnomalyKind::kReorder,
                 AnomalyKind::kInconsistentOffset, AnomalyKind::kUnreadable,
                 AnomalyKind::kOffsetBackwards, AnomalyKind::kDoubleOwner,
                 AnomalyKind::kCommitBackwards, AnomalyKind::kCommitUndelivered}) {
    m[std::string(anomaly_name(k))] = double(c.count(k));
    total += c.count(k);
  }
  m["anomalies"] = double(total);
  m["sent"] = double(c.sent);
  m["acked"] = double(c.acked);
  m["send_errors"] = double(c.failed);
  m["polled"] = double(c.polled);
  m["compacted_away"] = double(c.compacted_away);
  const History& h = *history_;
  std::map<ValueId, int64_t> send_time;
  std::map<std::pair<NameId, int32_t>, int64_t> per_partition;
  std::vector<int64_t> latencies;
  double resets = 0, final_records = 0;
  for (const OpRecord& op : h.records()) {
    if (op.type == OpType::kSend) send_time[op.value] = op.t_ns;
    if (op.type == OpType::kAck) {
      auto it = send_time.find(op.value);
      if (it != send_time.end()) latencies.push_back(op.t_ns - it->second);
      ++per_partition[{op.topic, op.partition}];
    }
    if (op.type == OpType::kSeek && h.name(op.error) == "offset reset") ++resets;
    if (op.type == OpType::kFinalRead) ++final_records;
  }
  m["offset_resets"] = resets;
  m["final_records"] = final_records;
  m["ack_latency_p50"] = percentile_ms(latencies, 0.50);
  m["ack_latency_p99"] = percentile_ms(latencies, 0.99);
  m["ack_latency_max"] = percentile_ms(latencies, 1.0);
  int64_t hottest = 0;
  for (const auto& [tp, n] : per_partition) hottest = std::max(hottest, n);
  m["hot_partition_share"] = c.acked > 0 ? double(hottest) / double(c.acked) : 0;
  m["invariant_violations"] = double(invariants_.violation_count());
  m["max_consumer_lag"] = double(max_lag_);
  m["final_consumer_lag"] = double(final_lag_);
  m["redelivered"] = double(c.redelivered);
  m["commits"] = double(c.commits);
  m["commit_failures"] = double(c.commit_failures);
  double generations = 0, unowned = 0, max_unowned = 0, max_unowned_partitions = 0;
  for (const auto& [g, stats] : c.groups) {
    generations += double(stats.generations);
    unowned += double(stats.unowned_ms);
    max_unowned = std::max(max_unowned, double(stats.max_unowned_ms));
    max_unowned_partitions =
        std::max(max_unowned_partitions, double(stats.max_unowned_partitions));
  }
  m["generations"] = generations;
  m["unowned_ms"] = unowned;
  m["max_unowned_ms"] = max_unowned;
  m["max_unowned_partitions"] = max_unowned_partitions;
  m["members_expired"] = double(members_expired_);
  m["producer_retries"] = double(producer_retries_);
  m["producer_id_resets"] = double(producer_id_resets_);
  m["duplicate_batches"] = double(duplicate_batches_);
}

void ScenarioRun::evaluate(RunOutcome& out) {
  out.record.passed = true;
  for (const Expectation& e : s_.expectations) {
    auto it = out.measures.find(e.name);
    STRATA_ASSERT(it != out.measures.end(), "the parser only accepts known measures");
    bool ok = compare(it->second, e.op, e.value);
    char got[64];
    std::snprintf(got, sizeof got, "%g", it->second);
    out.record.expectations.push_back(
        {e.name, ok, "expected " + e.op + " " + e.text.substr(e.text.find_first_not_of("=!<> ")) +
                         ", got " + got + " (" + s_.path + ":" + std::to_string(e.line) + ")"});
    out.record.passed = out.record.passed && ok;
  }
  // A broken cluster invariant fails every run, whatever the scenario expects of clients.
  if (invariants_.violation_count() > 0) {
    const InvariantViolation& v = invariants_.violations().front();
    out.record.passed = false;
    out.record.expectations.push_back(
        {"cluster_invariants", false,
         std::to_string(invariants_.violation_count()) + " violations; first at " +
             std::to_string(v.at.ns / 1000000) + " ms: " + v.invariant + ": " + v.detail});
  }
}

Result<RunOutcome> ScenarioRun::run() {
  STRATA_RETURN_IF_ERROR(setup());
  trace("scenario " + s_.name + " seed " + std::to_string(world_.seed()));
  schedule_workloads();
  for (const Fault& f : s_.faults) schedule_fault(f);
  if (s_.nemesis.enabled) {
    world_.schedule_at(at(s_.nemesis.start), [this] { nemesis_tick(); });
  }
  world_.schedule(Duration{0}, [this] { sample(); });
  // Cluster-side invariants after every event, on every live broker.
  std::vector<SimNode*> broker_nodes;
  for (const BrokerProcess& b : brokers_) broker_nodes.push_back(&node(b.name));
  world_.set_after_event([this, broker_nodes] {
    for (size_t i = 0; i < brokers_.size(); ++i) {
      BrokerProcess& b = brokers_[i];
      if (!b.broker || !broker_nodes[i]->up()) continue;
      uint64_t before = invariants_.violation_count();
      invariants_.check(world_.now(), b.name, b.incarnation, *b.broker);
      if (invariants_.violation_count() != before && before < 10) {
        const InvariantViolation& v = invariants_.violations().back();
        trace("invariant " + v.invariant + " violated: " + v.detail);
      }
    }
  });
  world_.run_until(at(s_.duration));
  final_phase();
  RunOutcome out;
  Status read = final_reads();
  if (!read) trace("final read failed: " + read.message());
  for (BrokerProcess& b : brokers_) bank_broker_stats(b);
  for (const auto& p : producers_) {
    if (p) bank_producer_stats(*p);
  }
  CheckOptions check;
  check.ownership_until_ns = at(s_.duration).ns;
  // The broker's own view of each topic's cleanup.policy (topic keys over broker defaults).
  if (const auto& controller = brokers_.front().broker) {
    for (const auto& [name, topic] : controller->topics().topics()) {
      if (topic.config.cleanup_policy.find("compact") != std::string::npos) {
        check.compacted_topics.insert(name);
      }
    }
  }
  out.check = std::make_unique<CheckResult>(check_history(*history_, check));
  measure(out);
  evaluate(out);
  if (!read) {
    out.record.passed = false;
    out.record.expectations.push_back({"final_read", false, read.message()});
  }
  char line[160];
  std::snprintf(line, sizeof line, "result sent %lld acked %lld anomalies %g",
                (long long)out.check->sent, (long long)out.check->acked,
                out.measures["anomalies"]);
  trace(line);
  RunRecord& r = out.record;
  r.scenario_name = s_.name;
  r.scenario_path = s_.path;
  r.scenario_text = s_.text;
  r.seed = world_.seed();
  r.simulated_ns = world_.now().ns;
  r.events_run = world_.events_run();
  r.trace_hash = world_.trace_hash();
  r.trace = std::move(trace_);
  world_.set_after_event(nullptr);
  r.metrics = std::move(metrics_);
  // Workloads hold references into the world; drop them before it goes.
  producers_.clear();
  consumers_.clear();
  members_.clear();
  brokers_.clear();
  out.history = std::move(history_);
  r.history = out.history.get();
  r.check = out.check.get();
  return out;
}

Result<RunOutcome> run_scenario(const Scenario& scenario, uint64_t seed,
                                const RunOptions& options) {
  ScenarioRun run(scenario, seed, options);
  return run.run();
}

}  // namespace strata::sim
