// Consumer: assignment, positions, offset lookups and delivery. Fetching is in
// consumer_fetch.cc.
#include "engine/client/consumer.h"

#include <algorithm>

#include "engine/client/client_errors.h"

namespace strata::client {
namespace {

// ListOffsets timestamps with special meaning.
constexpr int64_t kLatestTimestamp = -1;
constexpr int64_t kEarliestTimestamp = -2;

ClientOptions with_timeouts(ClientOptions o, const ConsumerConfig& c) {
  o.request_timeout_ms = c.request_timeout_ms;
  o.retry_backoff_ms = c.retry_backoff_ms;
  return o;
}

}  // namespace

Result<OffsetReset> parse_offset_reset(std::string_view name) {
  if (name == "earliest") return OffsetReset::kEarliest;
  if (name == "latest") return OffsetReset::kLatest;
  if (name == "none") return OffsetReset::kNone;
  return Status::invalid_argument("auto.offset.reset must be earliest, latest or none");
}

Status validate(const ConsumerConfig& c) {
  if (c.fetch_min_bytes < 0 || c.fetch_max_wait_ms < 0 || c.max_partition_fetch_bytes <= 0 ||
      c.fetch_max_bytes <= 0) {
    return Status::invalid_argument("fetch sizes and waits must not be negative");
  }
  if (c.fetch_max_wait_ms > ::strata::limits::kFetchMaxWaitMsMax) {
    return Status::invalid_argument("fetch.max.wait.ms is at most " +
                                    std::to_string(::strata::limits::kFetchMaxWaitMsMax));
  }
  if (c.isolation_level != 0 && c.isolation_level != 1) {
    return Status::invalid_argument("isolation.level must be read_uncommitted or read_committed");
  }
  if (c.queue_records_max == 0 || c.queue_records_max > limits::kConsumerQueueRecordsMax) {
    return Status::invalid_argument("queue size must be 1.." +
                                    std::to_string(limits::kConsumerQueueRecordsMax));
  }
  if (c.request_timeout_ms <= 0) return Status::invalid_argument("request.timeout.ms > 0");
  return ok_status();
}

Consumer::Consumer(Runtime& rt, ClientOptions client, ConsumerConfig config)
    : rt_(rt), config_(config), net_(rt, with_timeouts(std::move(client), config)) {
  STRATA_ASSERT(validate(config_).is_ok(), "validate() the consumer config first");
  net_.add_ready_listener([this](NodeId) { wake(rt_.now()); });
  net_.add_metadata_listener([this] { wake(rt_.now()); });
}

Consumer::~Consumer() { rt_.cancel(timer_); }

Consumer::PartitionState& Consumer::state(const TopicPartition& tp) {
  auto it = parts_.find(tp);
  STRATA_ASSERT(it != parts_.end(), "partition is not assigned");
  return it->second;
}

void Consumer::assign(const std::vector<TopicPartition>& partitions) {
  STRATA_ASSERT(partitions.size() <= limits::kAssignedPartitionsMax, "assignment too large");
  std::map<TopicPartition, PartitionState> next;
  for (const auto& tp : partitions) {
    auto it = parts_.find(tp);
    next[tp] = it != parts_.end() ? std::move(it->second) : PartitionState{};
    net_.add_topic(tp.topic);
  }
  parts_ = std::move(next);
  assignment_ = partitions;
  queue_.erase_if([&](const ConsumerRecord& r) {
    return parts_.count(TopicPartition{r.topic, r.partition}) == 0;
  });
  wake(rt_.now());
}

void Consumer::seek(const TopicPartition& tp, Offset offset) {
  STRATA_ASSERT(offset.value() >= 0, "seek to a negative offset");
  PartitionState& s = state(tp);
  s.position = offset;
  s.reset.reset();
  s.error.reset();
  ++s.epoch;
  drop_queued(tp);
  wake(rt_.now());
}

void Consumer::seek_to_beginning(const std::vector<TopicPartition>& partitions) {
  for (const auto& tp : partitions) {
    PartitionState& s = state(tp);
    s.position.reset();
    s.reset = OffsetReset::kEarliest;
    s.error.reset();
    ++s.epoch;
    drop_queued(tp);
  }
  wake(rt_.now());
}

void Consumer::seek_to_end(const std::vector<TopicPartition>& partitions) {
  for (const auto& tp : partitions) {
    PartitionState& s = state(tp);
    s.position.reset();
    s.reset = OffsetReset::kLatest;
    s.error.reset();
    ++s.epoch;
    drop_queued(tp);
  }
  wake(rt_.now());
}

std::optional<Offset> Consumer::position(const TopicPartition& tp) const {
  auto it = parts_.find(tp);
  return it == parts_.end() ? std::nullopt : it->second.position;
}

std::optional<PartitionProgress> Consumer::progress(const TopicPartition& tp) const {
  auto it = parts_.find(tp);
  if (it == parts_.end()) return std::nullopt;
  PartitionProgress p = it->second.progress;
  p.position = it->second.position;
  return p;
}

std::map<TopicPartition, Offset> Consumer::delivered_positions() const {
  std::map<TopicPartition, Offset> out;
  for (const auto& r : queue_) out.emplace(TopicPartition{r.topic, r.partition}, r.offset);
  for (const auto& [tp, s] : parts_) {
    if (s.position) out.emplace(tp, *s.position);  // no queued record: the fetch position
  }
  std::erase_if(out, [&](const auto& kv) { return parts_.count(kv.first) == 0; });
  return out;
}

std::optional<Status> Consumer::partition_error(const TopicPartition& tp) const {
  auto it = parts_.find(tp);
  return it == parts_.end() ? std::nullopt : it->second.error;
}

std::vector<ConsumerRecord> Consumer::poll(size_t max_records) {
  std::vector<ConsumerRecord> out;
  size_t n = std::min(max_records, queue_.size());
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    out.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  if (n > 0) wake(rt_.now());  // room again: fetch more
  return out;
}

void Consumer::drop_queued(const TopicPartition& tp) {
  queue_.erase_if([&](const ConsumerRecord& r) {
    return r.topic == tp.topic && r.partition == tp.partition;
  });
}

void Consumer::deliver_to_callback() {
  // A callback may seek or reassign, which edits the queue; take one record at a time.
  if (!record_cb_ || delivering_) return;
  delivering_ = true;
  while (!queue_.empty() && record_cb_) {
    ConsumerRecord r = std::move(queue_.front());
    queue_.pop_front();
    record_cb_(r);
  }
  delivering_ = false;
}

void Consumer::wake(MonoTime at) {
  MonoTime now = rt_.now();
  if (at < now) at = now;
  if (timer_set_ && timer_at_ <= at) return;
  rt_.cancel(timer_);
  timer_set_ = true;
  timer_at_ = at;
  timer_ = rt_.schedule(at - now, [this] {
    timer_set_ = false;
    run();
  });
}

void Consumer::retry_later(PartitionState& s) {
  s.backoff_until = rt_.now() + milliseconds(config_.retry_backoff_ms);
  wake(s.backoff_until);
}

void Consumer::fail_partition(const TopicPartition& tp, PartitionState& s, Status error) {
  s.error = error;
  // Reported by report(), once no iteration over parts_ is under way: the callback may
  // reassign.
  errors_.emplace_back(tp, std::move(error));
}

void Consumer::report() {
  auto errors = std::move(errors_);
  errors_.clear();
  for (auto& [tp, st] : errors) {
    if (error_cb_) error_cb_(tp, st);
  }
  deliver_to_callback();
}

// One pass: start offset lookups and fetches for every partition that can use one.
void Consumer::run() {
  MonoTime now = rt_.now();
  std::map<NodeId, std::vector<TopicPartition>> to_list, to_fetch;
  bool room = queue_.size() < config_.queue_records_max;
  for (auto& [tp, s] : parts_) {
    if (s.error || s.listing || s.fetching) continue;
    if (s.backoff_until > now) {
      wake(s.backoff_until);
      continue;
    }
    if (!s.position && !s.reset) s.reset = config_.auto_offset_reset;
    if (s.reset == OffsetReset::kNone) {
      s.reset.reset();
      fail_partition(tp, s, Status::out_of_range("Undefined offset with no reset policy for "
                                                 "partition: " + tp.to_string()));
      continue;
    }
    if (!s.reset && !room) continue;
    NodeId leader = net_.metadata().leader_for(tp);
    if (leader == kNoNode) {
      net_.request_metadata_update();  // the metadata listener wakes us
      continue;
    }
    if (!net_.is_ready(leader)) {
      net_.ensure_connecting(leader);  // the ready listener wakes us
      continue;
    }
    if (s.reset) {
      to_list[leader].push_back(tp);
    } else if (!fetching_from_[leader]) {
      to_fetch[leader].push_back(tp);
    }
  }
  for (auto& [leader, tps] : to_list) list_offsets(leader, std::move(tps));
  for (auto& [leader, tps] : to_fetch) fetch(leader, std::move(tps));
  report();
}

void Consumer::list_offsets(NodeId leader, std::vector<TopicPartition> tps) {
  proto::ListOffsetsRequest req;
  req.replica_id = -1;
  req.isolation_level = config_.isolation_level;
  std::vector<std::pair<TopicPartition, uint64_t>> asked;
  for (const auto& tp : tps) {
    PartitionState& s = state(tp);
    s.listing = true;
    asked.emplace_back(tp, s.epoch);
    auto t = std::find_if(req.topics.begin(), req.topics.end(),
                          [&](const auto& x) { return x.name == tp.topic; });
    if (t == req.topics.end()) {
      t = req.topics.insert(req.topics.end(), proto::ListOffsetsRequest::Topic{});
      t->name = tp.topic;
    }
    auto& p = t->partitions.emplace_back();
    p.partition_index = tp.partition.value();
    p.timestamp = s.reset == OffsetReset::kEarliest ? kEarliestTimestamp : kLatestTimestamp;
  }
  net_.send(leader, std::move(req),
            [this, asked = std::move(asked)](Result<proto::ListOffsetsResponse> r) mutable {
              on_list_offsets(std::move(asked), std::move(r));
            });
}

void Consumer::on_list_offsets(std::vector<std::pair<TopicPartition, uint64_t>> asked,
                               Result<proto::ListOffsetsResponse> resp) {
  for (const auto& [tp, epoch] : asked) {
    auto it = parts_.find(tp);
    if (it == parts_.end()) continue;  // unassigned meanwhile
    PartitionState& s = it->second;
    s.listing = false;
    if (s.epoch != epoch) continue;  // a seek overrode this lookup
    if (!resp) {
      retry_later(s);
      continue;
    }
    const proto::ListOffsetsResponse::PartitionResponse* pr = nullptr;
    for (const auto& t : resp->topics) {
      if (t.name != tp.topic) continue;
      for (const auto& p : t.partitions) {
        if (p.partition_index == tp.partition.value()) pr = &p;
      }
    }
    if (pr == nullptr || NetworkClient::is_metadata_error(pr->error_code) ||
        (pr->error_code != 0 && proto::is_retriable(proto::ErrorCode{pr->error_code}))) {
      net_.request_metadata_update();
      retry_later(s);
    } else if (pr->error_code != 0) {
      fail_partition(tp, s, kafka_error(pr->error_code, "listing offsets of " + tp.to_string()));
    } else if (pr->offset < 0) {
      fail_partition(tp, s, Status::corruption("ListOffsets returned a negative offset"));
    } else {
      s.position = Offset(pr->offset);
      s.reset.reset();
      ++stats_.offset_resets;
      ++s.progress.offset_resets;
    }
  }
  wake(rt_.now());
  report();
}

}  // namespace strata::client
