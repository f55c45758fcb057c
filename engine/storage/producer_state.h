// The idempotent producers of one partition (Kafka's ProducerStateManager): for each
// producer id, its epoch and the metadata of its last five batches, so that
// a retried batch already in the log is answered with its original offsets instead of being
// written twice, and a gap in the sequence numbers is refused.
//
// Rules (Kafka's, see KIP-98 and KIP-360):
// - an epoch below the producer's current one is fenced: INVALID_PRODUCER_EPOCH;
// - a batch equal (same epoch, first and last sequence) to one of the last five is a
//   duplicate: acknowledged again with the offsets it got the first time, nothing written;
// - with the same epoch, the first sequence must follow the last one (wrapping after
//   INT32_MAX to 0); anything else is OUT_OF_ORDER_SEQUENCE_NUMBER. That includes a batch
//   older than the last five: a producer never has more than five batches unacknowledged,
//   so such a batch was not written (its successors were accepted while the partition did
//   not know the producer, see below) and must not be acknowledged as a duplicate —
//   Kafka's DUPLICATE_SEQUENCE_NUMBER would make a client count it as delivered;
// - a new, higher epoch must start at sequence 0;
// - a producer this partition has no state for (new, or its batches all deleted) may start
//   at any sequence.
//
// The table survives restarts exactly as far as the log does. As Kafka does, the broker
// writes it to a snapshot `<offset>.snapshot` in the partition directory whenever the log
// rolls a segment and at a clean shutdown, the offset being the log end offset then. On open
// the newest intact snapshot at or below the recovered log end is loaded and the batch
// headers after it replayed: only the active segment after a crash, nothing after a clean
// shutdown. Snapshots above the recovered log end describe batches the crash took; they are
// removed (durably, so that they cannot come back to describe other batches later). Either
// way, a crash that loses batches also loses their sequence numbers, and the producer's next
// batch shows the gap. Snapshots are not synced: a lost or torn one fails its checks and the
// next older one (or the whole log) is used instead.
//
// Snapshot layout (version 0), big-endian: int16 version, int64 log end offset, int32
// producer count N, then N × { int64 producer id, int16 epoch, int64 last timestamp, int32
// batch count M, then M × { int32 first seq, int32 last seq, int64 first offset, int64 last
// offset, int64 timestamp } }, then uint32 CRC-32C of everything before it.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/base/ids.h"
#include "engine/protocol/errors.h"
#include "engine/protocol/record_batch.h"  // next_sequence, last_sequence
#include "engine/storage/batch_header.h"
#include "engine/runtime/runtime.h"

namespace strata {

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
  int64_t last_timestamp_ms = -1;     // max timestamp of its last batch (Kafka's expiry clock)
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
  // Remembers an appended batch (from a produce request or replayed from the log);
  // `max_timestamp_ms` is the batch's, as its header states it.
  void record(int64_t pid, int16_t epoch, const ProducerBatch& batch, int64_t max_timestamp_ms);
  // record() for a batch read back from the log; batches of no idempotent producer (and
  // control batches) are skipped.
  void replay(const StoredBatchHeader& h);
  // Forgets producers whose last batch is at least `expiration_ms` older than `now_ms`
  // (producer.id.expiration.ms): their next batch is then taken as a new producer's.
  // Returns how many were forgotten.
  size_t expire(int64_t now_ms, int64_t expiration_ms);

  const ProducerEntry* find(int64_t pid) const;
  size_t producers() const { return producers_.size(); }
  const std::map<int64_t, ProducerEntry>& entries() const { return producers_; }

 private:
  std::map<int64_t, ProducerEntry> producers_;
};

// Snapshots kept per partition: the newest and the one before, in case the newest is lost.
inline constexpr size_t kProducerSnapshotsKept = 2;

// Writes `table` as of offset `at` to `dir`/<at>.snapshot (temporary file, rename; no sync)
// and removes all but the newest kProducerSnapshotsKept snapshots.
Status write_producer_snapshot(FileSystem& fs, const std::string& dir, Offset at,
                               const ProducerStateTable& table);

struct LoadedProducerState {
  ProducerStateTable table;
  Offset scan_from{0};             // replay the batch headers from this offset on
  std::vector<std::string> notes;  // snapshots found unusable or removed, for the log
};
// The newest intact snapshot of `dir` at or below `log_end` (empty table and scan_from 0
// without one); removes every snapshot above `log_end` and syncs `dir` if it did.
Result<LoadedProducerState> load_producer_snapshot(FileSystem& fs, const std::string& dir,
                                                   Offset log_end);

}  // namespace strata
