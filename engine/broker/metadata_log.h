// The broker's metadata log: topic records in `<first log.dir>/__cluster_metadata-0`, a
// partition log of its own, keyed by topic name (see topic_record.h), and the producer id
// blocks handed out to idempotent producers (key "!producer-ids", never a legal topic name;
// value: int16 version 0, int64 end of the last block claimed). Every write is synced
// before it returns, so an acknowledged CreateTopics survives a crash. On start the log is
// replayed to rebuild the topic table. (A later controller quorum will replicate this log.)
//
// Also owns `meta.properties` in each log dir (cluster.id, node.id), as Kafka does, and
// refuses to start when a dir belongs to another node.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "engine/broker/topic_record.h"
#include "engine/runtime/runtime.h"
#include "engine/storage/partition_log.h"

namespace strata::broker {

// Kafka's name for its metadata topic. This log lives where partition 0 of a topic so named
// would, so no client may create one (Kafka refuses it too).
inline constexpr std::string_view kClusterMetadataTopic = "__cluster_metadata";

// What replaying the metadata log yields.
struct MetadataImage {
  std::map<std::string, TopicRecord> topics;
  // The first producer id no block has handed out yet (Kafka's ProducerIdsRecord).
  int64_t next_producer_id_block = 0;
};

class MetadataLog {
 public:
  MetadataLog(Runtime& runtime, std::string dir) : rt_(runtime), dir_(std::move(dir)) {}

  // Opens (recovering) the log and replays it. Corrupt records are skipped with a warning.
  Result<MetadataImage> open();
  Status put(const TopicRecord& record);
  Status remove(const std::string& topic);
  // Claims the producer ids below `block_end`: no later start hands any of them out again.
  Status put_producer_id_block(int64_t block_end);
  Status close();

 private:
  Status append(const std::string& key, std::optional<Bytes> value);

  Runtime& rt_;
  std::string dir_;
  std::unique_ptr<PartitionLog> log_;
};

// Reads or creates meta.properties in `log_dir`; returns the cluster id. `cluster_id` from the
// config (may be empty) must match an existing one.
Result<std::string> ensure_meta_properties(Runtime& runtime, const std::string& log_dir,
                                           int32_t node_id, const std::string& cluster_id);

}  // namespace strata::broker
