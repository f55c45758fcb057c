#include "sim/history.h"

#include <charconv>

#include "engine/base/assert.h"

namespace strata::sim {
namespace {

static_assert(sizeof(OpRecord) <= 64, "an operation stays within one cache line");

// "42" → 42; -1 unless `digits` is a canonical non-negative decimal that fits in int64.
// Every record's value id goes through here, so it is a plain digit loop: 19 digits fit in
// uint64, and the int64 range is checked once at the end.
int64_t canonical_decimal(std::string_view digits) {
  if (digits.empty() || digits.size() > 19 || (digits.size() > 1 && digits[0] == '0')) {
    return -1;
  }
  uint64_t n = 0;
  for (char c : digits) {
    if (unsigned(c - '0') > 9) return -1;
    n = n * 10 + uint64_t(c - '0');
  }
  return n > uint64_t(INT64_MAX) ? -1 : int64_t(n);
}

}  // namespace

History::History() {
  names_.emplace_back();
  ids_.emplace(std::string(), kNoName);
}

NameId History::intern(std::string_view name) {
  if (name.empty()) return kNoName;
  uint32_t h = 2166136261u;  // FNV-1a: names are short
  for (char c : name) h = (h ^ uint8_t(c)) * 16777619u;
  NameId& slot = cache_[h % kCacheSlots];
  if (names_[slot] == name) return slot;
  auto it = ids_.find(name);
  if (it != ids_.end()) return slot = it->second;
  STRATA_ASSERT(names_.size() < UINT32_MAX, "name table full");
  auto id = NameId(names_.size());
  names_.emplace_back(name);
  ids_.emplace(std::string(name), id);
  return slot = id;
}

ValueId History::value_id(std::string_view id) {
  size_t colon = id.rfind(':');
  int64_t seq = colon == std::string_view::npos ? -1 : canonical_decimal(id.substr(colon + 1));
  if (seq < 0) return ValueId{intern(id), -1};
  std::string_view producer = id.substr(0, colon);
  if (names_[last_value_name_] != producer) last_value_name_ = intern(producer);
  return ValueId{last_value_name_, seq};
}

ValueId History::value_id_of_value(std::string_view v) {
  std::string_view id = v.substr(0, v.find('|'));
  // "<last producer>:<canonical decimal>": the producer needs no lookup. The digits hold no
  // ':', so the colon after the name is the last one, as value_id() would find.
  const std::string& last = names_[last_value_name_];
  if (!last.empty() && id.size() > last.size() && id[last.size()] == ':' &&
      id.starts_with(last)) {
    int64_t seq = canonical_decimal(id.substr(last.size() + 1));
    if (seq >= 0) return ValueId{last_value_name_, seq};
  }
  return value_id(id);
}

std::string History::value_string(ValueId v) const {
  std::string s(name(v.name));
  if (v.seq < 0) return s;
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, v.seq);
  STRATA_ASSERT(ec == std::errc());
  s += ':';
  s.append(digits, end);
  return s;
}

void History::add(const Op& op) {
  OpRecord r;
  r.t_ns = op.t_ns;
  r.type = op.type;
  r.client = intern(op.client);
  r.topic = intern(op.topic);
  r.partition = op.partition;
  r.offset = op.offset;
  r.value = value_id(op.value_id);
  r.error = intern(op.error);
  if (is_group_op(op.type)) {
    r.set_group(intern(op.group), op.generation);
    if (op.type == OpType::kCommit || op.type == OpType::kCommitError) {
      r.set_invoked_ns(op.invoked_ns);
    }
  } else {
    r.key = intern(op.key);
    r.high_watermark = op.high_watermark;
  }
  add(r);
}

Op History::op(size_t i) const {
  const OpRecord& r = ops_.at(i);
  Op op;
  op.t_ns = r.t_ns;
  op.type = r.type;
  op.client = name(r.client);
  op.topic = name(r.topic);
  op.partition = r.partition;
  op.offset = r.offset;
  op.error = name(r.error);
  if (r.type == OpType::kCommit || r.type == OpType::kCommitError) {
    op.invoked_ns = r.invoked_ns();
  } else {
    op.value_id = value_string(r.value);
  }
  if (is_group_op(r.type)) {
    op.group = name(r.key);
    op.generation = int32_t(r.high_watermark);
  } else {
    op.key = name(r.key);
    op.high_watermark = r.high_watermark;
  }
  return op;
}

}  // namespace strata::sim
