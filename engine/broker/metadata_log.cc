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

}  // namespace

Result<MetadataImage> MetadataLog::open() {
  STRATA_ASSIGN_OR_RETURN(log_, PartitionLog::open(rt_, dir_, metadata_log_config()));
  MetadataImage image;
  auto& topics = image.topics;
  Offset at = log_->log_start_offset();
  while (at < log_->log_end_offset()) {
    STRATA_ASSIGN_OR_RETURN(ReadResult read,
                            log_->read(at, kReplayReadBytes, log_->log_end_offset()));
    if (read.batch_count == 0) break;
    BatchSplitter split(read.records);
    while (auto batch = split.next()) {
      auto records = decode_records(*batch);
      if (!records) {
        rt_.warn("metadata", "skipping unreadable metadata batch: " + records.status().message());
        continue;
      }
      for (const Record& r : *records) {
        if (!r.key) continue;
        std::string name(as_chars(*r.key));
        if (name == kProducerIdsKey) {
          if (!r.value || r.value->size() != kProducerIdsValueSize ||
              load_be16(r.value->data()) != 0) {
            rt_.warn("metadata", "skipping a malformed producer id block record");
            continue;
          }
          image.next_producer_id_block = int64_t(load_be64(r.value->data() + 2));
          continue;
        }
        if (!r.value) {
          topics.erase(name);
          continue;
        }
        auto rec = decode_topic_record_value(name, *r.value);
        if (!rec) {
          rt_.warn("metadata", rec.status().message());
          continue;
        }
        topics[name] = std::move(*rec);
      }
    }
    at = read.next_offset;
  }
  return image;
}

Status MetadataLog::append(const std::string& key, std::optional<Bytes> value) {
  STRATA_ASSERT(log_ != nullptr, "metadata log used before open()");
  RecordBatchBuilder builder;
  std::optional<ByteSpan> v;
  if (value) v = ByteSpan(*value);
  builder.add(rt_.wall_clock_ms(), as_bytes(key), v);
  STRATA_ASSIGN_OR_RETURN(Bytes batch, builder.build());
  STRATA_ASSIGN_OR_RETURN(AppendResult appended,
                          log_->append(batch, LeaderEpoch(0), rt_.wall_clock_ms()));
  (void)appended;
  return ok_status();
}

Status MetadataLog::put(const TopicRecord& record) {
  return append(record.name, encode_topic_record_value(record));
}

Status MetadataLog::remove(const std::string& topic) { return append(topic, std::nullopt); }

Status MetadataLog::put_producer_id_block(int64_t block_end) {
  Bytes value(kProducerIdsValueSize);
  store_be16(value.data(), 0);
  store_be64(value.data() + 2, uint64_t(block_end));
  return append(std::string(kProducerIdsKey), std::move(value));
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
  if (id.empty()) {
    static constexpr char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (int i = 0; i < 22; ++i) id.push_back(kAlphabet[rt.random_below(64)]);
  }
  std::string text = "# written by strata on first start\nversion=1\ncluster.id=" + id +
                     "\nnode.id=" + std::to_string(node_id) + "\n";
  STRATA_RETURN_IF_ERROR(replace_file(rt.fs(), log_dir, path, as_bytes(text)));
  return id;
}

}  // namespace strata::broker
