// The history of a simulated run: every client operation, in the order it happened, as the
// input of the Jepsen-style checker. Workloads append to it; the checker and the results
// writer read it.
//
// Records are identified by their value: workloads make every value unique
// ("<producer>:<sequence>" followed by padding up to the record size), so the checker can tell
// one record from another whatever offset it ends up at.
//
// Representation: a 10-minute run at 10,000 records/s records ≈ 18 M operations, so an
// operation is stored compactly (`OpRecord`, 64 bytes, no heap memory): client, topic, key
// and error strings are interned once in the history's name table, and a value id
// "p1:42" is stored as (interned "p1", 42). `Op` is the same operation spelled out in
// strings, for writing histories by hand (tests) and for reading them back (`op(i)`).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
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

// One operation, spelled out.
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

// Index into a History's name table; 0 is the empty string.
using NameId = uint32_t;
inline constexpr NameId kNoName = 0;

// A value id: "p1:42" is {name "p1", seq 42}. An id not of the form "<name>:<decimal>"
// (canonical decimal: digits only, no leading zero) is {name = the whole id, seq -1}, so
// every id reads back exactly as it was written; "" is {kNoName, -1}.
struct ValueId {
  NameId name = kNoName;
  int64_t seq = -1;
  bool empty() const { return name == kNoName && seq < 0; }
  friend bool operator==(const ValueId&, const ValueId&) = default;
  friend auto operator<=>(const ValueId&, const ValueId&) = default;  // not the string order
};

// One operation as stored: fields as in Op, strings interned.
struct OpRecord {
  int64_t t_ns = 0;
  int64_t offset = -1;
  int64_t high_watermark = -1;
  ValueId value;
  int32_t partition = -1;
  NameId client = kNoName;
  NameId topic = kNoName;
  NameId key = kNoName;
  NameId error = kNoName;
  OpType type = OpType::kSend;
};

class History {
 public:
  History();

  // Appends an operation whose names come from intern()/value_id() of this history.
  void add(const OpRecord& op) { ops_.push_back(op); }
  // Appends an operation given in strings (interning them).
  void add(const Op& op);

  // Forgets the operations, keeping the names and the memory (a benchmark drains a long run).
  void clear_records() { ops_.clear(); }
  const std::vector<OpRecord>& records() const { return ops_; }
  size_t size() const { return ops_.size(); }
  // Operation `i` spelled out, exactly as it was added.
  Op op(size_t i) const;

  // The id of `name`, added to the table if new. Names are never removed.
  NameId intern(std::string_view name);
  std::string_view name(NameId id) const { return names_.at(id); }
  // "p1:42" → {intern("p1"), 42}; see ValueId.
  ValueId value_id(std::string_view id);
  std::string value_string(ValueId v) const;

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::vector<OpRecord> ops_;
  std::vector<std::string> names_;
  std::unordered_map<std::string, NameId, Hash, std::equal_to<>> ids_;  // lookup only
  // Direct-mapped cache in front of ids_: a consumer interns every record's key, and a
  // run has few distinct keys.
  static constexpr size_t kCacheSlots = 1024;
  std::array<NameId, kCacheSlots> cache_{};
  NameId last_value_name_ = kNoName;  // value ids come in long runs of one producer
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
