#include "engine/broker/offsets_topic.h"

#include "engine/protocol/record_batch.h"

namespace strata::broker {
namespace {

// How much of a partition one read covers while loading.
constexpr int32_t kLoadReadBytes = 4 * 1024 * 1024;

}  // namespace

OffsetsTopic::OffsetsTopic(Runtime& runtime, TopicManager& topics,
                           const group::GroupConfig& config,
                           std::function<void(PartitionReplica&)> on_appended,
                           std::function<void()> ensure_topic)
    : rt_(runtime), topics_(topics), config_(config), on_appended_(std::move(on_appended)),
      ensure_topic_(std::move(ensure_topic)) {}

int32_t OffsetsTopic::partition_count() const {
  const auto& all = topics_.topics();
  auto it = all.find(std::string(group::kOffsetsTopic));
  if (it != all.end()) return static_cast<int32_t>(it->second.partitions.size());
  return config_.offsets_topic_num_partitions;
}

CreateTopicSpec OffsetsTopic::spec() const {
  CreateTopicSpec spec;
  spec.name = std::string(group::kOffsetsTopic);
  spec.partitions = config_.offsets_topic_num_partitions;
  spec.configs = {{"cleanup.policy", "compact"},
                  {"compression.type", "producer"},
                  {"segment.bytes", std::to_string(config_.offsets_topic_segment_bytes)}};
  return spec;
}

Result<PartitionReplica*> OffsetsTopic::partition(int32_t index) {
  if (topics_.find(std::string(group::kOffsetsTopic)) == nullptr) ensure_topic_();
  PartitionReplica* p = topics_.find(std::string(group::kOffsetsTopic), index);
  if (p == nullptr) {
    return Status::unavailable(std::string(group::kOffsetsTopic) + "-" + std::to_string(index) +
                               " is not held by this broker");
  }
  return p;
}

void OffsetsTopic::append(int32_t partition, std::vector<group::OffsetsRecord> records,
                          std::function<void(Status)> done) {
  auto p = this->partition(partition);
  if (!p) return done(p.status());
  PartitionReplica& replica = **p;
  RecordBatchBuilder builder;
  int64_t now = rt_.wall_clock_ms();
  for (const group::OffsetsRecord& r : records) {
    std::optional<ByteSpan> value;
    if (r.value) value = ByteSpan(*r.value);
    builder.add(now, ByteSpan(r.key), value);
  }
  auto batch = builder.build();
  if (!batch) return done(batch.status());
  auto appended = replica.log->append(*batch, replica.leader_epoch, now);
  if (!appended) {
    rt_.error("group", replica.key() + ": append failed: " + appended.status().to_string());
    return done(appended.status());
  }
  on_appended_(replica);
  done(ok_status());
}

Status OffsetsTopic::load(group::GroupCoordinator& coordinator) {
  coordinator.set_partition_count(partition_count());
  const Topic* topic = topics_.find(std::string(group::kOffsetsTopic));
  if (topic != nullptr) {
    for (const auto& p : topic->partitions) {
      if (p) STRATA_RETURN_IF_ERROR(replay_partition(coordinator, *p));
    }
  }
  coordinator.finish_load();
  return ok_status();
}

Status OffsetsTopic::load_new_partitions(group::GroupCoordinator& coordinator) {
  const Topic* topic = topics_.find(std::string(group::kOffsetsTopic));
  if (topic == nullptr || topic->partitions.empty()) return ok_status();
  coordinator.set_partition_count(int32_t(topic->partitions.size()));
  Status first;
  std::string taken;
  for (const auto& p : topic->partitions) {
    if (!p || loaded_.contains(p->index)) continue;
    if (p->log->log_end_offset() == p->log->log_start_offset()) {
      // Nothing to replay: a partition just created. (Created by this broker's own first
      // append, the coordinator is in the middle of an operation on one of its groups, which
      // finishing a load would disturb.)
      loaded_.insert(p->index);
    } else if (Status s = replay_partition(coordinator, *p); !s) {
      rt_.error("group", p->key() + ": not loaded: " + s.to_string());
      if (first.is_ok()) first = s;
      continue;
    } else {
      coordinator.finish_load(p->index);
    }
    taken += (taken.empty() ? "" : ",") + std::to_string(p->index);
  }
  if (!taken.empty()) {
    rt_.info("group", "coordinating the groups of " + std::string(group::kOffsetsTopic) +
                          " partitions " + taken);
  }
  return first;
}

Status OffsetsTopic::replay_partition(group::GroupCoordinator& coordinator, PartitionReplica& p) {
  Offset next = p.log->log_start_offset();
  Offset end = p.log->log_end_offset();
  while (next < end) {
    STRATA_ASSIGN_OR_RETURN(ReadResult read, p.log->read(next, kLoadReadBytes, end));
    if (read.batch_count == 0) break;
    BatchSplitter batches(read.records);
    while (auto batch = batches.next()) {
      STRATA_ASSIGN_OR_RETURN(BatchHeader header, parse_batch_header(*batch));
      if (header.control()) continue;
      auto records = decode_records(*batch);
      if (!records) {
        return Status::corruption(p.key() + " at offset " + std::to_string(header.base_offset) +
                                  ": " + records.status().message());
      }
      for (const Record& r : *records) {
        if (header.base_offset + r.offset_delta < next.value()) continue;
        if (!r.key) continue;
        std::optional<ByteSpan> value;
        if (r.value) value = ByteSpan(*r.value);
        coordinator.replay(*r.key, value);
      }
    }
    STRATA_RETURN_IF_ERROR(batches.tail_status());
    next = read.next_offset;
  }
  loaded_.insert(p.index);
  return ok_status();
}

}  // namespace strata::broker
