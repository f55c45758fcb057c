#include "engine/broker/topic_record.h"

#include "engine/base/limits.h"

namespace strata::broker {

Bytes encode_topic_record_value(const TopicRecord& r) {
  STRATA_ASSERT(r.partitions > 0, "a topic has at least one partition");
  Bytes out;
  ByteWriter w(out);
  w.i16(0);
  w.raw(ByteSpan(r.id.data(), r.id.size()));
  w.i32(r.partitions);
  w.i32(static_cast<int32_t>(r.configs.size()));
  for (const auto& [k, v] : r.configs) {
    STRATA_ASSERT(k.size() < 32768 && v.size() < 32768, "config entry too long to encode");
    w.i16(static_cast<int16_t>(k.size()));
    w.raw(k);
    w.i16(static_cast<int16_t>(v.size()));
    w.raw(v);
  }
  return out;
}

Result<TopicRecord> decode_topic_record_value(std::string name, ByteSpan value) {
  ByteReader r(value);
  TopicRecord out;
  out.name = std::move(name);
  int16_t version = r.i16();
  if (r.ok() && version != 0) {
    return Status::corruption("topic record for '" + out.name + "' has unknown version " +
                              std::to_string(version));
  }
  ByteSpan id = r.take(out.id.size());
  if (r.ok()) std::copy(id.begin(), id.end(), out.id.begin());
  out.partitions = r.i32();
  int32_t n = r.i32();
  if (!r.ok() || out.partitions <= 0 || out.partitions > limits::kPartitionsPerTopicMax ||
      n < 0 || n > 1000) {
    return Status::corruption("topic record for '" + out.name + "' is malformed");
  }
  for (int32_t i = 0; i < n && r.ok(); ++i) {
    int16_t klen = r.i16();
    std::string key(as_chars(r.take(klen < 0 ? SIZE_MAX : size_t(klen))));
    int16_t vlen = r.i16();
    std::string val(as_chars(r.take(vlen < 0 ? SIZE_MAX : size_t(vlen))));
    out.configs.emplace(std::move(key), std::move(val));
  }
  if (!r.ok() || !r.at_end()) {
    return Status::corruption("topic record for '" + out.name + "' is malformed");
  }
  return out;
}

Status validate_topic_name(std::string_view name) {
  if (name.empty()) return Status::invalid_argument("topic name is empty");
  if (name == "." || name == "..") return Status::invalid_argument("topic name cannot be . or ..");
  if (name.size() > size_t(limits::kTopicNameBytesMax)) {
    return Status::invalid_argument("topic name is longer than 249 characters");
  }
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) {
      return Status::invalid_argument("topic name '" + std::string(name) +
                                      "' contains a character other than [a-zA-Z0-9._-]");
    }
  }
  return ok_status();
}

}  // namespace strata::broker
