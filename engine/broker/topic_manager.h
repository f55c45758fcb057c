// The broker's topics and the partition logs behind them, and the controller that decides
// them.
//
// Owns one PartitionLog per partition replica on this node (in one of log.dirs, the one
// holding the fewest partitions, as Kafka places them), the cluster metadata log, and the
// controller (engine/controller) that writes it. This node is the cluster's only controller
// voter, as in a one-node KRaft cluster in combined mode: it registers itself as a broker with
// its own controller, heartbeats it, and every topic change goes through the controller as
// records appended to the metadata log before the change is acknowledged. The topic table
// below is then brought in line with the controller's metadata image (sync_with_image).
// Single-threaded, like everything on the loop.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "engine/broker/config.h"
#include "engine/broker/metadata_log.h"
#include "engine/broker/partition_metadata.h"
#include "engine/storage/producer_state.h"
#include "engine/broker/topic_record.h"
#include "engine/controller/controller.h"
#include "engine/protocol/errors.h"
#include "engine/storage/partition_log.h"

namespace strata::broker {

// One partition replica on this broker. Replicas, ISR, leader and leader epoch are the
// controller's; without followers yet, the high watermark is the log end offset.
struct PartitionReplica {
  std::string topic;
  int32_t index = 0;
  LeaderEpoch leader_epoch{0};  // = registration.leader_epoch once it is recorded in the log
  controller::PartitionRegistration registration;
  bool is_leader = false;  // this node is registration.leader
  std::unique_ptr<PartitionLog> log;
  ProducerStateTable producers;  // rebuilt from the log's batch headers on open

  Offset high_watermark() const { return log->log_end_offset(); }
  // Key under which delayed operations watch this partition.
  std::string key() const { return topic + "-" + std::to_string(index); }
};

struct Topic {
  TopicRecord record;  // name, id, partition count and overrides, as the image has them
  TopicConfig config;  // broker defaults + record.configs
  // Index = partition number; null where this node holds no replica of the partition.
  std::vector<std::unique_ptr<PartitionReplica>> partitions;
};

// An admin failure with the Kafka error the client should see.
struct AdminError {
  proto::ErrorCode code = proto::ErrorCode::kNone;
  std::string message;
  bool ok() const { return code == proto::ErrorCode::kNone; }
};

struct CreateTopicSpec {
  std::string name;
  int32_t partitions = -1;          // -1: num.partitions
  int16_t replication_factor = -1;  // -1: default.replication.factor
  // Replicas chosen by the caller, partition by partition (then both counts are -1).
  std::map<int32_t, std::vector<NodeId>> assignments;
  std::map<std::string, std::string> configs;
  bool validate_only = false;
};

class TopicManager {
 public:
  TopicManager(Runtime& runtime, const BrokerConfig& config);
  ~TopicManager();

  // Checks meta.properties, replays the metadata log into the controller, registers this node
  // (listening on `endpoints`) with it, and opens every partition log it holds a replica of.
  Status load(const std::vector<controller::BrokerEndpoint>& endpoints);
  // This node's heartbeat to its controller and the controller's session check
  // (broker.heartbeat.interval.ms). `now_ms` is monotonic time.
  void heartbeat(int64_t now_ms);
  Status close();

  AdminError create_topic(const CreateTopicSpec& spec);
  AdminError delete_topic(const std::string& name);
  AdminError create_partitions(const std::string& name, int32_t total, bool validate_only);
  // Replaces the topic's dynamic config overrides with `overrides` (the whole set; a key left
  // out returns to the broker default), durably in the metadata log, and applies the result
  // to its partitions at once (PartitionLog::reconfigure).
  AdminError alter_topic_configs(const std::string& name,
                                 const std::map<std::string, std::string>& overrides,
                                 bool validate_only);

  // Why find(name, partition) is null: the partition exists with no replica here
  // (NOT_LEADER_OR_FOLLOWER: the client's metadata is stale) or does not exist at all.
  proto::ErrorCode missing_partition_error(const std::string& name, int32_t partition) const;
  Topic* find(const std::string& name);
  PartitionReplica* find(const std::string& name, int32_t partition);
  const std::map<std::string, Topic>& topics() const { return topics_; }
  const std::string& cluster_id() const { return cluster_id_; }
  // The cluster as this node knows it: the controller's own image on the controller node,
  // else the image replayed from the metadata log fetched from the controller.
  const controller::MetadataImage& image() const {
    return controller_ ? controller_->image() : follower_image_;
  }
  bool is_controller() const { return controller_ != nullptr; }
  NodeId node_id() const { return config_.node_id; }
  // The controller node's metadata log (fetched by the other brokers).
  MetadataLog* metadata_log() { return metadata_.get(); }
  // Runs after records are appended to the metadata log (wakes brokers' parked fetches).
  void set_metadata_listener(std::function<void()> fn) { on_metadata_ = std::move(fn); }
  // Called after every sync_with_image(): partitions may have been opened or removed.
  void set_sync_listener(std::function<void()> fn) { on_sync_ = std::move(fn); }

  // On the controller node: requests from other brokers, decided and committed.
  controller::BrokerRegistrationReply register_broker(
      const controller::BrokerRegistrationRequest& request);
  controller::BrokerHeartbeatReply broker_heartbeat(
      const controller::BrokerHeartbeatRequest& request);
  controller::ProducerIdsReply allocate_producer_ids(NodeId broker, int64_t broker_epoch);

  // On a broker that follows a remote controller (engine/broker/controller_link.h).
  // The cluster id the controller reported: checked against (or written to) meta.properties.
  Status adopt_cluster_id(const std::string& cluster_id);
  // One record fetched from the controller's log; sync_with_image() applies a batch of them.
  Status replay_fetched(const controller::MetadataRecord& record, Offset offset);
  void set_broker_epoch(int64_t epoch) { broker_epoch_ = epoch; }
  // A block of producer ids from the controller, handed out after the current one.
  void add_producer_ids(int64_t first, int64_t count);
  bool needs_producer_ids() const { return next_producer_id_ == producer_id_block_end_ &&
                                           spare_producer_ids_.second == 0; }
  // Creates, reconfigures, re-leads and deletes local topics and partitions to match the
  // image. Partitions without a replica here stay null in Topic::partitions.
  Status sync_with_image();
  // Removes the partition directories the image says this broker should not have: those of
  // topics deleted while it was down, and those of an earlier topic of the same name (their
  // partition.metadata names another topic id). Called once the image has caught up: at
  // load() on the controller node, at the first unfencing on other brokers.
  void remove_stray_partitions();
  // Goes up whenever a topic or partition is created or deleted: lets observers (the
  // simulator's invariant checks) cache what they derive from topics().
  uint64_t layout_version() const { return layout_version_; }

  // A producer id never handed out before in the cluster, for InitProducerId. Ids come in
  // blocks from the controller, recorded (synced) in the metadata log first, so a restart
  // cannot reuse one.
  Result<int64_t> allocate_producer_id();

  // Retention, time-based roll and flush for every partition.
  void maintain(int64_t now_ms);
  // Flushes every partition (log.flush.scheduler.interval.ms and shutdown).
  Status flush_all();
  // One step of the log cleaner (topic_cleaner.cc): goes on with the partition being cleaned,
  // or starts a pass on the dirtiest compacted partition. False when nothing needs cleaning.
  bool clean_step(int64_t now_ms, uint64_t key_map_bytes_max);

 private:
  Result<std::unique_ptr<PartitionReplica>> open_partition(const std::string& topic,
                                                           int32_t index,
                                                           const TopicConfig& config,
                                                           const controller::TopicId& id);
  // Why `dir` (of partition `name`) should not be here, or "" when it may be.
  std::string stray_reason(const std::string& dir, const PartitionDirName& name);
  void remove_partition_dir(const std::string& dir, const std::string& why);
  std::string choose_log_dir();
  std::string partition_dir(const std::string& topic, int32_t index) const;
  AdminError check_new_topic(const CreateTopicSpec& spec, TopicConfig* config) const;
  // Appends a controller result's records; on failure the controller is rebuilt from the log.
  Status commit(const std::vector<controller::MetadataRecord>& records);
  Status open_controller(LegacyMetadata* legacy);
  // Topics and producer ids of an older strata's metadata log, as controller records.
  void import_legacy(const LegacyMetadata& legacy,
                     std::vector<controller::MetadataRecord>* batch);
  Status sync_topic(const controller::TopicImage& image_topic);
  void remove_topic(const std::string& name);

  Runtime& rt_;
  const BrokerConfig& config_;
  std::string cluster_id_;
  std::unique_ptr<MetadataLog> metadata_;
  std::unique_ptr<controller::Controller> controller_;  // on the controller node only
  controller::MetadataImage follower_image_;            // on the other brokers
  int64_t broker_epoch_ = -1;
  int64_t replayed_records_ = 0;  // controller records found in the log at open
  bool metadata_failed_ = false;  // an append failed and the log could not be reopened
  std::function<void()> on_metadata_;
  std::function<void()> on_sync_;
  std::map<std::string, Topic> topics_;
  std::map<std::string, int> partitions_per_dir_;
  bool loaded_ = false;
  uint64_t layout_version_ = 0;
  PartitionReplica* dirtiest_log(int64_t now_ms);
  // The cleaner's partition in mid-pass, and those it gave up on after an error.
  std::optional<std::pair<std::string, int32_t>> cleaning_;
  CleanStats pass_stats_;
  std::set<std::string> uncleanable_;
  int64_t next_producer_id_ = 0;  // ids in [next, block end) are this node's and unused
  std::pair<int64_t, int64_t> spare_producer_ids_{0, 0};  // the next block: first, count
  int64_t producer_id_block_end_ = 0;
};

LogConfig to_log_config(const TopicConfig& c);

}  // namespace strata::broker
