#include "engine/broker/metadata_log.h"

#include "engine/broker/properties.h"
#include "engine/protocol/record_batch.h"

namespace strata::broker {
namespace {

constexpr int32_t kReplayReadBytes = 1 << 20;
constexpr std::string_view kProducerIdsKey = "!producer-ids";
constexpr size_t kProducerIdsValueSize = 2 + 8;

LogConfig metadata_log_config() {
  LogConfig c;
  c.segment_bytes = 8 << 20;
  c.flush_interval_messages = 1;  // every topic change is durable before it is acknowledged
  c.retention_ms = -1;
  c.retention_bytes = -1;
  return c;
}

// A keyed record of the format before the controller.
void gather_legacy(Runtime& rt, const Record& r, LegacyMetadata* legacy) {
  legacy->present = true;
  std::string name(as_chars(*r.key));
  if (name == kProducerIdsKey) {
    if (!r.value || r.value->size() != kProducerIdsValueSize || load_be16(r.value->data()) != 0) {
      rt.warn("metadata", "skipping a malformed producer id block record");
      return;
    }
    legacy->next_producer_id_block = int64_t(load_be64(r.value->data() + 2));
    return;
  }
  if (!r.value) {
    legacy->topics.erase(name);
    return;
  }
  auto rec = decode_topic_record_value(name, *r.value);
  if (!rec) {
    rt.warn("metadata", rec.status().message());
    return;
  }
  legacy->topics[name] = std::move(*rec);
}

}  // namespace

Status MetadataLog::open(const ReplayFn& replay, LegacyMetadata* legacy) {
  STRATA_ASSIGN_OR_RETURN(log_, PartitionLog::open(rt_, dir_, metadata_log_config()));
  Offset at = log_->log_start_offset();
  while (at < log_->log_end_offset()) {
    STRATA_ASSIGN_OR_RETURN(ReadResult read,
                            log_->read(at, kReplayReadBytes, log_->log_end_offset()));
    if (read.batch_count == 0) break;
    BatchSplitter split(read.records);
    while (auto batch = split.next()) {
      auto header = parse_batch_header(*batch);
      auto records = decode_records(*batch);
      if (!header || !records) {
        return Status::corruption(dir_ + ": unreadable metadata batch after offset " +
                                  std::to_string(at.value()) + ": " +
                                  (header ? records.status() : header.status()).message());
      }
      for (const Record& r : *records) {
        const Offset offset = header->base() + r.offset_delta;
        if (r.key) {
          gather_legacy(rt_, r, legacy);
          continue;
        }
        std::string where = dir_ + ": metadata record at offset " +
                            std::to_string(offset.value()) + ": ";
        if (!r.value) return Status::corruption(where + "has no value");
        auto record = controller::decode_metadata_record(*r.value);
        if (!record) return Status::corruption(where + record.status().message());
        if (Status s = replay(*record, offset); !s) {
          return Status::corruption(where + s.message());
        }
      }
    }
    at = read.next_offset;
  }
  return ok_status();
}

Status MetadataLog::append(const std::vector<controller::MetadataRecord>& records,
                           Offset first_offset) {
  STRATA_ASSERT(log_ != nullptr, "metadata log used before open()");
  if (records.empty()) return ok_status();
  if (first_offset != log_->log_end_offset()) {
    return Status::invalid_argument("metadata records for offset " +
                                    std::to_string(first_offset.value()) +
                                    " but the log ends at " +
                                    std::to_string(log_->log_end_offset().value()));
  }
  RecordBatchBuilder builder;
  std::vector<Bytes> values;
  values.reserve(records.size());
  for (const auto& record : records) {
    values.push_back(controller::encode_metadata_record(record));
    builder.add(rt_.wall_clock_ms(), std::nullopt, ByteSpan(values.back()));
  }
  STRATA_ASSIGN_OR_RETURN(Bytes batch, builder.build());
  STRATA_ASSIGN_OR_RETURN(AppendResult appended,
                          log_->append(batch, LeaderEpoch(0), rt_.wall_clock_ms()));
  STRATA_ASSERT(appended.first_offset == first_offset, "the batch landed where it was planned");
  return ok_status();
}

Result<ReadResult> MetadataLog::read(Offset from, int32_t max_bytes) {
  STRATA_ASSERT(log_ != nullptr, "metadata log used before open()");
  return log_->read(from, max_bytes, log_->log_end_offset());
}

Offset MetadataLog::log_end_offset() const {
  STRATA_ASSERT(log_ != nullptr, "metadata log used before open()");
  return log_->log_end_offset();
}

Status MetadataLog::close() {
  if (!log_) return ok_status();
  Status s = log_->close();
  log_.reset();
  return s;
}

Result<std::string> ensure_meta_properties(Runtime& rt, const std::string& log_dir,
                                           int32_t node_id, const std::string& cluster_id) {
  const std::string path = log_dir + "/meta.properties";
  STRATA_RETURN_IF_ERROR(rt.fs().create_dirs(log_dir));
  if (rt.fs().exists(path)) {
    STRATA_ASSIGN_OR_RETURN(std::string text, read_file_text(rt.fs(), path));
    STRATA_ASSIGN_OR_RETURN(auto entries, parse_properties(text, path));
    std::string found_cluster, found_node;
    for (const auto& e : entries) {
      if (e.key == "cluster.id") found_cluster = e.value;
      if (e.key == "node.id") found_node = e.value;
    }
    if (found_node != std::to_string(node_id)) {
      return Status::invalid_argument(path + " belongs to node.id=" + found_node +
                                      ", but this broker is node.id=" +
                                      std::to_string(node_id));
    }
    if (!cluster_id.empty() && found_cluster != cluster_id) {
      return Status::invalid_argument(path + " has cluster.id=" + found_cluster +
                                      ", but the configuration says " + cluster_id);
    }
    return found_cluster;
  }
  std::string id = cluster_id;
  if (id.empty()) {  // a random UUID in Kafka's text form, as kafka-storage random-uuid prints
    controller::TopicId uuid;
    rt.random_bytes(uuid);
    id = controller::to_base64url(uuid);
  }
  std::string text = "# written by strata on first start\nversion=1\ncluster.id=" + id +
                     "\nnode.id=" + std::to_string(node_id) + "\n";
  STRATA_RETURN_IF_ERROR(replace_file(rt.fs(), log_dir, path, as_bytes(text)));
  return id;
}

}  // namespace strata::broker
