#include "engine/controller/metadata_records.h"

#include <array>
#include <cstring>

#include "engine/base/limits.h"

namespace strata::controller {
namespace {

// Writes the fields of each record type, in declaration order.
class Encoder {
 public:
  explicit Encoder(Bytes& out) : w_(out) {}

  void str(const std::string& s) {
    STRATA_ASSERT(s.size() <= size_t(limits::kStringBytesMax), "metadata string too long");
    w_.i16(static_cast<int16_t>(s.size()));
    w_.raw(s);
  }
  void id16(const std::array<uint8_t, 16>& id) { w_.raw(ByteSpan(id.data(), id.size())); }
  void nodes(const std::vector<NodeId>& v) {
    w_.i32(static_cast<int32_t>(v.size()));
    for (NodeId n : v) w_.i32(n.value());
  }

  void fields(const RegisterBrokerRecord& r) {
    w_.i32(r.broker_id.value());
    id16(r.incarnation);
    w_.i64(r.broker_epoch);
    w_.i32(static_cast<int32_t>(r.endpoints.size()));
    for (const BrokerEndpoint& e : r.endpoints) {
      str(e.name);
      str(e.host);
      w_.u16(e.port);
    }
    w_.boolean(r.rack.has_value());
    if (r.rack) str(*r.rack);
  }
  void fields(const UnregisterBrokerRecord& r) { broker_and_epoch(r.broker_id, r.broker_epoch); }
  void fields(const FenceBrokerRecord& r) { broker_and_epoch(r.broker_id, r.broker_epoch); }
  void fields(const UnfenceBrokerRecord& r) { broker_and_epoch(r.broker_id, r.broker_epoch); }
  void fields(const TopicRecord& r) {
    str(r.name);
    id16(r.topic_id);
  }
  void fields(const PartitionRecord& r) {
    id16(r.topic_id);
    w_.i32(r.partition);
    nodes(r.replicas);
    nodes(r.isr);
    w_.i32(r.leader.value());
    w_.i32(r.leader_epoch.value());
    w_.i32(r.partition_epoch);
  }
  void fields(const PartitionChangeRecord& r) {
    id16(r.topic_id);
    w_.i32(r.partition);
    w_.boolean(r.leader.has_value());
    if (r.leader) w_.i32(r.leader->value());
    w_.boolean(r.isr.has_value());
    if (r.isr) nodes(*r.isr);
    w_.boolean(r.replicas.has_value());
    if (r.replicas) nodes(*r.replicas);
  }
  void fields(const RemoveTopicRecord& r) { id16(r.topic_id); }
  void fields(const ConfigRecord& r) {
    str(r.topic);
    str(r.key);
    w_.boolean(r.value.has_value());
    if (r.value) str(*r.value);
  }
  void fields(const ProducerIdsRecord& r) {
    broker_and_epoch(r.broker_id, r.broker_epoch);
    w_.i64(r.next_producer_id);
  }

 private:
  void broker_and_epoch(NodeId id, int64_t epoch) {
    w_.i32(id.value());
    w_.i64(epoch);
  }
  ByteWriter w_;
};

// Reads the same fields back; every failure leaves the reader failed.
class Decoder {
 public:
  explicit Decoder(ByteSpan in) : r_(in) {}
  ByteReader& reader() { return r_; }

  std::string str() {
    int16_t n = r_.i16();
    if (n < 0) r_.fail();
    return std::string(as_chars(r_.take(n < 0 ? 0 : size_t(n))));
  }
  std::array<uint8_t, 16> id16() {
    std::array<uint8_t, 16> id{};
    ByteSpan b = r_.take(id.size());
    if (r_.ok()) std::copy(b.begin(), b.end(), id.begin());
    return id;
  }
  std::vector<NodeId> nodes() {
    int32_t n = r_.i32();
    std::vector<NodeId> out;
    if (n < 0 || n > limits::kBrokersMax) {
      r_.fail();
      return out;
    }
    for (int32_t i = 0; i < n && r_.ok(); ++i) out.emplace_back(r_.i32());
    return out;
  }

  void fields(RegisterBrokerRecord& r) {
    r.broker_id = NodeId(r_.i32());
    r.incarnation = id16();
    r.broker_epoch = r_.i64();
    int32_t n = r_.i32();
    if (n < 0 || n > limits::kListenersPerBrokerMax) r_.fail();
    for (int32_t i = 0; i < n && r_.ok(); ++i) {
      BrokerEndpoint e;
      e.name = str();
      e.host = str();
      e.port = r_.u16();
      r.endpoints.push_back(std::move(e));
    }
    if (r_.boolean()) r.rack = str();
  }
  void fields(UnregisterBrokerRecord& r) { broker_and_epoch(r.broker_id, r.broker_epoch); }
  void fields(FenceBrokerRecord& r) { broker_and_epoch(r.broker_id, r.broker_epoch); }
  void fields(UnfenceBrokerRecord& r) { broker_and_epoch(r.broker_id, r.broker_epoch); }
  void fields(TopicRecord& r) {
    r.name = str();
    r.topic_id = id16();
  }
  void fields(PartitionRecord& r) {
    r.topic_id = id16();
    r.partition = r_.i32();
    r.replicas = nodes();
    r.isr = nodes();
    r.leader = NodeId(r_.i32());
    r.leader_epoch = LeaderEpoch(r_.i32());
    r.partition_epoch = r_.i32();
  }
  void fields(PartitionChangeRecord& r) {
    r.topic_id = id16();
    r.partition = r_.i32();
    if (r_.boolean()) r.leader = NodeId(r_.i32());
    if (r_.boolean()) r.isr = nodes();
    if (r_.boolean()) r.replicas = nodes();
  }
  void fields(RemoveTopicRecord& r) { r.topic_id = id16(); }
  void fields(ConfigRecord& r) {
    r.topic = str();
    r.key = str();
    if (r_.boolean()) r.value = str();
  }
  void fields(ProducerIdsRecord& r) {
    broker_and_epoch(r.broker_id, r.broker_epoch);
    r.next_producer_id = r_.i64();
  }

 private:
  void broker_and_epoch(NodeId& id, int64_t& epoch) {
    id = NodeId(r_.i32());
    epoch = r_.i64();
  }
  ByteReader r_;
};

template <class T>
Result<MetadataRecord> decode_as(Decoder& d) {
  T record;
  d.fields(record);
  if (!d.reader().ok() || !d.reader().at_end()) {
    return Status::corruption("metadata record of type " +
                              std::to_string(int(record_type(MetadataRecord(T{})))) +
                              " is truncated or has trailing bytes");
  }
  return MetadataRecord(std::move(record));
}

std::string node_list(const std::vector<NodeId>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i > 0) s += ",";
    s += std::to_string(v[i].value());
  }
  return s + "]";
}

}  // namespace

RecordType record_type(const MetadataRecord& record) {
  // In the order of MetadataRecord's alternatives.
  static constexpr std::array<RecordType, 10> kTypes = {
      RecordType::kRegisterBroker,  RecordType::kUnregisterBroker,
      RecordType::kFenceBroker,     RecordType::kUnfenceBroker,
      RecordType::kTopic,           RecordType::kPartition,
      RecordType::kPartitionChange, RecordType::kRemoveTopic,
      RecordType::kConfig,          RecordType::kProducerIds};
  static_assert(kTypes.size() == std::variant_size_v<MetadataRecord>);
  return kTypes[record.index()];
}

Bytes encode_metadata_record(const MetadataRecord& record) {
  Bytes out;
  ByteWriter head(out);
  head.i16(static_cast<int16_t>(record_type(record)));
  head.i16(0);
  Encoder e(out);
  std::visit([&](const auto& r) { e.fields(r); }, record);
  return out;
}

Result<MetadataRecord> decode_metadata_record(ByteSpan value) {
  Decoder d(value);
  auto type = static_cast<RecordType>(d.reader().i16());
  int16_t version = d.reader().i16();
  if (!d.reader().ok()) return Status::corruption("metadata record shorter than its header");
  if (version != 0) {
    return Status::corruption("metadata record of type " + std::to_string(int(type)) +
                              " has unknown version " + std::to_string(version));
  }
  switch (type) {
    case RecordType::kRegisterBroker:
      return decode_as<RegisterBrokerRecord>(d);
    case RecordType::kUnregisterBroker:
      return decode_as<UnregisterBrokerRecord>(d);
    case RecordType::kFenceBroker:
      return decode_as<FenceBrokerRecord>(d);
    case RecordType::kUnfenceBroker:
      return decode_as<UnfenceBrokerRecord>(d);
    case RecordType::kTopic:
      return decode_as<TopicRecord>(d);
    case RecordType::kPartition:
      return decode_as<PartitionRecord>(d);
    case RecordType::kPartitionChange:
      return decode_as<PartitionChangeRecord>(d);
    case RecordType::kRemoveTopic:
      return decode_as<RemoveTopicRecord>(d);
    case RecordType::kConfig:
      return decode_as<ConfigRecord>(d);
    case RecordType::kProducerIds:
      return decode_as<ProducerIdsRecord>(d);
  }
  return Status::corruption("metadata record has unknown type " + std::to_string(int(type)));
}

std::string to_hex(const TopicId& id) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  for (uint8_t b : id) {
    s += kDigits[b >> 4];
    s += kDigits[b & 15];
  }
  return s;
}

namespace {
constexpr char kBase64Url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
}  // namespace

// 128 bits are 21 groups of six bits and two left over: the last character holds those two,
// shifted up, and its low four bits are zero.
std::string to_base64url(const TopicId& id) {
  std::string s;
  s.reserve(22);
  uint32_t bits = 0;
  int pending = 0;
  for (uint8_t b : id) {
    bits = (bits << 8) | b;
    pending += 8;
    while (pending >= 6) {
      pending -= 6;
      s += kBase64Url[(bits >> pending) & 63];
    }
  }
  s += kBase64Url[(bits << (6 - pending)) & 63];
  return s;
}

std::optional<TopicId> topic_id_from_base64url(std::string_view text) {
  if (text.size() != 22) return std::nullopt;
  TopicId id{};
  uint32_t bits = 0;
  int pending = 0;
  size_t out = 0;
  for (char c : text) {
    const char* at = std::strchr(kBase64Url, c);
    if (c == '\0' || at == nullptr) return std::nullopt;
    bits = (bits << 6) | uint32_t(at - kBase64Url);
    pending += 6;
    if (pending >= 8) {
      pending -= 8;
      if (out == id.size()) return std::nullopt;
      id[out++] = uint8_t(bits >> pending);
    }
  }
  // Canonical only: the last character's unused low bits are zero.
  if (out != id.size() || (bits & ((1u << pending) - 1)) != 0) return std::nullopt;
  return id;
}

std::string describe(const MetadataRecord& record) {
  struct Describer {
    std::string operator()(const RegisterBrokerRecord& r) const {
      return "register broker " + std::to_string(r.broker_id.value()) + " epoch " +
             std::to_string(r.broker_epoch);
    }
    std::string operator()(const UnregisterBrokerRecord& r) const {
      return "unregister broker " + std::to_string(r.broker_id.value());
    }
    std::string operator()(const FenceBrokerRecord& r) const {
      return "fence broker " + std::to_string(r.broker_id.value());
    }
    std::string operator()(const UnfenceBrokerRecord& r) const {
      return "unfence broker " + std::to_string(r.broker_id.value());
    }
    std::string operator()(const TopicRecord& r) const {
      return "topic " + r.name + " id " + to_hex(r.topic_id);
    }
    std::string operator()(const PartitionRecord& r) const {
      return "partition " + to_hex(r.topic_id) + "-" + std::to_string(r.partition) + " replicas " +
             node_list(r.replicas) + " isr " + node_list(r.isr) + " leader " +
             std::to_string(r.leader.value());
    }
    std::string operator()(const PartitionChangeRecord& r) const {
      std::string s = "partition change " + to_hex(r.topic_id) + "-" + std::to_string(r.partition);
      if (r.leader) s += " leader " + std::to_string(r.leader->value());
      if (r.isr) s += " isr " + node_list(*r.isr);
      if (r.replicas) s += " replicas " + node_list(*r.replicas);
      return s;
    }
    std::string operator()(const RemoveTopicRecord& r) const {
      return "remove topic " + to_hex(r.topic_id);
    }
    std::string operator()(const ConfigRecord& r) const {
      return "config " + r.topic + " " + r.key + (r.value ? "=" + *r.value : " removed");
    }
    std::string operator()(const ProducerIdsRecord& r) const {
      return "producer ids below " + std::to_string(r.next_producer_id) + " to broker " +
             std::to_string(r.broker_id.value());
    }
  };
  return std::visit(Describer{}, record);
}

}  // namespace strata::controller
