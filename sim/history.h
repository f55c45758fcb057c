// The history of a simulated run: every client operation, in the order it happened, as the
// input of the Jepsen-style checker. Workloads append to it; the checker and the results
// writer read it.
//
// Records are identified by their value: workloads make every value unique
// ("<producer>:<sequence>" followed by padding up to the record size), so the checker can tell
// one record from another whatever offset it ends up at.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace strata::sim {

enum class OpType : uint8_t {
  kSend,       // a producer handed a record to its client (invoke)
  kAck,        // the broker acknowledged it at `offset` (ok)
  kSendError,  // it failed definitively after retries (fail), `error` says why
  kPoll,       // a consumer received the record at `offset`
  kSeek,       // a consumer moved its position to `offset` (reset, seek, out-of-range)
  kFinalRead,  // after the run: the record at `offset` in a full read of the partition
  kFinalBounds,  // after the run: the partition's log start (`offset`) and high watermark
};

std::string_view op_type_name(OpType t);

struct Op {
  int64_t t_ns = 0;
  OpType type = OpType::kSend;
  std::string client;  // producer or consumer id, e.g. "p1"
  std::string topic;
  int32_t partition = -1;
  int64_t offset = -1;  // -1 when not known (a send before its ack)
  std::string key;
  std::string value_id;  // the unique prefix of the value ("p1:42"), not the padding
  std::string error;
  int64_t high_watermark = -1;  // kFinalBounds only
};

class History {
 public:
  void add(Op op) { ops_.push_back(std::move(op)); }
  const std::vector<Op>& ops() const { return ops_; }
  size_t size() const { return ops_.size(); }

 private:
  std::vector<Op> ops_;
};

enum class AnomalyKind : uint8_t {
  kLostWrite,          // acknowledged, but absent from the final read of its partition
  kDuplicate,          // one sent record stored at two or more offsets
  kReorder,            // one producer's records on a partition stored out of send order
  kInconsistentOffset, // one offset seen with two different records (by polls/final read)
  kUnreadable,         // acknowledged at an offset below the final high watermark that no
                       // consumer and no final read ever returned
  kOffsetBackwards,    // a consumer's polls went backwards without a seek
};

std::string_view anomaly_name(AnomalyKind k);

struct Anomaly {
  AnomalyKind kind;
  std::string topic;
  int32_t partition = -1;
  int64_t offset = -1;
  std::string value_id;
  std::string detail;  // human-readable evidence
};

}  // namespace strata::sim
