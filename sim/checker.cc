#include "sim/checker.h"

#include <algorithm>
#include <charconv>
#include <set>

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

Index build_index(const History& h, CheckResult& out) {
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
        break;
      }
      case OpType::kFinalBounds: ix.bounds[tp] = {op.offset, op.high_watermark}; break;
      case OpType::kSeek: break;
    }
  }
  return ix;
}

void check_lost_and_unreadable(const History& h, const Index& ix, Reporter& r) {
  for (const auto& [value, ack] : ix.acks) {
    TopicPartition tp{std::string(h.name(ack->topic)), ack->partition};
    auto b = ix.bounds.find(tp);
    int64_t log_start = b == ix.bounds.end() ? 0 : b->second.log_start;
    if (ack->offset < log_start) continue;  // removed by retention, not lost
    auto log = ix.log_values.find(tp);
    if (log == ix.log_values.end() || log->second.count(value) == 0) {
      r.add(AnomalyKind::kLostWrite, tp, ack->offset, value,
            "acknowledged at offset " + std::to_string(ack->offset) + " at t=" +
                std::to_string(ack->t_ns / 1000000) + "ms, missing from the final log");
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
    if (op.type != OpType::kSeek && op.type != OpType::kPoll) continue;
    TopicPartition tp{std::string(h.name(op.topic)), op.partition};
    std::string client(h.name(op.client));
    if (op.type == OpType::kSeek) {
      last_poll[client].erase(tp);
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

}  // namespace

CheckResult check_history(const History& history, size_t max_reported) {
  CheckResult out;
  Index ix = build_index(history, out);
  Reporter r(out, max_reported);
  check_lost_and_unreadable(history, ix, r);
  check_duplicates(ix, r);
  check_offsets(history, ix, r);
  check_order(ix, r);
  return out;
}

}  // namespace strata::sim
