// The cluster metadata log: `<first log.dir>/__cluster_metadata-0`, a partition log of its
// own whose records are the controller's (engine/controller/metadata_records.h), one per
// record value, without keys. The controller's decisions are appended as one batch per
// operation, synced before the operation is acknowledged, so a crash keeps all of one
// operation or none of it. On start every record is replayed, in order, into the controller.
//
// Logs written by strata before the controller existed hold keyed records instead: a topic
// record per topic name (topic_record.h, a tombstone deletes it) and "!producer-ids" blocks.
// open() gathers those into LegacyMetadata so that the broker can carry them over.
//
// Also owns `meta.properties` in each log dir (cluster.id, node.id), as Kafka does, and
// refuses to start when a dir belongs to another node.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/broker/topic_record.h"
#include "engine/controller/metadata_records.h"
#include "engine/runtime/runtime.h"
#include "engine/storage/partition_log.h"

namespace strata::broker {

// Kafka's name for its metadata topic. This log lives where partition 0 of a topic so named
// would, so no client may create one (Kafka refuses it too).
inline constexpr std::string_view kClusterMetadataTopic = "__cluster_metadata";

// What the keyed records of an older strata said.
struct LegacyMetadata {
  std::map<std::string, TopicRecord> topics;
  int64_t next_producer_id_block = 0;
  bool present = false;  // the log held at least one keyed record
};

class MetadataLog {
 public:
  using ReplayFn = std::function<Status(const controller::MetadataRecord&, Offset)>;

  MetadataLog(Runtime& runtime, std::string dir) : rt_(runtime), dir_(std::move(dir)) {}

  // Opens (recovering) the log and passes each controller record to `replay` in log order.
  // A record that does not decode, or that `replay` refuses, stops the open with an error
  // naming its offset: a broker must not run on a metadata log it cannot read.
  Status open(const ReplayFn& replay, LegacyMetadata* legacy);
  // Appends `records` as one batch and syncs it. They must land at `first_offset` on: the
  // offsets the controller gave them.
  Status append(const std::vector<controller::MetadataRecord>& records, Offset first_offset);
  Offset log_end_offset() const;
  // Whole batches from `from` (brokers fetching the log), at most `max_bytes` after the first.
  Result<ReadResult> read(Offset from, int32_t max_bytes);
  Status close();

 private:
  Runtime& rt_;
  std::string dir_;
  std::unique_ptr<PartitionLog> log_;
};

// Reads or creates meta.properties in `log_dir`; returns the cluster id. `cluster_id` from the
// config (may be empty) must match an existing one.
Result<std::string> ensure_meta_properties(Runtime& runtime, const std::string& log_dir,
                                           int32_t node_id, const std::string& cluster_id);

}  // namespace strata::broker
