// Producer: idempotence — the producer id, per-partition sequence numbers, keeping retried
// batches in sequence order, and starting over with a new producer id when the broker's
// sequence state and ours can no longer meet (see producer.h).
#include <algorithm>

#include "engine/client/producer.h"

namespace strata::client {
namespace {

using proto::ErrorCode;

constexpr int32_t kTransactionTimeoutMs = 60000;  // transaction.timeout.ms (unused without one)

// Whether sequence a comes before b, allowing for the wrap after INT32_MAX.
bool seq_before(int32_t a, int32_t b) {
  int64_t ahead = (int64_t(b) - int64_t(a)) & int64_t(INT32_MAX);
  return ahead != 0 && ahead < (int64_t(1) << 30);
}

}  // namespace

bool Producer::idempotence_ready() {
  if (idem_.producer_id >= 0) return true;
  if (idem_.requesting) return false;
  // A new producer id only once every request numbered under the old one has come back, so
  // nothing from the old numbering can land after the new one starts.
  for (const auto& [node, n] : requests_in_flight_) {
    if (n > 0) return false;
  }
  idem_.requesting = true;
  proto::InitProducerIdRequest req;
  req.transactional_id = std::nullopt;  // the generated default is "", not null
  req.transaction_timeout_ms = kTransactionTimeoutMs;
  net_.send_any(std::move(req), [this](Result<proto::InitProducerIdResponse> r) {
    idem_.requesting = false;
    if (!r || r->error_code != 0) {
      std::string why = !r ? r.status().message()
                           : std::string(proto::error_name(ErrorCode{r->error_code}));
      rt_.warn("producer", "InitProducerId failed (" + why + "); retrying");
      wake(rt_.now() + milliseconds(config_.retry_backoff_ms));
      return;
    }
    idem_.producer_id = r->producer_id;
    idem_.epoch = r->producer_epoch;
    if (++idem_.generation > 1) ++stats_.producer_id_resets;
    rt_.debug("producer", "producer id " + std::to_string(idem_.producer_id) + " epoch " +
                              std::to_string(idem_.epoch));
    wake(rt_.now());
  });
  return false;
}

void Producer::stamp(Batch& b) {
  STRATA_ASSERT(idem_.producer_id >= 0);
  int32_t& next = idem_.next_seq[b.tp];
  b.generation = idem_.generation;
  b.base_seq = next;
  next = next_sequence(last_sequence(next, int32_t(b.records.size())));
  idem_.unacked[b.tp].push_back(b.base_seq);
  if (b.built) {
    set_producer_state(*b.built, idem_.producer_id, idem_.epoch, b.base_seq);
  } else {
    b.builder.set_producer(idem_.producer_id, idem_.epoch, b.base_seq);
  }
}

void Producer::forget_sequence(const Batch& b) {
  if (!config_.enable_idempotence || b.generation != idem_.generation) return;
  auto it = idem_.unacked.find(b.tp);
  if (it == idem_.unacked.end()) return;
  auto& u = it->second;
  auto pos = std::find(u.begin(), u.end(), b.base_seq);
  if (pos != u.end()) u.erase(pos);
}

void Producer::requeue(BatchPtr batch) {
  auto& q = queues_[batch->tp];
  if (!config_.enable_idempotence) {
    q.push_front(std::move(batch));
    return;
  }
  // Behind the stamped batches of its numbering that precede it, before everything else.
  auto at = q.begin();
  while (at != q.end() && (*at)->base_seq >= 0 && (*at)->generation == batch->generation &&
         seq_before((*at)->base_seq, batch->base_seq)) {
    ++at;
  }
  q.insert(at, std::move(batch));
}

bool Producer::on_sequence_error(const BatchPtr& b, ErrorCode error) {
  if (!config_.enable_idempotence) return false;
  if (error != ErrorCode::kOutOfOrderSequenceNumber && error != ErrorCode::kUnknownProducerId &&
      error != ErrorCode::kInvalidProducerEpoch) {
    return false;
  }
  ++b->attempts;
  ++stats_.retries;
  b->retry_at = rt_.now() + milliseconds(config_.retry_backoff_ms);
  if (error == ErrorCode::kOutOfOrderSequenceNumber && b->generation == idem_.generation) {
    auto& u = idem_.unacked[b->tp];
    if (!u.empty() && u.front() != b->base_seq) {
      // An earlier batch of this partition is unacknowledged (it failed and will be resent):
      // this one follows it.
      requeue(b);
      wake(b->retry_at);
      return true;
    }
  }
  if (b->generation == idem_.generation && idem_.producer_id >= 0) {
    reset_producer_id(b->tp.to_string() + ": " + std::string(proto::error_name(error)) +
                      " for sequence " + std::to_string(b->base_seq));
  }
  requeue(b);
  wake(b->retry_at);
  return true;
}

void Producer::reset_producer_id(const std::string& why) {
  rt_.info("producer", "producer id " + std::to_string(idem_.producer_id) +
                           " cannot continue (" + why + "): taking a new one");
  idem_.producer_id = -1;
  idem_.epoch = -1;
  idem_.next_seq.clear();
  idem_.unacked.clear();
}

}  // namespace strata::client
