// The controller: the one node that decides the cluster's metadata (KRaft's QuorumController,
// with a single voter for now). It is a sans-I/O state machine. Each `on_<request>` checks
// the request against the metadata image and returns a ControllerResult: the records that
// carry the decision and the reply. The controller has already replayed those records into
// its image when it returns; the caller appends them to the metadata log, durably and in
// order, before it sends the reply. If that append fails, the caller must discard this
// Controller and build a new one by replaying the log (what Kafka does when a controller
// loses its leadership), so that the image never runs ahead of the log.
//
// What it decides, as Kafka's controller does:
// - brokers register (each registration gets a new broker epoch and starts fenced), keep a
//   session alive with heartbeats, are unfenced once they have caught up with the metadata
//   log, and are fenced when their session times out (broker.session.timeout.ms);
// - a fenced broker, or one in controlled shutdown, leaves every ISR it is in (unless it is
//   the last member) and every partition it led gets a new leader from the rest of its ISR,
//   in replica order; with none left the partition has no leader until an ISR member returns
//   (or, with unclean.leader.election.enable, any replica does);
// - topics get replicas placed over the active brokers (placement.h) and the first replica as
//   leader; AlterPartition lets a leader shrink or grow its ISR, guarded by the leader epoch
//   and the partition epoch.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/controller/metadata_image.h"
#include "engine/protocol/errors.h"

namespace strata::controller {

using proto::ErrorCode;

struct ControllerConfig {
  int32_t num_partitions = 1;
  int16_t default_replication_factor = 1;
  int64_t broker_session_timeout_ms = 9000;
  bool unclean_leader_election_enable = false;  // default for topics without an override
  int64_t producer_id_block_size = 1000;
};

template <class Reply>
struct ControllerResult {
  std::vector<MetadataRecord> records;
  Reply reply;
};

struct BrokerRegistrationRequest {
  NodeId broker_id{0};
  IncarnationId incarnation{};
  std::vector<BrokerEndpoint> endpoints;
  std::optional<std::string> rack;
};

struct BrokerRegistrationReply {
  ErrorCode error = ErrorCode::kNone;
  int64_t broker_epoch = -1;
};

struct BrokerHeartbeatRequest {
  NodeId broker_id{0};
  int64_t broker_epoch = -1;
  Offset metadata_offset{-1};  // the broker has replayed the log below this offset
  bool want_fence = false;
  bool want_shutdown = false;
};

struct BrokerHeartbeatReply {
  ErrorCode error = ErrorCode::kNone;
  bool is_caught_up = false;
  bool is_fenced = true;
  bool should_shut_down = false;
};

struct CreateTopicRequest {
  std::string name;                 // validated by the caller (Kafka's legal topic names)
  int32_t partitions = -1;          // -1: num.partitions
  int16_t replication_factor = -1;  // -1: default.replication.factor
  // Replicas chosen by the client, partition by partition (then both counts above are -1).
  std::map<int32_t, std::vector<NodeId>> assignments;
  std::map<std::string, std::string> configs;  // validated by the caller
};

struct TopicReply {
  ErrorCode error = ErrorCode::kNone;
  std::string message;
  TopicId topic_id{};
  int32_t partitions = 0;
  int16_t replication_factor = 0;
};

struct AlterPartitionRequest {
  NodeId broker_id{0};
  int64_t broker_epoch = -1;
  TopicId topic_id{};
  int32_t partition = 0;
  LeaderEpoch leader_epoch{0};
  int32_t partition_epoch = 0;
  std::vector<NodeId> new_isr;
};

struct AlterPartitionReply {
  ErrorCode error = ErrorCode::kNone;
  PartitionRegistration partition;  // the state after the change (or the current one)
};

struct ProducerIdsReply {
  ErrorCode error = ErrorCode::kNone;
  int64_t first_producer_id = -1;
  int64_t count = 0;
};

class Controller {
 public:
  explicit Controller(ControllerConfig config) : config_(config) {}

  // Rebuilds the image from the log at start, one record at a time in log order.
  Status replay(const MetadataRecord& record, Offset offset);
  // After replay: the log ends at `log_end` (see MetadataImage::skip_to).
  void skip_to(Offset log_end) { image_.skip_to(log_end); }

  ControllerResult<BrokerRegistrationReply> on_broker_registration(
      const BrokerRegistrationRequest& request, int64_t now_ms);
  ControllerResult<BrokerHeartbeatReply> on_broker_heartbeat(const BrokerHeartbeatRequest& request,
                                                             int64_t now_ms);
  // Fences every broker whose session has expired by `now_ms`.
  ControllerResult<int> on_tick(int64_t now_ms);

  // One reply per request, in order. `random` seeds topic ids and placement.
  ControllerResult<std::vector<TopicReply>> on_create_topics(
      const std::vector<CreateTopicRequest>& requests, uint64_t random);
  ControllerResult<std::vector<TopicReply>> on_delete_topics(const std::vector<std::string>& names);
  ControllerResult<TopicReply> on_create_partitions(const std::string& name, int32_t total,
                                                    uint64_t random);
  // Makes `overrides` the topic's whole set of dynamic configs.
  ControllerResult<TopicReply> on_alter_topic_configs(
      const std::string& name, const std::map<std::string, std::string>& overrides);
  ControllerResult<AlterPartitionReply> on_alter_partition(const AlterPartitionRequest& request);
  ControllerResult<ProducerIdsReply> on_allocate_producer_ids(NodeId broker_id,
                                                              int64_t broker_epoch);
  // No producer id below `floor` is handed out from now on: ids that an older strata handed
  // out itself, carried over when its metadata is imported.
  ControllerResult<ProducerIdsReply> on_reserve_producer_ids(NodeId broker_id, int64_t broker_epoch,
                                                             int64_t floor);

  const MetadataImage& image() const { return image_; }
  const ControllerConfig& config() const { return config_; }
  void check_invariants() const;

 private:
  // Replays `record` into the image and adds it to the result.
  template <class Reply>
  void emit(ControllerResult<Reply>& result, MetadataRecord record) {
    Status s = image_.replay(record, image_.next_offset());
    STRATA_ASSERT(s.is_ok(), "the controller only emits records its image accepts");
    result.records.push_back(std::move(record));
  }
  // unclean.leader.election.enable: the topic's override, else the cluster default.
  bool unclean_allowed(const TopicImage& topic) const;
  // Registered and unfenced, sorted: who may be placed as a replica or elected.
  std::vector<NodeId> active_brokers() const;
  // The partition changes that take `broker` out of every ISR and leadership it holds.
  std::vector<PartitionChangeRecord> changes_without(NodeId broker) const;
  // Leaders for leaderless partitions that `broker`, newly active, can lead.
  std::vector<PartitionChangeRecord> changes_with(NodeId broker) const;
  template <class Reply>
  void fence(ControllerResult<Reply>& result, const BrokerRegistration& broker);
  ErrorCode check_broker(NodeId id, int64_t epoch) const;
  TopicReply create_topic(ControllerResult<std::vector<TopicReply>>& result,
                          const CreateTopicRequest& request, uint64_t random);
  TopicReply plan_assignments(const CreateTopicRequest& request, uint64_t random,
                              std::vector<std::vector<NodeId>>* replicas) const;

  ControllerConfig config_;
  MetadataImage image_;
  // Broker sessions live in memory only: a restarted controller gives every unfenced broker
  // a fresh session on its first tick, as Kafka's does on activation.
  std::map<NodeId, int64_t> session_deadline_ms_;
};

}  // namespace strata::controller
