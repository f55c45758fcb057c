// TopicManager and its controller: loading the metadata log, this node's registration and
// heartbeats, committing the controller's records, carrying over an older strata's metadata,
// and keeping the local topics and partition logs in line with the controller's image.
#include "engine/base/limits.h"
#include "engine/broker/topic_manager.h"
#include "engine/storage/leader_epoch_file.h"

namespace strata::broker {
namespace {

using proto::ErrorCode;

controller::ControllerConfig controller_config(const BrokerConfig& c) {
  controller::ControllerConfig out;
  out.num_partitions = c.num_partitions;
  out.default_replication_factor = c.default_replication_factor;
  out.broker_session_timeout_ms = c.broker_session_timeout_ms;
  out.unclean_leader_election_enable = c.topic_defaults.unclean_leader_election_enable;
  return out;
}

template <class Reply>
Reply take(controller::ControllerResult<Reply>&& result,
           std::vector<controller::MetadataRecord>* batch) {
  for (auto& r : result.records) batch->push_back(std::move(r));
  return std::move(result.reply);
}

}  // namespace

Status TopicManager::open_controller(LegacyMetadata* legacy) {
  controller_ = std::make_unique<controller::Controller>(controller_config(config_));
  metadata_ = std::make_unique<MetadataLog>(
      rt_, config_.log_dirs.front() + "/" + std::string(kClusterMetadataTopic) + "-0");
  replayed_records_ = 0;
  STRATA_RETURN_IF_ERROR(metadata_->open(
      [this](const controller::MetadataRecord& record, Offset offset) {
        ++replayed_records_;
        return controller_->replay(record, offset);
      },
      legacy));
  controller_->skip_to(metadata_->log_end_offset());
  return ok_status();
}

Status TopicManager::commit(const std::vector<controller::MetadataRecord>& records) {
  if (records.empty()) return ok_status();
  if (metadata_failed_) return Status::io_error("the metadata log failed earlier; restart");
  Offset first = controller_->image().next_offset() - int64_t(records.size());
  Status s = metadata_->append(records, first);
  if (s) {
    if (on_metadata_) on_metadata_();
    return s;
  }
  // The controller's image is ahead of the log now: rebuild it from what the log holds.
  rt_.error("metadata", "appending controller records failed: " + s.to_string() +
                            "; rebuilding the controller from the metadata log");
  (void)metadata_->close();
  LegacyMetadata ignored;
  if (Status reopened = open_controller(&ignored); !reopened) {
    rt_.error("metadata", "the metadata log cannot be reopened: " + reopened.to_string());
    metadata_failed_ = true;
  }
  return s;
}

Status TopicManager::adopt_cluster_id(const std::string& cluster_id) {
  std::string adopted;
  for (const auto& dir : config_.log_dirs) {
    STRATA_ASSIGN_OR_RETURN(std::string id,
                            ensure_meta_properties(rt_, dir, config_.node_id.value(), cluster_id));
    if (!adopted.empty() && id != adopted) {
      return Status::invalid_argument("log dirs belong to different clusters: " + adopted +
                                      " and " + id + " (" + dir + ")");
    }
    adopted = id;
  }
  cluster_id_ = adopted;
  return ok_status();
}

Status TopicManager::load(const std::vector<controller::BrokerEndpoint>& endpoints) {
  STRATA_ASSERT(!loaded_, "load() twice");
  if (!config_.is_controller()) {
    // A broker of a remote controller learns the cluster id, registers and fetches the
    // metadata log through its ControllerLink; its partitions open as the records arrive.
    loaded_ = true;
    return ok_status();
  }
  STRATA_RETURN_IF_ERROR(adopt_cluster_id(config_.cluster_id));
  controller::IncarnationId incarnation{};  // new at every start
  rt_.random_bytes(incarnation);
  LegacyMetadata legacy;
  STRATA_RETURN_IF_ERROR(open_controller(&legacy));
  // Registration, unfencing and any import go in one batch: a crash keeps all or none.
  std::vector<controller::MetadataRecord> batch;
  const int64_t now = rt_.now().ms();  // sessions run on the monotonic clock
  auto reg = take(controller_->on_broker_registration(
                      {config_.node_id, incarnation, endpoints, std::nullopt}, now),
                  &batch);
  if (reg.error != ErrorCode::kNone) {
    return Status::unavailable("the controller refused this broker's registration: " +
                               std::string(proto::error_name(reg.error)));
  }
  broker_epoch_ = reg.broker_epoch;
  auto hb = take(
      controller_->on_broker_heartbeat(
          {config_.node_id, broker_epoch_, controller_->image().next_offset(), false, false}, now),
      &batch);
  if (hb.error != ErrorCode::kNone || hb.is_fenced) {
    return Status::unavailable("the controller did not unfence this broker");
  }
  if (legacy.present && replayed_records_ == 0) import_legacy(legacy, &batch);
  STRATA_RETURN_IF_ERROR(commit(batch));
  loaded_ = true;
  STRATA_RETURN_IF_ERROR(sync_with_image());
  // A metadata log with no history says nothing about the directories found beside it (it
  // was lost or removed): they are left alone, not taken for strays.
  if (replayed_records_ > 0 || legacy.present) remove_stray_partitions();
  rt_.info("topics", "loaded " + std::to_string(topics_.size()) + " topics, cluster.id " +
                         cluster_id_ + ", broker epoch " + std::to_string(broker_epoch_));
  return ok_status();
}

void TopicManager::import_legacy(const LegacyMetadata& legacy,
                                 std::vector<controller::MetadataRecord>* batch) {
  std::vector<controller::CreateTopicRequest> requests;
  for (const auto& [name, record] : legacy.topics) {
    controller::CreateTopicRequest r;
    r.name = name;
    for (int32_t i = 0; i < record.partitions; ++i) r.assignments[i] = {config_.node_id};
    r.configs = record.configs;
    requests.push_back(std::move(r));
  }
  auto replies = take(controller_->on_create_topics(requests, rt_.random_u64()), batch);
  for (size_t i = 0; i < replies.size(); ++i) {
    if (replies[i].error != ErrorCode::kNone) {
      rt_.warn("metadata", "not carried over from the older metadata log: topic " +
                               requests[i].name + ": " + replies[i].message);
    }
  }
  take(controller_->on_reserve_producer_ids(config_.node_id, broker_epoch_,
                                            legacy.next_producer_id_block),
       batch);
  rt_.info("metadata", "carried " + std::to_string(legacy.topics.size()) +
                           " topics over from an older strata's metadata log (new topic ids)");
}

void TopicManager::heartbeat(int64_t now_ms) {
  if (!loaded_ || !controller_ || metadata_failed_) return;
  // As a broker: heartbeat this node's own controller; then, as the controller, fence any
  // broker whose session ran out. Each result is committed before the next is asked for.
  auto hb = controller_->on_broker_heartbeat(
      {config_.node_id, broker_epoch_, controller_->image().next_offset(), false, false}, now_ms);
  if (hb.reply.error != ErrorCode::kNone) {
    rt_.error("metadata", "heartbeat refused by the controller: " +
                              std::string(proto::error_name(hb.reply.error)));
  }
  bool changed = !hb.records.empty();
  if (!commit(hb.records)) return;
  auto tick = controller_->on_tick(now_ms);
  changed = changed || !tick.records.empty();
  for (const auto& r : tick.records) {
    if (const auto* f = std::get_if<controller::FenceBrokerRecord>(&r)) {
      rt_.warn("controller", "fenced broker " + std::to_string(f->broker_id.value()) +
                                 ": no heartbeat for broker.session.timeout.ms");
    }
  }
  if (!commit(tick.records)) return;
  if (changed) {
    if (Status s = sync_with_image(); !s) rt_.error("topics", s.to_string());
  }
}

void TopicManager::add_producer_ids(int64_t first, int64_t count) {
  STRATA_ASSERT(count > 0 && first >= 0, "a producer id block is not empty");
  if (next_producer_id_ == producer_id_block_end_) {
    next_producer_id_ = first;
    producer_id_block_end_ = first + count;
  } else {
    spare_producer_ids_ = {first, count};
  }
}

Result<int64_t> TopicManager::allocate_producer_id() {
  if (next_producer_id_ == producer_id_block_end_ && spare_producer_ids_.second > 0) {
    next_producer_id_ = spare_producer_ids_.first;
    producer_id_block_end_ = next_producer_id_ + spare_producer_ids_.second;
    spare_producer_ids_ = {0, 0};
  }
  if (next_producer_id_ == producer_id_block_end_) {
    STRATA_ASSERT(loaded_, "producer id before load()");
    if (!controller_) {
      // The ControllerLink fetches the next block; the producer retries meanwhile.
      return Status::unavailable("no producer ids until the controller sends a block");
    }
    auto result = controller_->on_allocate_producer_ids(config_.node_id, broker_epoch_);
    if (result.reply.error != ErrorCode::kNone) {
      return Status::unavailable("producer id block: " +
                                 std::string(proto::error_name(result.reply.error)));
    }
    STRATA_RETURN_IF_ERROR(commit(result.records));
    add_producer_ids(result.reply.first_producer_id, result.reply.count);
  }
  return next_producer_id_++;
}

Status TopicManager::sync_with_image() {
  const controller::MetadataImage& image = this->image();
  std::vector<std::string> gone;
  for (const auto& [name, t] : topics_) {
    const controller::TopicImage* now = image.topic(name);
    if (now == nullptr || now->id != t.record.id) gone.push_back(name);
  }
  for (const std::string& name : gone) remove_topic(name);
  // A partition that cannot be opened (an unreadable partition.metadata, a failing disk)
  // does not keep the other topics from following the image; the first failure is returned.
  Status first;
  for (const auto& [id, t] : image.topics()) {
    if (Status s = sync_topic(t); !s && first.is_ok()) first = s;
  }
  if (on_sync_) on_sync_();
  return first;
}

Status TopicManager::sync_topic(const controller::TopicImage& it) {
  auto cfg = apply_overrides(config_.topic_defaults, it.configs);
  if (!cfg) {
    rt_.warn("topics", "topic '" + it.name + "' has an invalid stored config (" +
                           cfg.status().message() + "); using broker defaults");
    cfg = config_.topic_defaults;
  }
  auto [pos, created] = topics_.try_emplace(it.name);
  Topic& t = pos->second;
  if (created) {
    t.record = TopicRecord{it.name, it.id, 0, it.configs};
    t.config = *cfg;
    ++layout_version_;
  } else if (t.record.configs != it.configs) {
    t.record.configs = it.configs;
    t.config = *cfg;
    for (auto& p : t.partitions) {
      if (p) p->log->reconfigure(to_log_config(t.config));
    }
  }
  t.record.partitions = int32_t(it.partitions.size());
  Status first;
  for (size_t i = 0; i < it.partitions.size(); ++i) {
    const controller::PartitionRegistration& reg = it.partitions[i];
    if (i == t.partitions.size()) t.partitions.emplace_back();
    if (!reg.is_replica(config_.node_id)) continue;  // reassignment is not supported yet
    if (!t.partitions[i]) {
      auto p = open_partition(it.name, int32_t(i), t.config, it.id);
      if (!p) {
        if (first.is_ok()) first = p.status();
        continue;  // stays null: not served here, and tried again at the next sync
      }
      (*p)->leader_epoch = kNoLeaderEpoch;
      t.partitions[i] = std::move(*p);
      ++layout_version_;
    }
    PartitionReplica& p = *t.partitions[i];
    p.registration = reg;
    p.is_leader = reg.leader == config_.node_id;
    if (p.leader_epoch != reg.leader_epoch) {
      if (p.is_leader) {
        // The first offset of the new epoch goes into leader-epoch-checkpoint before any
        // record of it is written.
        Status s =
            record_leader_epoch(rt_.fs(), p.log->dir(), reg.leader_epoch, p.log->log_end_offset());
        if (!s) {
          if (first.is_ok()) first = s;
          continue;  // the epoch is not taken up; the next sync tries again
        }
      }
      p.leader_epoch = reg.leader_epoch;
    }
  }
  return first;
}

std::string TopicManager::stray_reason(const std::string& dir, const PartitionDirName& name) {
  const controller::TopicImage* t = image().topic(name.topic);
  if (t == nullptr) return "topic '" + name.topic + "' is not in the cluster's metadata";
  auto found = read_partition_metadata(rt_, dir);
  // Without a readable id the directory may be this topic's: opening it decides (and an
  // unreadable file stops that partition with an error naming it).
  if (!found || !*found || **found == t->id) return {};
  return earlier_topic(name.topic, **found, t->id);
}

void TopicManager::remove_partition_dir(const std::string& dir, const std::string& why) {
  rt_.warn("topics", "removing stray partition directory " + dir + ": " + why);
  Status s = rt_.fs().remove_all(dir);
  if (s) s = rt_.fs().sync_dir(dir.substr(0, dir.rfind('/')));
  if (!s) rt_.warn("topics", "removing " + dir + ": " + s.to_string());
}

void TopicManager::remove_stray_partitions() {
  for (const std::string& log_dir : config_.log_dirs) {
    auto names = rt_.fs().list_dir(log_dir);
    if (!names) continue;
    for (const std::string& entry : *names) {
      auto name = parse_partition_dir_name(entry);
      std::string dir = log_dir + "/" + entry;
      if (!name || name->topic == kClusterMetadataTopic || !rt_.fs().is_dir(dir)) continue;
      const PartitionReplica* open = find(name->topic, name->partition);
      if (open != nullptr && open->log->dir() == dir) continue;
      std::string why = stray_reason(dir, *name);
      if (!why.empty()) remove_partition_dir(dir, why);
    }
  }
}

void TopicManager::remove_topic(const std::string& name) {
  auto it = topics_.find(name);
  STRATA_ASSERT(it != topics_.end(), "removing a topic this node has");
  for (auto& p : it->second.partitions) {
    if (!p) continue;
    std::string dir = p->log->dir();
    --partitions_per_dir_[dir.substr(0, dir.rfind('/'))];
    uncleanable_.erase(p->key());  // a topic created again under this name starts afresh
    if (cleaning_ && cleaning_->first == name) cleaning_.reset();
    if (Status s = p->log->destroy(log_format::kPartitionMetadataName); !s) {
      rt_.warn("topics", "deleting " + dir + ": " + s.to_string());
    }
  }
  topics_.erase(it);
  ++layout_version_;
}

Status TopicManager::replay_fetched(const controller::MetadataRecord& record, Offset offset) {
  STRATA_ASSERT(!controller_, "the controller node replays its own log");
  return follower_image_.replay(record, offset);
}

controller::BrokerRegistrationReply TopicManager::register_broker(
    const controller::BrokerRegistrationRequest& request) {
  STRATA_ASSERT(controller_ != nullptr, "only the controller registers brokers");
  auto result = controller_->on_broker_registration(request, rt_.now().ms());
  if (Status s = commit(result.records); !s) {
    return {ErrorCode::kKafkaStorageError, -1};
  }
  if (Status s = sync_with_image(); !s) rt_.error("topics", s.to_string());
  if (!result.records.empty()) {
    rt_.info("controller", "registered broker " + std::to_string(request.broker_id.value()) +
                               " with epoch " + std::to_string(result.reply.broker_epoch));
  }
  return result.reply;
}

controller::BrokerHeartbeatReply TopicManager::broker_heartbeat(
    const controller::BrokerHeartbeatRequest& request) {
  STRATA_ASSERT(controller_ != nullptr, "only the controller takes heartbeats");
  auto result = controller_->on_broker_heartbeat(request, rt_.now().ms());
  if (Status s = commit(result.records); !s) {
    controller::BrokerHeartbeatReply failed;
    failed.error = ErrorCode::kKafkaStorageError;
    return failed;
  }
  for (const auto& r : result.records) {
    if (const auto* u = std::get_if<controller::UnfenceBrokerRecord>(&r)) {
      rt_.info("controller", "unfenced broker " + std::to_string(u->broker_id.value()) +
                                 ": caught up with the metadata log");
    }
  }
  if (!result.records.empty()) {
    if (Status s = sync_with_image(); !s) rt_.error("topics", s.to_string());
  }
  return result.reply;
}

controller::ProducerIdsReply TopicManager::allocate_producer_ids(NodeId broker,
                                                                 int64_t broker_epoch) {
  STRATA_ASSERT(controller_ != nullptr, "only the controller hands out producer ids");
  auto result = controller_->on_allocate_producer_ids(broker, broker_epoch);
  if (Status s = commit(result.records); !s) {
    return {ErrorCode::kKafkaStorageError, -1, 0};
  }
  return result.reply;
}

}  // namespace strata::broker
