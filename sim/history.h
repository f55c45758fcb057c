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
  // Consumer groups. `group` names the group, `generation` the generation the member was in.
  kAssigned,     // a member owns the partition in this generation (sent at every sync, so a
                 // partition kept through a cooperative rebalance appears once per generation)
  kRevoked,      // the member stopped owning it; `error` says how: "revoked" or "lost"
  kCommit,       // the coordinator accepted a commit of `offset` (the next record to read)
  kCommitError,  // a commit of `offset` failed; `error` is Kafka's error name (or the client's)
  kCrash,        // the client's process died: it owns nothing and its positions are gone
  kFinalCommitted,  // after the run: the group's committed `offset` for the partition
};

// The group operations above: their `group` and `generation` share storage with `key` and
// `high_watermark`, which they do not use.
constexpr bool is_group_op(OpType t) {
  return t == OpType::kAssigned || t == OpType::kRevoked || t == OpType::kCommit ||
         t == OpType::kCommitError || t == OpType::kFinalCommitted;
}

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
  std::string group;            // group operations only (is_group_op)
  int64_t invoked_ns = -1;      // kCommit, kCommitError: when the commit was sent
  int32_t generation = -1;      // group operations only; -1 when not in a generation
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

// One operation as stored: fields as in Op, strings interned. A group operation keeps its
// group in `key` and its generation in `high_watermark`, and a commit the time it was sent in
// `value.seq` (use group(), generation(), invoked_ns()).
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

  NameId group() const { return is_group_op(type) ? key : kNoName; }
  int32_t generation() const { return is_group_op(type) ? int32_t(high_watermark) : -1; }
  int64_t invoked_ns() const {
    return type == OpType::kCommit || type == OpType::kCommitError ? value.seq : -1;
  }
  // For a group operation (set `type` first): its group and generation, and for a commit the
  // time it was sent.
  void set_group(NameId group, int32_t generation) {
    key = group;
    high_watermark = generation;
  }
  void set_invoked_ns(int64_t ns) { value = ValueId{kNoName, ns}; }
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
  // The id of a workload value: value_id() of its part before the first '|' ("p1:42|xxxx" →
  // {intern("p1"), 42}). A value of the producer seen last is read without a lookup.
  ValueId value_id_of_value(std::string_view value);
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
  // Consumer groups.
  kDoubleOwner,        // two members of a group own one partition in the same generation
  kCommitBackwards,    // an accepted commit (or the final committed offset) below an earlier
                       // accepted commit of the same group and partition
  kCommitUndelivered,  // below the group's committed offset, yet no member ever polled it
                       // (at-least-once broken)
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
