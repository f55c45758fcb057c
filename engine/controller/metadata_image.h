// The cluster's metadata as of some offset of the metadata log: registered brokers and whether
// they are fenced, topics, and each partition's replicas, ISR, leader and epochs. It is built
// only by replaying MetadataRecords in log order (Kafka's MetadataImage); the controller keeps
// one, and every broker keeps one built from the records it fetched.
//
// replay() checks each record against the image first. A record that contradicts it (a
// partition of an unknown topic, a leader outside the ISR, a stale broker epoch) is reported
// as corruption and leaves the image unchanged, so after any sequence of replays the image
// holds the invariants that check_invariants() asserts.
#pragma once

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/controller/metadata_records.h"

namespace strata::controller {

struct BrokerRegistration {
  NodeId id{0};
  IncarnationId incarnation{};
  int64_t epoch = 0;
  std::vector<BrokerEndpoint> endpoints;
  std::optional<std::string> rack;
  bool fenced = true;
  Offset registered_at{0};  // where its RegisterBrokerRecord is in the log
};

struct PartitionRegistration {
  std::vector<NodeId> replicas;  // replicas[0] is the preferred leader
  std::vector<NodeId> isr;
  NodeId leader = kNoNode;
  LeaderEpoch leader_epoch{0};
  int32_t partition_epoch = 0;  // goes up with every change: AlterPartition's version check

  bool has_leader() const { return leader != kNoNode; }
  bool in_isr(NodeId n) const;
  bool is_replica(NodeId n) const;
};

struct TopicImage {
  std::string name;
  TopicId id{};
  std::vector<PartitionRegistration> partitions;  // index = partition number
  std::map<std::string, std::string> configs;     // dynamic overrides
};

class MetadataImage {
 public:
  Status replay(const MetadataRecord& record, Offset offset);

  const std::map<NodeId, BrokerRegistration>& brokers() const { return brokers_; }
  const BrokerRegistration* broker(NodeId id) const;
  bool is_active(NodeId id) const;  // registered and not fenced
  const std::map<TopicId, TopicImage>& topics() const { return topics_; }
  const TopicImage* topic(const TopicId& id) const;
  const TopicImage* topic(const std::string& name) const;
  const PartitionRegistration* partition(const TopicId& id, int32_t partition) const;
  // The first producer id not yet handed out in a block.
  int64_t next_producer_id() const { return next_producer_id_; }
  // The highest broker epoch any registration used.
  int64_t last_broker_epoch() const { return last_broker_epoch_; }
  // One past the offset of the last record replayed.
  Offset next_offset() const { return next_offset_; }

  // Records below `offset` were not controller records (an older format's): the next record
  // replayed or emitted goes at `offset` or later.
  void skip_to(Offset offset) { next_offset_ = std::max(next_offset_, offset); }

  // Assertions: what replay() guarantees. For tests and the controller after each operation.
  void check_invariants() const;

 private:
  Status apply(const RegisterBrokerRecord& r, Offset offset);
  Status apply(const UnregisterBrokerRecord& r, Offset offset);
  Status apply(const FenceBrokerRecord& r, Offset offset);
  Status apply(const UnfenceBrokerRecord& r, Offset offset);
  Status apply(const TopicRecord& r, Offset offset);
  Status apply(const PartitionRecord& r, Offset offset);
  Status apply(const PartitionChangeRecord& r, Offset offset);
  Status apply(const RemoveTopicRecord& r, Offset offset);
  Status apply(const ConfigRecord& r, Offset offset);
  Status apply(const ProducerIdsRecord& r, Offset offset);
  Status check_partition(const TopicImage& t, int32_t index, const PartitionRegistration& p) const;
  Status leads_nothing(NodeId broker) const;
  BrokerRegistration* find_broker(NodeId id, int64_t epoch, Status* error);
  TopicImage* find_topic(const TopicId& id);

  std::map<NodeId, BrokerRegistration> brokers_;
  std::map<TopicId, TopicImage> topics_;
  std::map<std::string, TopicId> topic_ids_;
  int64_t next_producer_id_ = 0;
  int64_t last_broker_epoch_ = -1;
  Offset next_offset_{0};
};

}  // namespace strata::controller
