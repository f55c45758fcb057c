// partition.metadata: the topic id a partition directory belongs to (KIP-516). A topic
// deleted while this broker was down and created again under the same name has a new id,
// so a directory left from the old topic is told apart from the new one's and removed
// instead of being served as its data.
#pragma once

#include <optional>
#include <string>

#include "engine/base/status.h"
#include "engine/controller/metadata_records.h"
#include "engine/runtime/runtime.h"
#include "engine/storage/log_format.h"

namespace strata::broker {

// The id in `dir`/partition.metadata; nullopt when there is no such file (a directory of an
// older strata, or one a crash caught before the file was written). A file that is there but
// unreadable is a corruption error naming it.
Result<std::optional<controller::TopicId>> read_partition_metadata(Runtime& rt,
                                                                   const std::string& dir);
Status write_partition_metadata(Runtime& rt, const std::string& dir, const controller::TopicId& id);

// Why a directory of `topic` whose partition.metadata names `found` is not the topic's now.
std::string earlier_topic(const std::string& topic, const controller::TopicId& found,
                          const controller::TopicId& now);

// "<topic>-<partition>" → the two parts; nullopt for any other name.
struct PartitionDirName {
  std::string topic;
  int32_t partition = 0;
};
std::optional<PartitionDirName> parse_partition_dir_name(const std::string& name);

}  // namespace strata::broker
