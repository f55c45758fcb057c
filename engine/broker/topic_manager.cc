#include "engine/broker/topic_manager.h"

#include <algorithm>

#include "engine/base/limits.h"

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
    const std::string& topic, int32_t index, const TopicConfig& config,
    const controller::TopicId& id) {
  std::string dir = partition_dir(topic, index);
  bool write_id = true;
  if (!dir.empty()) {
    STRATA_ASSIGN_OR_RETURN(auto found, read_partition_metadata(rt_, dir));
    if (found == id) {
      write_id = false;
    } else if (found) {
      // Left from a topic of this name deleted while this broker was down: not this topic's.
      remove_partition_dir(dir, earlier_topic(topic, *found, id));
      dir.clear();
    }
    // Without the file, the directory is an older strata's (or a crash came right after it
    // was made, before any record): it is this topic's, and says so from now on.
  }
  if (dir.empty()) dir = choose_log_dir() + "/" + topic + "-" + std::to_string(index);
  std::string parent = dir.substr(0, dir.rfind('/'));
  ++partitions_per_dir_[parent];
  auto p = std::make_unique<PartitionReplica>();
  p->topic = topic;
  p->index = index;
  STRATA_ASSIGN_OR_RETURN(p->log, PartitionLog::open(rt_, dir, to_log_config(config)));
  if (write_id) STRATA_RETURN_IF_ERROR(write_partition_metadata(rt_, dir, id));
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

Status TopicManager::close() {
  Status first;
  for (auto& [name, t] : topics_) {
    for (auto& p : t.partitions) {
      if (!p) continue;
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

AdminError TopicManager::check_new_topic(const CreateTopicSpec& spec,
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
  auto cfg = apply_overrides(config_.topic_defaults, spec.configs);
  if (!cfg) return {ErrorCode::kInvalidConfig, cfg.status().message()};
  if (Status s = to_log_config(*cfg).validate(); !s) {
    return {ErrorCode::kInvalidConfig, s.message()};
  }
  *config = *cfg;
  return {};
}

namespace {

AdminError from_reply(const controller::TopicReply& reply) {
  return {reply.error, reply.message};
}

AdminError storage_error(const Status& s) {
  return {ErrorCode::kKafkaStorageError, "metadata log: " + s.message()};
}

AdminError not_controller() {
  return {ErrorCode::kNotController, "This broker is not the controller."};
}

}  // namespace

AdminError TopicManager::create_topic(const CreateTopicSpec& spec) {
  STRATA_ASSERT(loaded_);
  TopicConfig config;
  AdminError err = check_new_topic(spec, &config);
  if (!err.ok()) return err;
  if (!controller_) return not_controller();
  // Followers do not fetch yet: a second replica would be named in the ISR without the data.
  int32_t rf = spec.replication_factor == -1 ? config_.default_replication_factor
                                             : spec.replication_factor;
  if (!spec.assignments.empty()) rf = int32_t(spec.assignments.begin()->second.size());
  if (rf > 1) {
    return {ErrorCode::kInvalidReplicationFactor,
            "Replication factor " + std::to_string(rf) +
                ": strata does not replicate partitions yet; use 1."};
  }
  controller::CreateTopicRequest request{spec.name, spec.partitions, spec.replication_factor,
                                         spec.assignments, spec.configs};
  if (spec.validate_only) {
    controller::Controller scratch = *controller_;  // decides without changing anything
    return from_reply(scratch.on_create_topics({request}, 0).reply.at(0));
  }
  auto result = controller_->on_create_topics({request}, rt_.random_u64());
  const controller::TopicReply& reply = result.reply.at(0);
  if (reply.error != ErrorCode::kNone) return from_reply(reply);
  if (Status s = commit(result.records); !s) return storage_error(s);
  if (Status s = sync_with_image(); !s) return storage_error(s);
  rt_.info("topics", "created topic " + spec.name + " with " + std::to_string(reply.partitions) +
                         " partitions, replication factor " +
                         std::to_string(reply.replication_factor));
  return {};
}

AdminError TopicManager::delete_topic(const std::string& name) {
  if (find(name) == nullptr) {
    return {ErrorCode::kUnknownTopicOrPartition, "This server does not host this topic."};
  }
  if (!config_.delete_topic_enable) {
    return {ErrorCode::kTopicDeletionDisabled, "delete.topic.enable is false"};
  }
  if (!controller_) return not_controller();
  auto result = controller_->on_delete_topics({name});
  if (result.reply.at(0).error != ErrorCode::kNone) return from_reply(result.reply.at(0));
  if (Status s = commit(result.records); !s) return storage_error(s);
  if (Status s = sync_with_image(); !s) return storage_error(s);
  rt_.info("topics", "deleted topic " + name);
  return {};
}

AdminError TopicManager::create_partitions(const std::string& name, int32_t total,
                                           bool validate_only) {
  if (!controller_) return not_controller();
  if (validate_only) {
    controller::Controller scratch = *controller_;
    return from_reply(scratch.on_create_partitions(name, total, 0).reply);
  }
  auto result = controller_->on_create_partitions(name, total, rt_.random_u64());
  if (result.reply.error != ErrorCode::kNone) return from_reply(result.reply);
  if (Status s = commit(result.records); !s) return storage_error(s);
  if (Status s = sync_with_image(); !s) return storage_error(s);
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
  if (!controller_) return not_controller();
  if (validate_only || overrides == t->record.configs) return {};
  auto result = controller_->on_alter_topic_configs(name, overrides);
  if (result.reply.error != ErrorCode::kNone) return from_reply(result.reply);
  if (Status s = commit(result.records); !s) return storage_error(s);
  if (Status s = sync_with_image(); !s) return storage_error(s);
  std::string listed;
  for (const auto& [key, value] : overrides) {
    listed += (listed.empty() ? "" : ", ") + key + "=" + value;
  }
  rt_.info("topics", "topic " + name + " config overrides now {" + listed + "}");
  return {};
}

ErrorCode TopicManager::missing_partition_error(const std::string& name,
                                                int32_t partition) const {
  const controller::TopicImage* t = image().topic(name);
  bool exists = t != nullptr && partition >= 0 && size_t(partition) < t->partitions.size();
  return exists ? ErrorCode::kNotLeaderOrFollower : ErrorCode::kUnknownTopicOrPartition;
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
      if (!p) continue;
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
      if (!p) continue;
      Status s = p->log->flush();
      if (!s && first.is_ok()) first = s;
    }
  }
  return first;
}

}  // namespace strata::broker
