#include "sim/checker.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <set>
#include <unordered_map>
#include <unordered_set>

namespace strata::sim {

std::string_view op_type_name(OpType t) {
  switch (t) {
    case OpType::kSend: return "send";
    case OpType::kAck: return "ack";
    case OpType::kSendError: return "send_error";
    case OpType::kPoll: return "poll";
    case OpType::kSeek: return "seek";
    case OpType::kFinalRead: return "final_read";
    case OpType::kFinalBounds: return "final_bounds";
    case OpType::kAssigned: return "assigned";
    case OpType::kRevoked: return "revoked";
    case OpType::kCommit: return "commit";
    case OpType::kCommitError: return "commit_error";
    case OpType::kCrash: return "crash";
    case OpType::kFinalCommitted: return "final_committed";
  }
  return "?";
}

std::string_view anomaly_name(AnomalyKind k) {
  switch (k) {
    case AnomalyKind::kLostWrite: return "lost_write";
    case AnomalyKind::kDuplicate: return "duplicate";
    case AnomalyKind::kReorder: return "reorder";
    case AnomalyKind::kInconsistentOffset: return "inconsistent_offset";
    case AnomalyKind::kUnreadable: return "unreadable";
    case AnomalyKind::kOffsetBackwards: return "offset_backwards";
    case AnomalyKind::kDoubleOwner: return "double_owner";
    case AnomalyKind::kCommitBackwards: return "commit_backwards";
    case AnomalyKind::kCommitUndelivered: return "commit_undelivered";
  }
  return "?";
}

namespace {

using TopicPartition = std::pair<std::string, int32_t>;

struct Bounds {
  int64_t log_start = 0;
  int64_t high_watermark = -1;
};

// Everything the checks need, indexed once.
struct Index {
  std::map<std::string, const OpRecord*> acks;                  // value → ack
  std::map<TopicPartition, std::map<int64_t, std::string>> log;  // final read
  std::map<TopicPartition, std::set<std::string>> log_values;    // final read, by value
  // Final read of compacted topics only: each key's last offset.
  std::map<TopicPartition, std::map<NameId, int64_t>> last_offset_of_key;
  std::map<std::string, std::set<std::pair<TopicPartition, int64_t>>> stored;  // value → where
  std::map<TopicPartition, Bounds> bounds;
  std::set<std::string> polled_values;
  // consumer → partition → highest offset polled
  std::map<std::string, std::map<TopicPartition, int64_t>> poll_reach;
};

class Reporter {
 public:
  Reporter(CheckResult& out, size_t max) : out_(out), max_(max) {}
  void add(AnomalyKind kind, const TopicPartition& tp, int64_t offset, std::string value,
           std::string detail) {
    int64_t n = ++out_.counts[kind];
    if (size_t(n) > max_) return;
    out_.anomalies.push_back({kind, tp.first, tp.second, offset, std::move(value),
                              std::move(detail)});
  }

 private:
  CheckResult& out_;
  size_t max_;
};

// "p1:42" → ("p1", 42); sequence -1 if the id has no numeric suffix.
std::pair<std::string, int64_t> split_value_id(const std::string& id) {
  size_t colon = id.rfind(':');
  if (colon == std::string::npos) return {id, -1};
  int64_t seq = -1;
  std::from_chars(id.data() + colon + 1, id.data() + id.size(), seq);
  return {id.substr(0, colon), seq};
}

Index build_index(const History& h, const std::set<std::string>& compacted, CheckResult& out) {
  Index ix;
  for (const OpRecord& op : h.records()) {
    TopicPartition tp{std::string(h.name(op.topic)), op.partition};
    switch (op.type) {
      case OpType::kSend: ++out.sent; break;
      case OpType::kAck:
        ++out.acked;
        ix.acks[h.value_string(op.value)] = &op;
        break;
      case OpType::kSendError: ++out.failed; break;
      case OpType::kPoll: {
        ++out.polled;
        std::string value = h.value_string(op.value);
        ix.polled_values.insert(value);
        ix.stored[value].insert({tp, op.offset});
        int64_t& reach = ix.poll_reach[std::string(h.name(op.client))][tp];
        reach = std::max(reach, op.offset);
        break;
      }
      case OpType::kFinalRead: {
        std::string value = h.value_string(op.value);
        ix.log[tp][op.offset] = value;
        ix.log_values[tp].insert(value);
        ix.stored[value].insert({tp, op.offset});
        if (op.key != kNoName && compacted.count(tp.first) != 0) {
          int64_t& last = ix.last_offset_of_key[tp][op.key];
          last = std::max(last, op.offset);
        }
        break;
      }
      case OpType::kFinalBounds: ix.bounds[tp] = {op.offset, op.high_watermark}; break;
      case OpType::kSeek:
      case OpType::kAssigned:
      case OpType::kRevoked:
      case OpType::kCommit:
      case OpType::kCommitError:
      case OpType::kCrash:
      case OpType::kFinalCommitted: break;  // group operations: see GroupChecker
    }
  }
  return ix;
}

// Whether the final read of a compacted partition holds a record with `key` after `offset`.
bool superseded(const Index& ix, const TopicPartition& tp, NameId key, int64_t offset) {
  if (key == kNoName) return false;
  auto p = ix.last_offset_of_key.find(tp);
  if (p == ix.last_offset_of_key.end()) return false;
  auto k = p->second.find(key);
  return k != p->second.end() && k->second > offset;
}

void check_lost_and_unreadable(const History& h, const Index& ix,
                               const std::set<std::string>& compacted, Reporter& r,
                               CheckResult& out) {
  for (const auto& [value, ack] : ix.acks) {
    TopicPartition tp{std::string(h.name(ack->topic)), ack->partition};
    auto b = ix.bounds.find(tp);
    int64_t log_start = b == ix.bounds.end() ? 0 : b->second.log_start;
    if (ack->offset < log_start) continue;  // removed by retention, not lost
    auto log = ix.log_values.find(tp);
    if (log == ix.log_values.end() || log->second.count(value) == 0) {
      bool compacted_topic = compacted.count(tp.first) != 0;
      if (compacted_topic && superseded(ix, tp, ack->key, ack->offset)) {
        ++out.compacted_away;
        continue;
      }
      r.add(AnomalyKind::kLostWrite, tp, ack->offset, value,
            "acknowledged at offset " + std::to_string(ack->offset) + " at t=" +
                std::to_string(ack->t_ns / 1000000) + "ms, missing from the final log" +
                (compacted_topic ? " with no later record of key " +
                                       std::string(h.name(ack->key))
                                 : std::string()));
      continue;
    }
    if (ix.polled_values.count(value)) continue;
    for (const auto& [consumer, reach] : ix.poll_reach) {
      auto it = reach.find(tp);
      if (it != reach.end() && it->second > ack->offset) {
        r.add(AnomalyKind::kUnreadable, tp, ack->offset, value,
              consumer + " polled past offset " + std::to_string(ack->offset) +
                  " without receiving it");
        break;
      }
    }
  }
}

void check_duplicates(const Index& ix, Reporter& r) {
  for (const auto& [value, places] : ix.stored) {
    std::set<std::pair<TopicPartition, int64_t>> distinct(places.begin(), places.end());
    if (distinct.size() < 2) continue;
    std::string where;
    for (const auto& [tp, off] : distinct) {
      where += (where.empty() ? "" : ", ") + tp.first + "-" + std::to_string(tp.second) + "@" +
               std::to_string(off);
    }
    const auto& first = *distinct.begin();
    r.add(AnomalyKind::kDuplicate, first.first, first.second, value, "stored at " + where);
  }
}

void check_offsets(const History& h, const Index& ix, Reporter& r) {
  // One offset, one record: compare every poll with the final log and with other polls.
  std::map<std::pair<TopicPartition, int64_t>, std::string> seen;
  for (const auto& [tp, log] : ix.log) {
    for (const auto& [off, v] : log) seen[{tp, off}] = v;
  }
  std::map<std::string, std::map<TopicPartition, int64_t>> last_poll;
  for (const OpRecord& op : h.records()) {
    // A new position: a seek, a change of ownership (the new owner starts from the committed
    // offset), or a crash (positions are gone).
    bool repositions = op.type == OpType::kSeek || op.type == OpType::kAssigned ||
                       op.type == OpType::kRevoked;
    if (op.type != OpType::kPoll && !repositions && op.type != OpType::kCrash) continue;
    std::string client(h.name(op.client));
    if (op.type == OpType::kCrash) {
      last_poll.erase(client);
      continue;
    }
    TopicPartition tp{std::string(h.name(op.topic)), op.partition};
    if (repositions) {
      auto c = last_poll.find(client);
      if (c != last_poll.end()) c->second.erase(tp);
      continue;
    }
    std::string value = h.value_string(op.value);
    auto [it, fresh] = seen.emplace(std::make_pair(tp, op.offset), value);
    if (!fresh && it->second != value) {
      r.add(AnomalyKind::kInconsistentOffset, tp, op.offset, value,
            client + " read " + value + " where " + it->second + " is stored");
    }
    auto& prev = last_poll[client];
    auto p = prev.find(tp);
    if (p != prev.end() && op.offset <= p->second) {
      r.add(AnomalyKind::kOffsetBackwards, tp, op.offset, value,
            client + " polled offset " + std::to_string(op.offset) + " after " +
                std::to_string(p->second) + " without a seek");
    }
    prev[tp] = op.offset;
  }
}

void check_order(const Index& ix, Reporter& r) {
  for (const auto& [tp, log] : ix.log) {
    std::map<std::string, std::pair<int64_t, int64_t>> last;  // producer → (seq, offset)
    for (const auto& [off, value] : log) {
      auto [producer, seq] = split_value_id(value);
      if (seq < 0) continue;
      auto it = last.find(producer);
      if (it != last.end() && seq < it->second.first) {
        r.add(AnomalyKind::kReorder, tp, off, value,
              value + " at offset " + std::to_string(off) + " follows " + producer + ":" +
                  std::to_string(it->second.first) + " at offset " +
                  std::to_string(it->second.second));
      }
      if (it == last.end() || seq > it->second.first) last[producer] = {seq, off};
    }
  }
}


// Consumer-group checks and statistics (double owner, commit backwards, commit undelivered,
// GroupCheck). A first pass finds the groups and their members; a history without group
// operations stops there. The second pass reads polls only for group members.
class GroupChecker {
 public:
  GroupChecker(const History& h, Reporter& r, int64_t ownership_until_ns)
      : h_(h), r_(r), until_ns_(ownership_until_ns) {}

  // Returns false (and does nothing more) when the history has no group operation.
  bool find_groups();
  void run();
  void finish(CheckResult& out);

 private:
  using Tp = std::pair<NameId, int32_t>;  // (topic, partition)
  struct ValueHash {
    size_t operator()(ValueId v) const {
      return std::hash<uint64_t>{}((uint64_t(v.name) << 40) ^ uint64_t(v.seq));
    }
  };
  struct Group {
    NameId id = kNoName;
    GroupCheck stats;
    std::set<int32_t> generations;
    std::unordered_set<ValueId, ValueHash> polled;  // by any member
    int64_t unowned_now = 0;  // partitions in an open unowned stretch
  };
  // One partition as seen by one group.
  struct GroupTp {
    std::map<int32_t, std::vector<NameId>> owners_by_generation;  // from kAssigned
    std::vector<NameId> owners;        // now
    bool counting = false;             // since the first kAssigned
    int64_t empty_since_ns = -1;       // start of the open unowned stretch, if any
    int64_t unowned_ns = 0, max_unowned_ns = 0;
    // Accepted commits in completion order, each with the highest one completed by then.
    std::vector<std::pair<int64_t, const OpRecord*>> completed;
    // The highest accepted commit so far, or null.
    const OpRecord* best_commit() const {
      return completed.empty() ? nullptr : completed.back().second;
    }
    int64_t final_committed = -1;
    int64_t lowest_poll = INT64_MAX;  // by a member
  };

  Group& group(NameId id) { return groups_[id]; }
  GroupTp& tp(NameId g, const OpRecord& op) { return tps_[{g, {op.topic, op.partition}}]; }
  TopicPartition tp_name(const OpRecord& op) const {
    return {std::string(h_.name(op.topic)), op.partition};
  }
  std::string who(const OpRecord& op) const {  // "c1 in generation 3 at t=120ms"
    return std::string(h_.name(op.client)) + " in generation " +
           std::to_string(op.generation()) + " at t=" + std::to_string(op.t_ns / 1000000) +
           "ms";
  }

  void on_poll(const OpRecord& op);
  void on_assigned(const OpRecord& op);
  void on_revoked(const OpRecord& op);
  void on_crash(const OpRecord& op);
  void on_commit(const OpRecord& op);
  void on_final_committed(const OpRecord& op);
  void lose_owner(Group& g, GroupTp& t, NameId client, int64_t t_ns);
  void end_stretch(Group& g, GroupTp& t, int64_t t_ns);
  void check_undelivered(NameId g, const Tp& where, const GroupTp& t);

  const History& h_;
  Reporter& r_;
  int64_t until_ns_;
  std::map<NameId, Group> groups_;  // stable addresses: members_ points into it
  std::unordered_map<NameId, Group*> members_;
  std::set<Tp> group_tps_;                            // every partition a group touched
  std::map<std::pair<NameId, Tp>, GroupTp> tps_;      // by (group, partition)
  std::map<Tp, std::map<int64_t, ValueId>> final_;    // final reads of group_tps_
};

bool GroupChecker::find_groups() {
  int64_t last_ns = 0;
  for (const OpRecord& op : h_.records()) {
    last_ns = std::max(last_ns, op.t_ns);
    if (!is_group_op(op.type)) continue;
    Group& g = group(op.group());
    g.id = op.group();
    group_tps_.insert({op.topic, op.partition});
    if (op.type == OpType::kAssigned) members_.emplace(op.client, &g);  // one group each
  }
  if (until_ns_ < 0) until_ns_ = last_ns;
  return !groups_.empty();
}

void GroupChecker::run() {
  for (const OpRecord& op : h_.records()) {
    switch (op.type) {
      case OpType::kPoll: on_poll(op); break;
      case OpType::kAssigned: on_assigned(op); break;
      case OpType::kRevoked: on_revoked(op); break;
      case OpType::kCrash: on_crash(op); break;
      case OpType::kCommit: on_commit(op); break;
      case OpType::kCommitError: ++group(op.group()).stats.commit_failures; break;
      case OpType::kFinalCommitted: on_final_committed(op); break;
      case OpType::kFinalRead:
        if (group_tps_.count({op.topic, op.partition})) {
          final_[{op.topic, op.partition}][op.offset] = op.value;
        }
        break;
      default: break;
    }
  }
}

void GroupChecker::on_poll(const OpRecord& op) {
  auto m = members_.find(op.client);
  if (m == members_.end()) return;  // not a group member
  Group& g = *m->second;
  if (!op.value.empty() && !g.polled.insert(op.value).second) ++g.stats.redelivered;
  GroupTp& t = tp(g.id, op);
  t.lowest_poll = std::min(t.lowest_poll, op.offset);
}

void GroupChecker::on_assigned(const OpRecord& op) {
  Group& g = group(op.group());
  g.generations.insert(op.generation());
  g.stats.last_generation = std::max(g.stats.last_generation, op.generation());
  GroupTp& t = tp(op.group(), op);
  std::vector<NameId>& same_gen = t.owners_by_generation[op.generation()];
  if (std::find(same_gen.begin(), same_gen.end(), op.client) == same_gen.end()) {
    if (!same_gen.empty()) {
      r_.add(AnomalyKind::kDoubleOwner, tp_name(op), -1, "",
             std::string(h_.name(same_gen.front())) + " and " +
                 std::string(h_.name(op.client)) + " both own it in generation " +
                 std::to_string(op.generation()) + " of group " +
                 std::string(h_.name(op.group())));
    }
    same_gen.push_back(op.client);
  }
  if (!t.counting) {
    t.counting = true;
  } else if (t.owners.empty()) {
    end_stretch(g, t, op.t_ns);
  }
  if (std::find(t.owners.begin(), t.owners.end(), op.client) == t.owners.end()) {
    t.owners.push_back(op.client);
  }
}

void GroupChecker::on_revoked(const OpRecord& op) {
  auto it = tps_.find({op.group(), {op.topic, op.partition}});
  if (it != tps_.end()) lose_owner(group(op.group()), it->second, op.client, op.t_ns);
}

void GroupChecker::on_crash(const OpRecord& op) {
  for (auto& [key, t] : tps_) lose_owner(group(key.first), t, op.client, op.t_ns);
}

void GroupChecker::lose_owner(Group& g, GroupTp& t, NameId client, int64_t t_ns) {
  auto it = std::find(t.owners.begin(), t.owners.end(), client);
  if (it == t.owners.end()) return;
  t.owners.erase(it);
  if (!t.owners.empty() || !t.counting) return;
  t.empty_since_ns = t_ns;
  ++g.unowned_now;
  if (t_ns < until_ns_) {
    g.stats.max_unowned_partitions = std::max(g.stats.max_unowned_partitions, g.unowned_now);
  }
}

// Closes the open unowned stretch at `t_ns`, counting only what lies before until_ns_.
void GroupChecker::end_stretch(Group& g, GroupTp& t, int64_t t_ns) {
  --g.unowned_now;
  int64_t len = std::min(t_ns, until_ns_) - t.empty_since_ns;
  t.empty_since_ns = -1;
  if (len <= 0) return;
  t.unowned_ns += len;
  t.max_unowned_ns = std::max(t.max_unowned_ns, len);
}

void GroupChecker::on_commit(const OpRecord& op) {
  ++group(op.group()).stats.commits;
  GroupTp& t = tp(op.group(), op);
  // Only a commit acknowledged before this one was sent is certainly ordered before it at the
  // coordinator; concurrent ones (e.g. a reply held up by a paused process) may be in either
  // order. Without a send time, every earlier acknowledged commit counts.
  int64_t sent = op.invoked_ns() >= 0 ? op.invoked_ns() : op.t_ns + 1;
  auto before = std::partition_point(t.completed.begin(), t.completed.end(),
                                     [&](const auto& c) { return c.first < sent; });
  if (before != t.completed.begin()) {
    const OpRecord* earlier = std::prev(before)->second;
    if (op.offset < earlier->offset) {
      r_.add(AnomalyKind::kCommitBackwards, tp_name(op), op.offset, "",
             "group " + std::string(h_.name(op.group())) + ": " + who(op) + " committed " +
                 std::to_string(op.offset) + " after " + who(*earlier) + " committed " +
                 std::to_string(earlier->offset));
    }
  }
  const OpRecord* best = t.best_commit();
  t.completed.emplace_back(op.t_ns, best == nullptr || op.offset > best->offset ? &op : best);
}

void GroupChecker::on_final_committed(const OpRecord& op) {
  GroupTp& t = tp(op.group(), op);
  t.final_committed = std::max(t.final_committed, op.offset);
  const OpRecord* best = t.best_commit();
  if (best != nullptr && op.offset < best->offset) {
    r_.add(AnomalyKind::kCommitBackwards, tp_name(op), op.offset, "",
           "group " + std::string(h_.name(op.group())) + ": the final committed offset " +
               std::to_string(op.offset) + " is below the commit of " +
               std::to_string(best->offset) + " by " + who(*best));
  }
}

// Records of the final log in [lowest polled, committed) that no member polled.
void GroupChecker::check_undelivered(NameId g, const Tp& where, const GroupTp& t) {
  const OpRecord* best = t.best_commit();
  int64_t committed = std::max(t.final_committed, best ? best->offset : -1);
  auto log = final_.find(where);
  if (t.lowest_poll == INT64_MAX || log == final_.end()) return;
  const Group& members = groups_.at(g);
  TopicPartition name{std::string(h_.name(where.first)), where.second};
  for (auto it = log->second.lower_bound(t.lowest_poll);
       it != log->second.end() && it->first < committed; ++it) {
    if (members.polled.count(it->second)) continue;
    r_.add(AnomalyKind::kCommitUndelivered, name, it->first, h_.value_string(it->second),
           "group " + std::string(h_.name(g)) + " committed " + std::to_string(committed) +
               " but no member polled offset " + std::to_string(it->first));
  }
}

void GroupChecker::finish(CheckResult& out) {
  for (auto& [key, t] : tps_) {
    Group& g = groups_.at(key.first);
    if (t.counting && t.owners.empty()) end_stretch(g, t, until_ns_);
    check_undelivered(key.first, key.second, t);
    GroupCheck& s = g.stats;
    if (t.counting) {
      s.unowned_ms_by_partition[{std::string(h_.name(key.second.first)), key.second.second}] =
          t.unowned_ns / 1000000;
    }
    s.unowned_ms += t.unowned_ns;  // in ns until the conversion below
    s.max_unowned_ms = std::max(s.max_unowned_ms, t.max_unowned_ns);
  }
  for (auto& [id, g] : groups_) {
    g.stats.generations = int64_t(g.generations.size());
    g.stats.unowned_ms /= 1000000;
    g.stats.max_unowned_ms /= 1000000;
    out.redelivered += g.stats.redelivered;
    out.commits += g.stats.commits;
    out.commit_failures += g.stats.commit_failures;
    out.groups[std::string(h_.name(id))] = g.stats;
  }
}

}  // namespace

CheckResult check_history(const History& history, const CheckOptions& options) {
  CheckResult out;
  Index ix = build_index(history, options.compacted_topics, out);
  Reporter r(out, options.max_reported);
  check_lost_and_unreadable(history, ix, options.compacted_topics, r, out);
  check_duplicates(ix, r);
  check_offsets(history, ix, r);
  check_order(ix, r);
  GroupChecker groups(history, r, options.ownership_until_ns);
  if (groups.find_groups()) {
    groups.run();
    groups.finish(out);
  }
  return out;
}

}  // namespace strata::sim
