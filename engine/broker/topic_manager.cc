#include "engine/broker/topic_manager.h"

#include <algorithm>

#include "engine/base/limits.h"
#include "engine/storage/leader_epoch_file.h"

namespace strata::broker {

using proto::ErrorCode;

LogConfig to_log_config(const TopicConfig& c) {
  LogConfig l;
  l.segment_bytes = c.segment_bytes;
  l.segment_ms = c.segment_ms;
  l.retention_ms = c.retention_ms;
  l.retention_bytes = c.retention_bytes;
  l.flush_interval_messages = c.flush_messages;
  l.flush_interval_ms = c.flush_ms;
  l.index_interval_bytes = c.index_interval_bytes;
  l.segment_index_bytes = c.segment_index_bytes;
  l.file_delete_delay_ms = c.file_delete_delay_ms;
  l.cleanup_compact = c.cleanup_policy.find("compact") != std::string::npos;
  l.cleanup_delete = c.cleanup_policy.find("delete") != std::string::npos;
  l.min_cleanable_dirty_ratio = c.min_cleanable_dirty_ratio;
  l.min_compaction_lag_ms = c.min_compaction_lag_ms;
  l.max_compaction_lag_ms = c.max_compaction_lag_ms;
  l.delete_retention_ms = c.delete_retention_ms;
  return l;
}

TopicManager::TopicManager(Runtime& runtime, const BrokerConfig& config)
    : rt_(runtime), config_(config) {
  STRATA_ASSERT(!config.log_dirs.empty(), "at least one log dir");
}

TopicManager::~TopicManager() {
  // close() is the orderly path; without it the logs are dropped like a crash (no I/O).
}

std::string TopicManager::partition_dir(const std::string& topic, int32_t index) const {
  std::string name = topic + "-" + std::to_string(index);
  for (const auto& dir : config_.log_dirs) {
    if (rt_.fs().is_dir(dir + "/" + name)) return dir + "/" + name;
  }
  return {};
}

std::string TopicManager::choose_log_dir() {
  std::string best = config_.log_dirs.front();
  for (const auto& dir : config_.log_dirs) {
    if (partitions_per_dir_[dir] < partitions_per_dir_[best]) best = dir;
  }
  return best;
}

Result<std::unique_ptr<PartitionReplica>> TopicManager::open_partition(
    const std::string& topic, int32_t index, const TopicConfig& config) {
  std::string dir = partition_dir(topic, index);
  if (dir.empty()) dir = choose_log_dir() + "/" + topic + "-" + std::to_string(index);
  std::string parent = dir.substr(0, dir.rfind('/'));
  ++partitions_per_dir_[parent];
  auto p = std::make_unique<PartitionReplica>();
  p->topic = topic;
  p->index = index;
  STRATA_ASSIGN_OR_RETURN(p->log, PartitionLog::open(rt_, dir, to_log_config(config)));
  // Opening the log makes this replica the partition's leader again: a new leader epoch, as a
  // KRaft election would give it after the broker was away.
  STRATA_ASSIGN_OR_RETURN(p->leader_epoch,
                          begin_leader_epoch(rt_.fs(), dir, p->log->log_end_offset()));
  // Idempotent producers' sequence state: the newest snapshot, then the batch headers after
  // it (producer_state.h).
  STRATA_ASSIGN_OR_RETURN(LoadedProducerState loaded,
                          load_producer_snapshot(rt_.fs(), dir, p->log->log_end_offset()));
  for (const std::string& note : loaded.notes) rt_.warn("topics", "producer state: " + note);
  p->producers = std::move(loaded.table);
  STRATA_RETURN_IF_ERROR(
      p->log->for_each_batch_header(loaded.scan_from, [&](const StoredBatchHeader& h) {
        p->producers.replay(h);
        return ok_status();
      }));
  PartitionReplica* replica = p.get();  // owns the log, so outlives the listener
  p->log->set_roll_listener([this, replica](Offset base) {
    if (Status s = write_producer_snapshot(rt_.fs(), replica->log->dir(), base,
                                           replica->producers);
        !s) {
      rt_.warn("topics", replica->key() + ": producer state snapshot not written: " +
                             s.to_string());
    }
  });
  return p;
}

Status TopicManager::load() {
  STRATA_ASSERT(!loaded_, "load() twice");
  for (const auto& dir : config_.log_dirs) {
    STRATA_ASSIGN_OR_RETURN(
        std::string id,
        ensure_meta_properties(rt_, dir, config_.node_id.value(), config_.cluster_id));
    if (!cluster_id_.empty() && id != cluster_id_) {
      return Status::invalid_argument("log dirs belong to different clusters: " + cluster_id_ +
                                      " and " + id + " (" + dir + ")");
    }
    cluster_id_ = id;
  }
  metadata_ = std::make_unique<MetadataLog>(
      rt_, config_.log_dirs.front() + "/" + std::string(kClusterMetadataTopic) + "-0");
  STRATA_ASSIGN_OR_RETURN(MetadataImage image, metadata_->open());
  next_producer_id_ = producer_id_block_end_ = image.next_producer_id_block;
  for (auto& [name, record] : image.topics) {
    auto cfg = apply_overrides(config_.topic_defaults, record.configs);
    if (!cfg) {
      rt_.warn("topics", "topic '" + name + "' has an invalid stored config (" +
                             cfg.status().message() + "); using broker defaults");
      cfg = config_.topic_defaults;
    }
    Topic t{record, *cfg, {}};
    for (int32_t i = 0; i < record.partitions; ++i) {
      STRATA_ASSIGN_OR_RETURN(auto p, open_partition(name, i, t.config));
      t.partitions.push_back(std::move(p));
    }
    topics_.emplace(name, std::move(t));
    ++layout_version_;
  }
  loaded_ = true;
  rt_.info("topics", "loaded " + std::to_string(topics_.size()) + " topics, cluster.id " +
                         cluster_id_);
  return ok_status();
}

Result<int64_t> TopicManager::allocate_producer_id() {
  constexpr int64_t kBlockSize = 1000;  // Kafka's producer id block size
  if (next_producer_id_ == producer_id_block_end_) {
    STRATA_ASSERT(metadata_ != nullptr, "producer id before load()");
    STRATA_RETURN_IF_ERROR(metadata_->put_producer_id_block(producer_id_block_end_ + kBlockSize));
    producer_id_block_end_ += kBlockSize;
  }
  return next_producer_id_++;
}

Status TopicManager::close() {
  Status first;
  for (auto& [name, t] : topics_) {
    for (auto& p : t.partitions) {
      // A snapshot the next start cannot use (the close failed, the machine lost the file)
      // is removed or skipped there, so its failure only costs a longer replay.
      Status snap = write_producer_snapshot(rt_.fs(), p->log->dir(), p->log->log_end_offset(),
                                            p->producers);
      if (!snap) rt_.warn("topics", "producer state snapshot not written: " + snap.to_string());
      Status s = p->log->close();
      if (!s && first.is_ok()) first = s;
    }
  }
  topics_.clear();
  if (metadata_) {
    Status s = metadata_->close();
    if (!s && first.is_ok()) first = s;
  }
  return first;
}

AdminError TopicManager::check_new_topic(const CreateTopicSpec& spec, int32_t partitions,
                                         TopicConfig* config) const {
  if (Status s = validate_topic_name(spec.name); !s) {
    return {ErrorCode::kInvalidTopicException, s.message()};
  }
  if (spec.name == kClusterMetadataTopic) {
    // Its partition would share the metadata log's directory: producing to it would write
    // into that log, deleting it would delete every topic's record.
    return {ErrorCode::kInvalidRequest,
            "Creation of internal topic " + spec.name + " is prohibited."};
  }
  if (topics_.count(spec.name)) {
    return {ErrorCode::kTopicAlreadyExists, "Topic '" + spec.name + "' already exists."};
  }
  if (partitions <= 0 || partitions > limits::kPartitionsPerTopicMax) {
    return {ErrorCode::kInvalidPartitions,
            "Number of partitions must be in [1, " +
                std::to_string(limits::kPartitionsPerTopicMax) + "]."};
  }
  int16_t rf = spec.replication_factor == -1 ? config_.default_replication_factor
                                              : spec.replication_factor;
  if (rf <= 0 || rf > 1) {
    return {ErrorCode::kInvalidReplicationFactor,
            "Replication factor: " + std::to_string(rf) +
                " larger than available brokers: 1."};
  }
  if (topics_.size() >= limits::kTopicsMax) {
    return {ErrorCode::kPolicyViolation, "too many topics"};
  }
  auto cfg = apply_overrides(config_.topic_defaults, spec.configs);
  if (!cfg) return {ErrorCode::kInvalidConfig, cfg.status().message()};
  if (Status s = to_log_config(*cfg).validate(); !s) {
    return {ErrorCode::kInvalidConfig, s.message()};
  }
  *config = *cfg;
  return {};
}

AdminError TopicManager::create_topic(const CreateTopicSpec& spec) {
  STRATA_ASSERT(loaded_);
  int32_t partitions = spec.partitions == -1 ? config_.num_partitions : spec.partitions;
  TopicConfig config;
  AdminError err = check_new_topic(spec, partitions, &config);
  if (!err.ok() || spec.validate_only) return err;

  TopicRecord record{spec.name, {}, partitions, spec.configs};
  for (auto& b : record.id) b = static_cast<uint8_t>(rt_.random_u64());
  if (Status s = metadata_->put(record); !s) {
    return {ErrorCode::kKafkaStorageError, "metadata log: " + s.message()};
  }
  Topic t{record, config, {}};
  for (int32_t i = 0; i < partitions; ++i) {
    auto p = open_partition(spec.name, i, config);
    if (!p) return {ErrorCode::kKafkaStorageError, p.status().message()};
    t.partitions.push_back(std::move(*p));
  }
  topics_.emplace(spec.name, std::move(t));
  ++layout_version_;
  rt_.info("topics", "created topic " + spec.name + " with " + std::to_string(partitions) +
                         " partitions");
  return {};
}

AdminError TopicManager::delete_topic(const std::string& name) {
  auto it = topics_.find(name);
  if (it == topics_.end()) {
    return {ErrorCode::kUnknownTopicOrPartition, "This server does not host this topic."};
  }
  if (!config_.delete_topic_enable) {
    return {ErrorCode::kTopicDeletionDisabled, "delete.topic.enable is false"};
  }
  if (Status s = metadata_->remove(name); !s) {
    return {ErrorCode::kKafkaStorageError, "metadata log: " + s.message()};
  }
  for (auto& p : it->second.partitions) {
    std::string dir = p->log->dir();
    --partitions_per_dir_[dir.substr(0, dir.rfind('/'))];
    uncleanable_.erase(p->key());  // a topic created again under this name starts afresh
    if (Status s = p->log->destroy(); !s) {
      rt_.warn("topics", "deleting " + dir + ": " + s.to_string());
    }
  }
  topics_.erase(it);
  ++layout_version_;
  rt_.info("topics", "deleted topic " + name);
  return {};
}

AdminError TopicManager::create_partitions(const std::string& name, int32_t total,
                                           bool validate_only) {
  Topic* t = find(name);
  if (t == nullptr) {
    return {ErrorCode::kUnknownTopicOrPartition, "This server does not host this topic."};
  }
  int32_t current = t->record.partitions;
  if (total <= current) {
    return {ErrorCode::kInvalidPartitions, "Topic currently has " + std::to_string(current) +
                                               " partitions, " + std::to_string(total) +
                                               " would not be an increase."};
  }
  if (total > limits::kPartitionsPerTopicMax) {
    return {ErrorCode::kInvalidPartitions, "too many partitions"};
  }
  if (validate_only) return {};
  TopicRecord updated = t->record;
  updated.partitions = total;
  if (Status s = metadata_->put(updated); !s) {
    return {ErrorCode::kKafkaStorageError, "metadata log: " + s.message()};
  }
  t->record = updated;
  for (int32_t i = current; i < total; ++i) {
    auto p = open_partition(name, i, t->config);
    if (!p) return {ErrorCode::kKafkaStorageError, p.status().message()};
    t->partitions.push_back(std::move(*p));
    ++layout_version_;
  }
  return {};
}

AdminError TopicManager::alter_topic_configs(const std::string& name,
                                             const std::map<std::string, std::string>& overrides,
                                             bool validate_only) {
  Topic* t = find(name);
  if (t == nullptr) {
    return {ErrorCode::kUnknownTopicOrPartition, "Topic " + name + " does not exist."};
  }
  auto cfg = apply_overrides(config_.topic_defaults, overrides);
  if (!cfg) return {ErrorCode::kInvalidConfig, cfg.status().message()};
  LogConfig log_config = to_log_config(*cfg);
  if (Status s = log_config.validate(); !s) return {ErrorCode::kInvalidConfig, s.message()};
  if (validate_only || overrides == t->record.configs) return {};
  TopicRecord updated = t->record;
  updated.configs = overrides;
  if (Status s = metadata_->put(updated); !s) {
    return {ErrorCode::kKafkaStorageError, "metadata log: " + s.message()};
  }
  t->record = std::move(updated);
  t->config = *cfg;
  for (auto& p : t->partitions) p->log->reconfigure(log_config);
  std::string listed;
  for (const auto& [key, value] : overrides) {
    listed += (listed.empty() ? "" : ", ") + key + "=" + value;
  }
  rt_.info("topics", "topic " + name + " config overrides now {" + listed + "}");
  return {};
}

Topic* TopicManager::find(const std::string& name) {
  auto it = topics_.find(name);
  return it == topics_.end() ? nullptr : &it->second;
}

PartitionReplica* TopicManager::find(const std::string& name, int32_t partition) {
  Topic* t = find(name);
  if (t == nullptr || partition < 0 || partition >= int32_t(t->partitions.size())) {
    return nullptr;
  }
  return t->partitions[partition].get();
}

void TopicManager::maintain(int64_t now_ms) {
  for (auto& [name, t] : topics_) {
    for (auto& p : t.partitions) {
      if (Status s = p->log->maintain(now_ms); !s) {
        rt_.error("log", p->key() + ": " + s.to_string());
      }
      if (size_t n = p->producers.expire(now_ms, config_.producer_id_expiration_ms)) {
        rt_.info("topics", p->key() + ": forgot " + std::to_string(n) +
                               " idempotent producer(s) idle for producer.id.expiration.ms");
      }
    }
  }
}

Status TopicManager::flush_all() {
  Status first;
  for (auto& [name, t] : topics_) {
    for (auto& p : t.partitions) {
      Status s = p->log->flush();
      if (!s && first.is_ok()) first = s;
    }
  }
  return first;
}

}  // namespace strata::broker
