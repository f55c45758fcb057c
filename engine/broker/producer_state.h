// The idempotent producers of one partition (Kafka's ProducerStateManager, without snapshot
// files): for each producer id, its epoch and the metadata of its last five batches, so that
// a retried batch already in the log is answered with its original offsets instead of being
// written twice, and a gap in the sequence numbers is refused.
//
// Rules (Kafka's, see KIP-98 and KIP-360):
// - an epoch below the producer's current one is fenced: INVALID_PRODUCER_EPOCH;
// - a batch equal (same epoch, first and last sequence) to one of the last five is a
//   duplicate: acknowledged again with the offsets it got the first time, nothing written;
// - with the same epoch, the first sequence must follow the last one (wrapping after
//   INT32_MAX to 0); an older batch is DUPLICATE_SEQUENCE_NUMBER (written, its offsets
//   forgotten), anything else OUT_OF_ORDER_SEQUENCE_NUMBER;
// - a new, higher epoch must start at sequence 0;
// - a producer this partition has no state for (new, or its batches all deleted) may start
//   at any sequence.
//
// The table is rebuilt from the log's batch headers when the partition opens, so it survives
// restarts exactly as far as the log does: a crash that loses batches also loses their
// sequence numbers, and the producer's next batch then shows the gap.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>

#include "engine/protocol/errors.h"

namespace strata::broker {

// One appended batch of an idempotent producer.
struct ProducerBatch {
  int32_t first_seq = 0;
  int32_t last_seq = 0;
  int64_t first_offset = 0;
  int64_t last_offset = 0;
  int64_t timestamp_ms = -1;  // the produce response's log_append_time_ms (-1: CreateTime)
};

struct ProducerEntry {
  int16_t epoch = 0;
  std::deque<ProducerBatch> batches;  // oldest first, at most kBatchesRetained
};

// What to do with an incoming batch.
struct SequenceCheck {
  proto::ErrorCode error = proto::ErrorCode::kNone;
  const ProducerBatch* duplicate = nullptr;  // set: acknowledge it again, write nothing
  std::string why;                           // for the broker's log when refused
  bool append() const { return error == proto::ErrorCode::kNone && duplicate == nullptr; }
};

class ProducerStateTable {
 public:
  static constexpr size_t kBatchesRetained = 5;  // Kafka's, and max.in.flight's upper bound

  // Checks a client batch of producer `pid` (>= 0) covering sequences [first_seq, last_seq].
  // The returned duplicate pointer stays valid until the next record().
  SequenceCheck check(int64_t pid, int16_t epoch, int32_t first_seq, int32_t last_seq) const;
  // Remembers an appended batch (from a produce request or replayed from the log).
  void record(int64_t pid, int16_t epoch, const ProducerBatch& batch);

  const ProducerEntry* find(int64_t pid) const;
  size_t producers() const { return producers_.size(); }

 private:
  std::map<int64_t, ProducerEntry> producers_;
};

// The sequence after `seq`: Kafka's sequences wrap from INT32_MAX to 0.
int32_t next_sequence(int32_t seq);
// The last sequence of a batch of `count` records starting at `first` (wrapping).
int32_t last_sequence(int32_t first, int32_t count);

}  // namespace strata::broker
