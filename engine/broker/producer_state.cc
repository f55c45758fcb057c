#include "engine/broker/producer_state.h"

#include <climits>

namespace strata::broker {
namespace {

using proto::ErrorCode;

// Sequences live in [0, INT32_MAX] and wrap: `a` comes before `b` when b is less than half
// the sequence space ahead of it.
bool before(int32_t a, int32_t b) {
  int64_t ahead = (int64_t(b) - int64_t(a)) & int64_t(INT32_MAX);
  return ahead != 0 && ahead < (int64_t(1) << 30);
}

}  // namespace

int32_t next_sequence(int32_t seq) { return seq == INT32_MAX ? 0 : seq + 1; }

int32_t last_sequence(int32_t first, int32_t count) {
  int64_t last = int64_t(first) + count - 1;
  return int32_t(last > INT32_MAX ? last - int64_t(INT32_MAX) - 1 : last);
}

SequenceCheck ProducerStateTable::check(int64_t pid, int16_t epoch, int32_t first_seq,
                                        int32_t last_seq) const {
  SequenceCheck c;
  auto it = producers_.find(pid);
  if (it == producers_.end()) return c;  // unknown here: any sequence starts it
  const ProducerEntry& e = it->second;
  auto describe = [&] {
    return "producer " + std::to_string(pid) + " epoch " + std::to_string(epoch) +
           " sequences " + std::to_string(first_seq) + ".." + std::to_string(last_seq);
  };
  if (epoch < e.epoch) {
    c.error = ErrorCode::kInvalidProducerEpoch;
    c.why = describe() + ": the producer's current epoch is " + std::to_string(e.epoch);
    return c;
  }
  if (epoch > e.epoch || e.batches.empty()) {
    if (epoch > e.epoch && first_seq != 0) {
      c.error = ErrorCode::kOutOfOrderSequenceNumber;
      c.why = describe() + ": a new epoch must start at sequence 0";
    }
    return c;
  }
  for (const ProducerBatch& b : e.batches) {
    if (b.first_seq == first_seq && b.last_seq == last_seq) {
      c.duplicate = &b;
      return c;
    }
  }
  int32_t expected = next_sequence(e.batches.back().last_seq);
  if (first_seq == expected) return c;
  if (before(last_seq, e.batches.front().first_seq)) {
    c.error = ErrorCode::kDuplicateSequenceNumber;
    c.why = describe() + ": older than the last " + std::to_string(kBatchesRetained) +
            " batches, already written";
  } else {
    c.error = ErrorCode::kOutOfOrderSequenceNumber;
    c.why = describe() + ": expected sequence " + std::to_string(expected);
  }
  return c;
}

void ProducerStateTable::record(int64_t pid, int16_t epoch, const ProducerBatch& batch) {
  ProducerEntry& e = producers_[pid];
  if (epoch != e.epoch) {
    e.epoch = epoch;
    e.batches.clear();
  }
  e.batches.push_back(batch);
  while (e.batches.size() > kBatchesRetained) e.batches.pop_front();
}

const ProducerEntry* ProducerStateTable::find(int64_t pid) const {
  auto it = producers_.find(pid);
  return it == producers_.end() ? nullptr : &it->second;
}

}  // namespace strata::broker
