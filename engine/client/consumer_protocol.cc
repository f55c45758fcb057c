#include "engine/client/consumer_protocol.h"

#include <map>

#include "engine/client/client_limits.h"

namespace strata::client {
namespace {

void put_string(ByteWriter& w, const std::string& s) {
  STRATA_ASSERT(s.size() <= size_t(INT16_MAX), "topic name too long to encode");
  w.i16(int16_t(s.size()));
  w.raw(std::string_view(s));
}

void put_bytes(ByteWriter& w, const std::optional<Bytes>& b) {
  if (!b) return w.i32(-1);
  w.i32(int32_t(b->size()));
  w.raw(ByteSpan(*b));
}

// Topic-partitions grouped by topic, in the order of first appearance of each topic.
void put_partitions(ByteWriter& w, const std::vector<TopicPartition>& tps) {
  std::vector<std::pair<std::string, std::vector<int32_t>>> grouped;
  std::map<std::string, size_t> index;
  for (const auto& tp : tps) {
    auto [it, fresh] = index.emplace(tp.topic, grouped.size());
    if (fresh) grouped.push_back({tp.topic, {}});
    grouped[it->second].second.push_back(tp.partition.value());
  }
  w.i32(int32_t(grouped.size()));
  for (const auto& [topic, parts] : grouped) {
    put_string(w, topic);
    w.i32(int32_t(parts.size()));
    for (int32_t p : parts) w.i32(p);
  }
}

// A reader that turns every shortfall into a Status naming the field.
struct Decoder {
  ByteReader r;
  const char* what;

  Status fail(const std::string& field) const {
    return Status::corruption(std::string(what) + ": malformed " + field);
  }
  Result<int32_t> count(const std::string& field, size_t max) {
    int32_t n = r.i32();
    if (!r.ok() || n < 0 || size_t(n) > max) return fail(field + " count");
    // Each element takes at least 2 bytes: cheaper than allocating first and failing later.
    if (size_t(n) > r.remaining() / 2 + 1) return fail(field + " count");
    return n;
  }
  Result<std::string> string(const std::string& field) {
    int16_t n = r.i16();
    if (!r.ok() || n < 0) return fail(field);
    ByteSpan s = r.take(size_t(n));
    if (!r.ok()) return fail(field);
    return std::string(as_chars(s));
  }
  Result<std::optional<Bytes>> bytes(const std::string& field) {
    int32_t n = r.i32();
    if (!r.ok() || n < -1) return fail(field);
    if (n == -1) return std::optional<Bytes>();
    ByteSpan s = r.take(size_t(n));
    if (!r.ok()) return fail(field);
    return std::optional<Bytes>(Bytes(s.begin(), s.end()));
  }
  Result<std::vector<TopicPartition>> partitions(const std::string& field) {
    std::vector<TopicPartition> out;
    STRATA_ASSIGN_OR_RETURN(int32_t topics,
                            count(field + " topic", limits::kAssignedPartitionsMax));
    for (int32_t t = 0; t < topics; ++t) {
      STRATA_ASSIGN_OR_RETURN(std::string name, string(field + " topic name"));
      STRATA_ASSIGN_OR_RETURN(int32_t n,
                              count(field + " partition", limits::kAssignedPartitionsMax));
      if (out.size() + size_t(n) > limits::kAssignedPartitionsMax) {
        return fail(field + " partition count");
      }
      for (int32_t i = 0; i < n; ++i) {
        int32_t p = r.i32();
        if (!r.ok() || p < 0) return fail(field + " partition");
        out.push_back({name, PartitionId(p)});
      }
    }
    return out;
  }
  Result<int16_t> version() {
    int16_t v = r.i16();
    if (!r.ok() || v < 0) return fail("version");
    return v;
  }
};

}  // namespace

Bytes encode_subscription(const Subscription& s) {
  STRATA_ASSERT(s.version >= 0 && s.version <= kConsumerProtocolVersionMax);
  Bytes out;
  ByteWriter w(out);
  w.i16(s.version);
  w.i32(int32_t(s.topics.size()));
  for (const auto& t : s.topics) put_string(w, t);
  put_bytes(w, s.user_data);
  if (s.version >= 1) put_partitions(w, s.owned_partitions);
  return out;
}

Result<Subscription> decode_subscription(ByteSpan bytes) {
  Decoder d{ByteReader(bytes), "consumer subscription"};
  Subscription s;
  STRATA_ASSIGN_OR_RETURN(s.version, d.version());
  STRATA_ASSIGN_OR_RETURN(int32_t n, d.count("topic", limits::kSubscribedTopicsMax));
  for (int32_t i = 0; i < n; ++i) {
    STRATA_ASSIGN_OR_RETURN(std::string t, d.string("topic name"));
    s.topics.push_back(std::move(t));
  }
  STRATA_ASSIGN_OR_RETURN(s.user_data, d.bytes("user data"));
  if (s.version >= 1) {
    STRATA_ASSIGN_OR_RETURN(s.owned_partitions, d.partitions("owned partitions"));
  }
  if (s.version > kConsumerProtocolVersionMax) s.version = kConsumerProtocolVersionMax;
  return s;
}

Bytes encode_assignment(const MemberAssignment& a) {
  STRATA_ASSERT(a.version >= 0 && a.version <= kConsumerProtocolVersionMax);
  Bytes out;
  ByteWriter w(out);
  w.i16(a.version);
  put_partitions(w, a.partitions);
  put_bytes(w, a.user_data);
  return out;
}

Result<MemberAssignment> decode_assignment(ByteSpan bytes) {
  MemberAssignment a;
  // An empty assignment (a member the leader left out, or a coordinator's error answer) is
  // no partitions, as in Kafka's client.
  if (bytes.empty()) return a;
  Decoder d{ByteReader(bytes), "consumer assignment"};
  STRATA_ASSIGN_OR_RETURN(a.version, d.version());
  STRATA_ASSIGN_OR_RETURN(a.partitions, d.partitions("assigned partitions"));
  STRATA_ASSIGN_OR_RETURN(a.user_data, d.bytes("user data"));
  if (a.version > kConsumerProtocolVersionMax) a.version = kConsumerProtocolVersionMax;
  return a;
}

}  // namespace strata::client
