// The records of the cluster metadata log: everything the controller decides is one of these,
// and replaying them in order rebuilds the cluster's metadata image (metadata_image.h).
//
// They follow KRaft's records (KIP-631) in meaning and in type numbers; the bytes are our own.
// Value layout, big-endian: int16 type, int16 version (= 0), then the fields in the order the
// struct declares them. Strings are int16 length + bytes; node lists are int32 count + int32
// ids; an optional is a bool then the value. A topic id is 16 raw bytes.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "engine/base/bytes.h"
#include "engine/base/ids.h"
#include "engine/base/status.h"

namespace strata::controller {

using TopicId = std::array<uint8_t, 16>;
using IncarnationId = std::array<uint8_t, 16>;

// A listener a broker serves clients on.
struct BrokerEndpoint {
  std::string name;  // listener name, e.g. PLAINTEXT
  std::string host;
  uint16_t port = 0;
  bool operator==(const BrokerEndpoint&) const = default;
};

// A broker (re)registered. It starts fenced: it leads nothing until it has caught up with the
// metadata log and asked to be unfenced in a heartbeat.
struct RegisterBrokerRecord {
  NodeId broker_id{0};
  IncarnationId incarnation{};  // new at every process start
  int64_t broker_epoch = 0;     // goes up with every registration in the cluster
  std::vector<BrokerEndpoint> endpoints;
  std::optional<std::string> rack;
  bool operator==(const RegisterBrokerRecord&) const = default;
};

struct UnregisterBrokerRecord {
  NodeId broker_id{0};
  int64_t broker_epoch = 0;
  bool operator==(const UnregisterBrokerRecord&) const = default;
};

// The broker's session ended (or it shut down): no partition may keep it as leader.
struct FenceBrokerRecord {
  NodeId broker_id{0};
  int64_t broker_epoch = 0;
  bool operator==(const FenceBrokerRecord&) const = default;
};

struct UnfenceBrokerRecord {
  NodeId broker_id{0};
  int64_t broker_epoch = 0;
  bool operator==(const UnfenceBrokerRecord&) const = default;
};

struct TopicRecord {
  std::string name;
  TopicId topic_id{};
  bool operator==(const TopicRecord&) const = default;
};

// A new partition and its first assignment.
struct PartitionRecord {
  TopicId topic_id{};
  int32_t partition = 0;
  std::vector<NodeId> replicas;
  std::vector<NodeId> isr;
  NodeId leader{-1};
  LeaderEpoch leader_epoch{0};
  int32_t partition_epoch = 0;
  bool operator==(const PartitionRecord&) const = default;
};

// A change of an existing partition. Fields left empty keep their value. A new leader (even
// "none", -1) starts the next leader epoch; every change bumps the partition epoch.
struct PartitionChangeRecord {
  TopicId topic_id{};
  int32_t partition = 0;
  std::optional<NodeId> leader;
  std::optional<std::vector<NodeId>> isr;
  std::optional<std::vector<NodeId>> replicas;
  bool operator==(const PartitionChangeRecord&) const = default;
};

struct RemoveTopicRecord {
  TopicId topic_id{};
  bool operator==(const RemoveTopicRecord&) const = default;
};

// A dynamic topic config override; no value removes it (back to the broker default).
struct ConfigRecord {
  std::string topic;
  std::string key;
  std::optional<std::string> value;
  bool operator==(const ConfigRecord&) const = default;
};

// A block of producer ids went to a broker: no id below next_producer_id is handed out again.
struct ProducerIdsRecord {
  NodeId broker_id{0};
  int64_t broker_epoch = 0;
  int64_t next_producer_id = 0;
  bool operator==(const ProducerIdsRecord&) const = default;
};

using MetadataRecord =
    std::variant<RegisterBrokerRecord, UnregisterBrokerRecord, FenceBrokerRecord,
                 UnfenceBrokerRecord, TopicRecord, PartitionRecord, PartitionChangeRecord,
                 RemoveTopicRecord, ConfigRecord, ProducerIdsRecord>;

// KRaft's type numbers, stored in each value.
enum class RecordType : int16_t {
  kRegisterBroker = 0,
  kUnregisterBroker = 1,
  kTopic = 2,
  kPartition = 3,
  kConfig = 4,
  kPartitionChange = 5,
  kFenceBroker = 6,
  kUnfenceBroker = 7,
  kRemoveTopic = 8,
  kProducerIds = 15,
};

RecordType record_type(const MetadataRecord& record);
Bytes encode_metadata_record(const MetadataRecord& record);
// Bytes from disk or the network: anything malformed is Status::corruption, never an assert.
Result<MetadataRecord> decode_metadata_record(ByteSpan value);

// "3f2a…" (32 hex digits), for messages and traces.
std::string to_hex(const TopicId& id);
// Kafka's text form of a UUID: URL-safe base64 without padding, 22 characters.
std::string to_base64url(const TopicId& id);
std::optional<TopicId> topic_id_from_base64url(std::string_view text);
// One line describing the record, for traces and errors.
std::string describe(const MetadataRecord& record);

}  // namespace strata::controller
