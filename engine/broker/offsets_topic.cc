#include "engine/broker/offsets_topic.h"

#include "engine/protocol/record_batch.h"

namespace strata::broker {
namespace {

// How much of a partition one read covers while loading.
constexpr int32_t kLoadReadBytes = 4 * 1024 * 1024;

}  // namespace

OffsetsTopic::OffsetsTopic(Runtime& runtime, TopicManager& topics,
                           const group::GroupConfig& config,
                           std::function<void(PartitionReplica&)> on_appended)
    : rt_(runtime), topics_(topics), config_(config), on_appended_(std::move(on_appended)) {}

int32_t OffsetsTopic::partition_count() const {
  const auto& all = topics_.topics();
  auto it = all.find(std::string(group::kOffsetsTopic));
  if (it != all.end()) return static_cast<int32_t>(it->second.partitions.size());
  return config_.offsets_topic_num_partitions;
}

Result<PartitionReplica*> OffsetsTopic::partition(int32_t index) {
  std::string name(group::kOffsetsTopic);
  if (topics_.find(name) == nullptr) {
    CreateTopicSpec spec;
    spec.name = name;
    // Every partition on this node, the controller's: group coordination stays on the node
    // that created the topic until partitions can move (no replication yet).
    for (int32_t i = 0; i < config_.offsets_topic_num_partitions; ++i) {
      spec.assignments[i] = {topics_.node_id()};
    }
    spec.configs = {{"cleanup.policy", "compact"},
                    {"compression.type", "producer"},
                    {"segment.bytes", std::to_string(config_.offsets_topic_segment_bytes)}};
    AdminError err = topics_.create_topic(spec);
    if (!err.ok()) {
      return Status::unavailable("creating " + name + " failed: " + err.message);
    }
    rt_.info("group", "created " + name + " with " + std::to_string(spec.assignments.size()) +
                          " partitions");
  }
  PartitionReplica* p = topics_.find(name, index);
  if (p == nullptr) {
    return Status::unavailable(name + " has no partition " + std::to_string(index));
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
      if (!p) continue;
      Offset next = p->log->log_start_offset();
      Offset end = p->log->log_end_offset();
      while (next < end) {
        STRATA_ASSIGN_OR_RETURN(ReadResult read, p->log->read(next, kLoadReadBytes, end));
        if (read.batch_count == 0) break;
        BatchSplitter batches(read.records);
        while (auto batch = batches.next()) {
          STRATA_ASSIGN_OR_RETURN(BatchHeader header, parse_batch_header(*batch));
          if (header.control()) continue;
          auto records = decode_records(*batch);
          if (!records) {
            return Status::corruption(p->key() + " at offset " +
                                      std::to_string(header.base_offset) + ": " +
                                      records.status().message());
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
    }
  }
  coordinator.finish_load();
  return ok_status();
}

}  // namespace strata::broker
