// Producer: the sender. A ready batch (full, lingered long enough, retried after its backoff,
// or wanted by flush()) makes its leader send one Produce request, which carries the first
// batch of each of that leader's partitions; and it handles the answers: completion, retry,
// or failure.
#include <algorithm>
#include <set>

#include "engine/client/client_errors.h"
#include "engine/client/producer.h"

namespace strata::client {

void Producer::wake(MonoTime at) {
  MonoTime now = rt_.now();
  if (at < now) at = now;
  if (sender_scheduled_ && sender_at_ <= at) return;
  rt_.cancel(sender_timer_);
  sender_scheduled_ = true;
  sender_at_ = at;
  sender_timer_ = rt_.schedule(at - now, [this] {
    sender_scheduled_ = false;
    run_sender();
  });
}

bool Producer::batch_ready(const std::deque<BatchPtr>& q, MonoTime now, MonoTime& next) const {
  const Batch& b = *q.front();
  if (b.retry_at > now) {
    next = std::min(next, b.retry_at);
    return false;
  }
  if (!flush_waiters_.empty() || q.size() > 1 || b.built ||
      int64_t(b.builder.estimated_size()) >= config_.batch_size) {
    return true;
  }
  MonoTime linger_end = b.created + milliseconds(config_.linger_ms);
  if (linger_end <= now) return true;
  next = std::min(next, linger_end);
  return false;
}

void Producer::run_sender() {
  MonoTime now = rt_.now();
  expire(now);
  Duration delivery = milliseconds(config_.delivery_timeout_ms);
  MonoTime next = now + delivery;
  // First the leaders that a ready batch (full, lingered, retried, flushed) makes worth a
  // request; then, as Kafka's RecordAccumulator drains, each such leader's request takes the
  // first batch of every partition it leads, lingered or not, unless that batch is backing
  // off a retry. Batches of one leader thus travel together instead of in one request each.
  std::set<NodeId> ready_leaders;
  bool any = false;  // anything left to wait for at all
  for (auto& [tp, q] : queues_) {
    if (q.empty()) continue;
    any = true;
    next = std::min(next, q.front()->created + delivery);
    if (!batch_ready(q, now, next)) continue;
    NodeId leader = net_.metadata().leader_for(tp);
    if (leader == kNoNode) {
      net_.request_metadata_update();  // the metadata listener wakes the sender
      continue;
    }
    if (!net_.is_ready(leader)) {
      net_.ensure_connecting(leader);  // the ready listener wakes the sender
      continue;
    }
    if (requests_in_flight_[leader] >= config_.max_in_flight) continue;  // answers wake it
    ready_leaders.insert(leader);
  }
  // An idempotent producer sends nothing before it has a producer id (its answer wakes us).
  if (!ready_leaders.empty() && config_.enable_idempotence && !idempotence_ready()) {
    ready_leaders.clear();
  }
  std::map<NodeId, std::vector<BatchPtr>> per_node;
  std::map<NodeId, size_t> bytes;
  std::vector<BatchPtr> unbuildable;
  bool more = false;  // something ready was left for a following request
  for (auto& [tp, q] : queues_) {
    if (ready_leaders.empty()) break;
    if (q.empty() || q.front()->retry_at > now) continue;
    NodeId leader = net_.metadata().leader_for(tp);
    if (!ready_leaders.contains(leader)) continue;
    auto& list = per_node[leader];
    BatchPtr b = q.front();
    bool stamped = false;
    if (config_.enable_idempotence && b->generation != idem_.generation) {
      stamp(*b);
      stamped = true;
    }
    if (!b->built) {
      last_batch_records_ = b->records.size();
      last_batch_bytes_ = b->builder.records_bytes();
      auto built = b->builder.build();
      if (!built) {
        q.pop_front();
        if (stamped) {  // never sent: its sequences go to the next batch
          forget_sequence(*b);
          idem_.next_seq[b->tp] = b->base_seq;
        }
        unbuildable.push_back(b);
        continue;
      }
      b->built = std::make_shared<Bytes>(std::move(*built));
    }
    if (!list.empty() && (bytes[leader] + b->built->size() > size_t(config_.max_request_size) ||
                          list.size() >= limits::kBatchesPerRequestMax)) {
      more = true;
      continue;
    }
    bytes[leader] += b->built->size();
    q.pop_front();
    list.push_back(std::move(b));
    if (!q.empty()) more = true;
  }
  for (auto& b : unbuildable) fail_batch(*b, Status::invalid_argument("cannot encode the batch"));
  for (auto& [node, list] : per_node) {
    if (!list.empty()) send_to(node, std::move(list));
  }
  for (const auto& [topic, w] : waiting_) {
    if (!w.empty()) next = std::min(next, w.front().created + delivery);
    any = any || !w.empty();
  }
  if (!unbuildable.empty()) check_flush_waiters();
  if (more) {
    wake(rt_.now());
  } else if (any) {
    wake(next);
  }
}

void Producer::expire(MonoTime now) {
  Duration delivery = milliseconds(config_.delivery_timeout_ms);
  std::vector<BatchPtr> expired;
  for (auto& [tp, q] : queues_) {
    auto dead = [&](const BatchPtr& b) { return b->created + delivery <= now; };
    for (const auto& b : q) {
      if (dead(b)) expired.push_back(b);
    }
    q.erase(std::remove_if(q.begin(), q.end(), dead), q.end());
  }
  std::vector<std::pair<Completion, std::string>> lost;
  for (auto& [topic, w] : waiting_) {
    while (!w.empty() && w.front().created + delivery <= now) {
      lost.emplace_back(std::move(w.front().completion), topic);
      w.pop_front();
    }
  }
  if (expired.empty() && lost.empty()) return;
  for (auto& b : expired) {
    fail_batch(*b, Status::timed_out("Expiring " + std::to_string(b->records.size()) +
                                     " record(s) for " + b->tp.to_string() + ":" +
                                     std::to_string(config_.delivery_timeout_ms) +
                                     " ms has passed since batch creation"));
  }
  for (auto& [c, topic] : lost) {
    complete(c, Status::timed_out("Topic " + topic + " not present in metadata after " +
                                  std::to_string(config_.delivery_timeout_ms) + " ms."));
  }
  check_flush_waiters();
}

void Producer::send_to(NodeId leader, std::vector<BatchPtr> batches) {
  STRATA_ASSERT(!batches.empty());
  proto::ProduceRequest req;
  req.acks = config_.acks;
  req.timeout_ms = int32_t(std::min<int64_t>(config_.request_timeout_ms, INT32_MAX));
  for (const auto& b : batches) {
    auto t = std::find_if(req.topic_data.begin(), req.topic_data.end(),
                          [&](const auto& td) { return td.name == b->tp.topic; });
    if (t == req.topic_data.end()) {
      t = req.topic_data.insert(req.topic_data.end(), proto::ProduceRequest::TopicData{});
      t->name = b->tp.topic;
    }
    auto& p = t->partition_data.emplace_back();
    p.index = b->tp.partition.value();
    p.records = ByteSpan(*b->built);  // kept alive by `batches`, captured below
  }
  ++requests_in_flight_[leader];
  ++stats_.requests;
  stats_.batches_sent += batches.size();
  SendOptions o;
  o.expect_response = config_.acks != 0;
  net_.send(
      leader, std::move(req),
      [this, leader, batches = std::move(batches)](Result<proto::ProduceResponse> r) mutable {
        on_response(leader, std::move(batches), std::move(r));
      },
      o);
}

void Producer::on_response(NodeId leader, std::vector<BatchPtr> batches,
                           Result<proto::ProduceResponse> resp) {
  STRATA_ASSERT(requests_in_flight_[leader] > 0);
  --requests_in_flight_[leader];
  for (auto& b : batches) {
    if (!resp) {
      on_batch_error(b, resp.status(), is_retriable(resp.status()));
      continue;
    }
    if (config_.acks == 0) {
      complete_batch(*b, nullptr);
      continue;
    }
    const proto::ProduceResponse::PartitionResponse* pr = nullptr;
    for (const auto& t : resp->responses) {
      if (t.name != b->tp.topic) continue;
      for (const auto& p : t.partition_responses) {
        if (p.index == b->tp.partition.value()) pr = &p;
      }
    }
    if (pr == nullptr) {
      on_batch_error(b, Status::corruption("no answer for " + b->tp.to_string()), false);
    } else if (pr->error_code == 0) {
      complete_batch(*b, pr);
    } else if (config_.enable_idempotence &&
               pr->error_code == int16_t(proto::ErrorCode::kDuplicateSequenceNumber)) {
      complete_batch(*b, nullptr);  // written before; the broker no longer knows the offsets
    } else if (on_sequence_error(b, proto::ErrorCode{pr->error_code})) {
      continue;
    } else {
      if (NetworkClient::is_metadata_error(pr->error_code)) net_.request_metadata_update();
      on_batch_error(b, kafka_error(pr->error_code, "producing to " + b->tp.to_string()),
                     proto::is_retriable(proto::ErrorCode{pr->error_code}));
    }
  }
  check_flush_waiters();
  wake(rt_.now());
}

void Producer::on_batch_error(BatchPtr batch, const Status& error, bool retriable) {
  MonoTime now = rt_.now();
  ++batch->attempts;
  MonoTime retry_at = now + milliseconds(config_.retry_backoff_ms);
  if (retriable && batch->attempts <= config_.retries &&
      retry_at < batch->created + milliseconds(config_.delivery_timeout_ms)) {
    rt_.debug("producer", "retrying " + batch->tp.to_string() + ": " + error.message());
    batch->retry_at = retry_at;
    ++stats_.retries;
    requeue(std::move(batch));
    wake(retry_at);
    return;
  }
  fail_batch(*batch, error);
}

void Producer::complete_batch(Batch& b, const proto::ProduceResponse::PartitionResponse* pr) {
  forget_sequence(b);
  // One metadata, its offset and timestamp updated per record: the topic is not copied each
  // time.
  Result<RecordMetadata> md = RecordMetadata{b.tp.topic, b.tp.partition, Offset(-1), -1};
  for (size_t i = 0; i < b.records.size(); ++i) {
    Completion& c = b.records[i];
    md->offset = pr != nullptr ? Offset(pr->base_offset + int64_t(i)) : Offset(-1);
    md->timestamp_ms =
        pr != nullptr && pr->log_append_time_ms != -1 ? pr->log_append_time_ms : c.timestamp_ms;
    complete(c, md);
  }
  b.records.clear();
}

void Producer::fail_batch(Batch& b, const Status& error) {
  forget_sequence(b);
  for (auto& c : b.records) complete(c, error);
  b.records.clear();
}

}  // namespace strata::client
